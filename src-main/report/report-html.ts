/** ReportData → the self-contained HTML report: pictures encoded (sharp), then the pure renderer. */
import { encodeAssets } from './assets';
import { renderReportHtml } from './render-html';
import type { ReportData } from './report-data';

export async function reportHtml(data: ReportData): Promise<string> {
  return renderReportHtml(data, await encodeAssets(data));
}
