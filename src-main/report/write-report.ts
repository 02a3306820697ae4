/** Writing a report to a file, its format chosen by the file's extension (.html/.htm or .pdf). */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../engine/errors';
import type { PrintToPdf } from './chromium';
import { reportHtml } from './report-html';
import type { ReportData } from './report-data';

export type ReportFormat = 'html' | 'pdf';

export function reportFormat(file: string): ReportFormat | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.pdf') return 'pdf';
  return null;
}

/** The PDF of a report; `print` is Chromium's (CLI) or Electron's webContents.printToPDF (desktop). */
export async function reportPdf(data: ReportData, print: PrintToPdf): Promise<Uint8Array> {
  return print(await reportHtml(data));
}

/** Writes `data` to `file` and returns its size in bytes. `print` is only called for a PDF. */
export async function writeReport(data: ReportData, file: string, print: () => PrintToPdf): Promise<number> {
  const format = reportFormat(file);
  if (!format) throw new EngineError('invalid-request', `${path.basename(file)}: a report is written as .html or .pdf.`);
  const bytes = format === 'html' ? Buffer.from(await reportHtml(data)) : await reportPdf(data, print());
  await writeFile(file, bytes);
  return bytes.byteLength;
}
