import { describe, expect, it } from 'vitest';
import type { RawMap } from '../../../src-shared/cam';
import { EngineError } from '../../../src-main/engine/errors';
import { encodeAssets } from '../../../src-main/report/assets';
import { findChromium } from '../../../src-main/report/chromium';
import { esc } from '../../../src-main/report/escape';
import { colorDimPixels, panePixels } from '../../../src-main/report/pixels';
import { renderReportHtml, SECTIONS } from '../../../src-main/report/render-html';
import { DEFAULT_DISPLAY } from '../../../src-main/report/report-data';
import { reportFormat } from '../../../src-main/report/write-report';
import { renderPane } from '../../../src-renderer/src/cam/render-pane';
import { colorDimPixels as studioColorDim } from '../../../src-renderer/src/stats/plot-math';
import { EVIL, syntheticReport } from './synthetic-report';

async function render(shown: number, total: number): Promise<string> {
  const data = await syntheticReport(shown, total);
  return renderReportHtml(data, await encodeAssets(data));
}

describe('report HTML', () => {
  it('escapes every user-controlled string', async () => {
    const html = await render(2, 2);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img src=x');
    // No attribute named like an event handler anywhere: with the (escaped) attribute values taken out,
    // hostile text cannot have opened a tag or an attribute.
    const tags = html.replace(/"[^"]*"/g, '""');
    expect(tags).not.toMatch(/<[^>]*\son\w+=/i);
    expect(tags.match(/<img\b/g)?.length).toBe(html.match(/<img src="data:image\//g)?.length);
    expect(html).toContain(esc(EVIL));
    expect(esc(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('refers to nothing outside itself', async () => {
    const html = await render(2, 2);
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^(data:image\/(jpeg|png);base64,|#[\w-]+$)/);
    expect(html).not.toMatch(/url\((?!#)/);
    expect(html).not.toMatch(/@import|<link|<iframe|<object|<embed/i);
    expect(html).toContain(`content="default-src &#39;none&#39;; img-src data:;`);
  });

  it('has every section, a pane per computed map and a reason per unavailable one', async () => {
    const html = await render(2, 2);
    // The data-set section belongs to interpretation runs (test/src-main/hosts/cli/interpret.test.ts).
    for (const section of SECTIONS.filter((s) => s !== 'dataset')) expect(html).toContain(`data-section="${section}"`);
    expect(html.match(/data-section="image"/g)).toHaveLength(2);
    // 2 images × 2 layers × gradcam; CAM is unavailable at both layers, named once per image with its reason.
    expect(html.match(/data-testid="pane"/g)).toHaveLength(4);
    expect(html.match(/class="na"/g)).toHaveLength(4);
    expect(html).toContain(`${esc(EVIL)} needs global pooling`);
    expect(html).not.toContain('data-testid="cap-note"');
  });

  it('says how many images a capped run shows', async () => {
    const html = await render(2, 5);
    expect(html).toMatch(/2 of 5 images\s+shown: the report keeps the first 2 to stay small; the statistics cover every image/);
    expect(html.match(/data-section="image"/g)).toHaveLength(2);
  });

  it('leaves the statistics section out when there are none', async () => {
    const data = await syntheticReport(1, 1);
    data.stats = null;
    const html = renderReportHtml(data, await encodeAssets(data));
    expect(html).not.toContain('data-section="stats"');
    expect(html).toContain('data-section="run"');
  });
});

describe('report pictures', () => {
  it('draws panes exactly as the studio does', () => {
    const map: RawMap = { width: 3, height: 2, data: Float32Array.from([-1, 0, 2, 5, 1, -3]) };
    const rgb = Uint8Array.from({ length: 9 * 7 * 3 }, (_, i) => (i * 37) % 256);
    for (const scaling of ['relu', 'signed'] as const) {
      for (const upsampling of ['bilinear', 'nearest'] as const) {
        const display = { ...DEFAULT_DISPLAY, scaling, upsampling };
        const studio = renderPane(map, { rgb, width: 9, height: 7 }, 9, 7, display).pixels;
        expect(panePixels(map, rgb, 9, 7, display)).toEqual(studio);
      }
    }
  });

  it('draws the colorful dimension exactly as the studio does', () => {
    const hists = Float32Array.from({ length: 3 * 5 }, (_, i) => (i * 13) % 11);
    const studio = studioColorDim(hists, 3, 5, 'viridis');
    const ours = colorDimPixels(hists, 3, 5, 'viridis');
    const rgb = studio.filter((_, i) => i % 4 !== 3);
    expect(Array.from(ours)).toEqual(Array.from(rgb));
  });
});

describe('finding Chromium', () => {
  it('says what to install when there is none', () => {
    expect(() => findChromium({}, 'win32')).toThrow(EngineError);
    expect(() => findChromium({}, 'win32')).toThrow(/install Google Chrome or Microsoft Edge.*LAYERLENS_CHROMIUM/);
  });

  it('honours LAYERLENS_CHROMIUM and CHROME_PATH, and rejects a path that does not exist', () => {
    expect(findChromium({ CHROME_PATH: process.execPath }, 'linux')).toBe(process.execPath);
    expect(() => findChromium({ LAYERLENS_CHROMIUM: '/nonexistent/chrome' }, 'linux')).toThrow(
      /LAYERLENS_CHROMIUM.*does not exist/,
    );
  });

  it('chooses the format from the extension', () => {
    expect(reportFormat('a/b.HTML')).toBe('html');
    expect(reportFormat('r.htm')).toBe('html');
    expect(reportFormat('r.pdf')).toBe('pdf');
    expect(reportFormat('r.txt')).toBeNull();
  });
});
