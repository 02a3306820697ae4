/** The report's trust section: the metrics table with its random-map rows, the sanity curves and verdicts, escaped. */
import { describe, expect, it } from 'vitest';
import { encodeAssets } from '../../../src-main/report/assets';
import { esc } from '../../../src-main/report/escape';
import { renderReportHtml } from '../../../src-main/report/render-html';
import { fromResults } from '../../../src-main/report/trust-section';
import { EVIL, syntheticReport, syntheticTrust } from './synthetic-report';

describe('report trust section', () => {
  it('shows the averaged metrics beside the random map, the sanity curves and the verdicts', async () => {
    const data = await syntheticReport(1, 1);
    const result = syntheticTrust();
    data.trust = fromResults(result, 7, result, 8);
    const html = renderReportHtml(data, await encodeAssets(data));
    const section = html.slice(
      html.indexOf('data-section="trust"'),
      html.indexOf('</section>', html.indexOf('data-section="trust"')),
    );
    expect(section).toContain('Averaged over 2 images (run #7)');
    // Mean deletion AUC of 0.2 and 0.4, pointing on one of two boxed images.
    expect(section).toMatch(
      /Grad-CAM<\/td>\s*<td>0\.300<\/td>\s*<td>0\.800<\/td>\s*<td>10\.0%<\/td>\s*<td>0%<\/td>\s*<td>50%<\/td>/,
    );
    expect(section).toMatch(/random map<\/td>\s*<td>0\.500<\/td>/);
    expect(section).toContain('<b>Grad-CAM</b>: passes');
    expect(section).toContain('(run #8)');
    expect(section.match(/<path/g)).toHaveLength(1);
    expect(section).not.toContain(EVIL);
    expect(section).toContain(esc(EVIL));
    expect(html).toContain('href="#trust"');
  });

  it('is left out when no trust run is part of the report', async () => {
    const data = { ...(await syntheticReport(1, 1)), trust: null };
    const html = renderReportHtml(data, await encodeAssets(data));
    expect(html).not.toContain('data-section="trust"');
    expect(html).not.toContain('href="#trust"');
  });
});
