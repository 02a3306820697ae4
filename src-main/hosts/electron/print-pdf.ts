/**
 * Reports to PDF with the app's own Chromium: the report's HTML in a hidden, sandboxed window with
 * JavaScript off (the report has no script and loads nothing), printed with its own CSS page size.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserWindow } from 'electron';
import { SECURE_WEB_PREFERENCES } from '../security-policy';

export async function printHtmlToPdf(html: string): Promise<Uint8Array> {
  // A file, not a data: URL (Chromium caps URLs at 2 MB; a report with many images is larger).
  const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-print-'));
  const page = path.join(dir, 'report.html');
  const win = new BrowserWindow({ show: false, webPreferences: { ...SECURE_WEB_PREFERENCES, javascript: false } });
  try {
    await writeFile(page, html);
    await win.loadFile(page);
    const pdf = await win.webContents.printToPDF({ printBackground: true, preferCSSPageSize: true });
    return new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  } finally {
    win.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
