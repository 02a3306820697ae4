/** The engine's `exportReport`: stored runs gathered through the API, written as HTML or printed to PDF. */
import type { EngineApi, ExportedFile, ReportFormat } from '../../src-shared/api';
import type { RunId } from '../../src-shared/runs';
import { chromiumPrinter, type PrintToPdf } from './chromium';
import { gatherRunsReport } from './from-runs';
import { reportHtml } from './report-html';

/** A report writer for `Engine`'s options; PDFs are printed by `printToPdf` (default: an installed Chromium). */
export function reportWriter(
  printToPdf: PrintToPdf = chromiumPrinter(),
): (api: EngineApi, req: { runIds: RunId[]; format: ReportFormat }) => Promise<ExportedFile> {
  return async (api, req) => {
    const data = await gatherRunsReport(api, req.runIds);
    const html = await reportHtml(data);
    const base = `${data.model.name.replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '_')}-report`;
    if (req.format === 'html') return { name: `${base}.html`, mime: 'text/html', bytes: new TextEncoder().encode(html) };
    return { name: `${base}.pdf`, mime: 'application/pdf', bytes: await printToPdf(html) };
  };
}
