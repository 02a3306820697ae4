/**
 * The report of the demo model, as a user gets it: opened in Chromium it loads nothing but itself and logs
 * no error, every section is there (checked in the DOM), and its PDF has the expected pages (checked with
 * poppler's pdftotext: `apt-get install poppler-utils`, which .ci/run does).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAM_METHOD_LABELS, type CamMethod } from '../../../src-shared/cam';
import { Engine } from '../../../src-main/engine/engine';
import { chromiumPrinter } from '../../../src-main/report/chromium';
import { gatherReport } from '../../../src-main/report/gather';
import { SECTIONS } from '../../../src-main/report/render-html';
import type { ReportData } from '../../../src-main/report/report-data';
import { reportHtml } from '../../../src-main/report/report-html';
import { CHROMIUM_ARGS, chromiumPath } from '../../e2e/support/chromium';

const DEMO = path.resolve('resources/demo');
const SAMPLES = [
  '01-star.png',
  '02-circle.png',
  '03-square.png',
  '04-triangle.png',
  '05-cross.png',
  '06-hexagon.png',
  '07-star.png',
  '08-triangle.png',
].map((f) => path.join(DEMO, 'samples', f));
const METHODS: CamMethod[] = ['cam', 'gradcam', 'layercam'];
/** The analysis and a browser start take seconds; far more on a machine busy with the whole suite. */
const HOOK_TIMEOUT_MS = 240_000;

let dir: string;
let data: ReportData;
let html: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-report-test-'));
  const engine = await Engine.create({ device: 'cpu', database: null });
  try {
    data = await gatherReport(engine, {
      modelPath: path.join(DEMO, 'layerlens-demo.onnx'),
      images: SAMPLES,
      methods: METHODS,
      layers: ['stages'],
      classIndex: 'top',
      counterfactual: false,
      stats: { bins: 40, range: [0, 10] },
      trust: true,
      maxImages: 24,
      device: 'cpu',
    });
  } finally {
    engine.dispose();
  }
  html = await reportHtml(data);
  file = path.join(dir, 'report.html');
  await writeFile(file, html);
}, HOOK_TIMEOUT_MS);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the demo report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, '--headless'] });
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
  });

  it('loads nothing but itself, logs no error and has every section', async () => {
    const page = await browser.newPage();
    const url = pathToFileURL(file).href;
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url, { waitUntil: 'load' });

    expect(requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([]);
    expect(errors).toEqual([]);

    // The data-set section belongs to interpretation runs (test/src-main/hosts/cli/interpret.test.ts).
    for (const section of SECTIONS.filter((s) => s !== 'dataset'))
      expect(await page.locator(`[data-section="${section}"]`).count(), section).toBe(1);
    expect(await page.locator('[data-testid="stages"] tbody tr').count()).toBe(data.model.stages.length);
    expect(await page.locator('[data-testid="prediction-card"]').count()).toBe(SAMPLES.length);

    const articles = page.locator('article[data-section="image"]');
    expect(await articles.count()).toBe(SAMPLES.length);
    for (const [i, image] of data.images.entries()) {
      const article = articles.nth(i);
      expect(await article.getAttribute('data-image')).toBe(path.basename(SAMPLES[i] as string));
      expect(await article.locator('[data-testid="top5"] .bar').count()).toBe(5);
      const maps = image.cam.layers.reduce((n, l) => n + METHODS.filter((m) => l.maps[m]).length, 0);
      expect(maps).toBeGreaterThan(image.cam.layers.length);
      expect(await article.locator('[data-testid="pane"]').count()).toBe(maps);
      expect(await article.locator('.na').count()).toBe(image.cam.layers.length * METHODS.length - maps);
      expect(await article.locator('.col').allTextContents()).toEqual(METHODS.map((m) => CAM_METHOD_LABELS[m]));
      expect(await article.textContent()).toContain(`Explaining ${image.cam.label}`);
    }
    // Every picture decoded (a broken data: URI would show as an empty image).
    const broken = await page.$$eval('img', (imgs) => imgs.filter((img) => !img.complete || img.naturalWidth === 0).length);
    expect(broken).toBe(0);

    const stats = data.stats;
    expect(stats).not.toBeNull();
    expect(await page.locator('[data-testid="stats-plots"] svg.chart').count()).toBe(3);
    expect(await page.locator('[data-testid="stats-plots"] circle.dot').count()).toBe(3 * (stats?.layers.length ?? 0));
    expect(await page.locator('[data-testid="colordim"]').evaluateAll((f) => f.map((e) => e.getAttribute('data-layer')))).toEqual(
      ['layer1', 'layer2', 'layer3', 'layer4'],
    );
    expect(await page.locator('[data-testid="layer-table"] tbody tr').count()).toBe(stats?.layers.length);
    expect(await page.locator('[data-testid="timings"] tbody tr').count()).toBe(data.timings.length + 1);
    await page.close();
  });
});

async function pdfPages(pdf: Uint8Array): Promise<string[]> {
  const pdfFile = path.join(dir, 'report.pdf');
  await writeFile(pdfFile, pdf);
  const { stdout } = await promisify(execFile)('pdftotext', ['-layout', pdfFile, '-']).catch((error: Error) => {
    throw new Error(`pdftotext (Debian: apt-get install poppler-utils) failed: ${error.message}`);
  });
  // pdftotext ends every page with a form feed.
  return stdout.split('\f').slice(0, -1);
}

describe('the demo report as PDF', () => {
  it('has a page for the model, the predictions, each image, the trust section, the statistics and the run', async () => {
    const pages = await pdfPages(await chromiumPrinter({ executable: chromiumPath() as string })(html));
    // A heading is a line of its own, after the cover (whose table of contents may wrap a title onto its own line).
    const find = (heading: string): number =>
      pages.findIndex((p, i) => i > 0 && p.split('\n').some((line) => line.trim() === heading));

    expect(pages[0]).toContain('LAYERLENS REPORT');
    expect(pages[0]).toContain('SHA-256');
    expect(pages[0]).toContain(data.model.sha256 as string);
    expect(pages[0]).toMatch(/Parameters\s+699,750/);
    expect(pages[0]).toContain('Stages (detected)');
    // Each section starts a page (the model shares the cover's), whatever the fonts make of their length.
    const predictions = find('Images and predictions');
    expect(predictions).toBeGreaterThanOrEqual(1);
    const cam = find('Class activation maps');
    expect(cam).toBeGreaterThan(predictions);
    // One page per image, each holding its whole grid: its name, the class explained, every stage and method.
    for (const [i, image] of data.images.entries()) {
      const page = pages[cam + i] as string;
      expect(page, `page ${cam + i + 1}`).toContain(`${i + 1}. ${image.name}`);
      expect(page).toContain(`Explaining ${image.cam.label}`);
      for (const stage of ['layer1', 'layer2', 'layer3', 'layer4']) expect(page).toContain(stage);
      for (const m of METHODS) expect(page).toContain(CAM_METHOD_LABELS[m]);
    }
    // The trust section (metrics table, sanity curves) follows the images, on one or two pages.
    const trustPage = find('Can the maps be trusted?');
    expect(trustPage).toBe(cam + data.images.length);
    expect(pages.slice(trustPage).join('\n')).toMatch(/DELETION AUC[\s\S]*Sanity check/i);
    const statsPage = find('Activation statistics');
    expect(statsPage - trustPage).toBeGreaterThanOrEqual(1);
    expect(statsPage - trustPage).toBeLessThanOrEqual(2);
    expect(pages[statsPage]).toContain('% near zero');
    const colorful = find('The colorful dimension');
    expect(colorful).toBeGreaterThanOrEqual(statsPage);
    expect(find('Layers')).toBeGreaterThanOrEqual(colorful);
    const runPage = find('Run details');
    expect(runPage).toBe(pages.length - 1);
    expect(pages[runPage]).toContain('Timings');
    expect(pages[runPage]).toContain(data.engineVersion);
    // The statistics (plots, colorful dimension, the demo's 25-layer table) take one to three pages.
    expect(runPage - statsPage).toBeGreaterThanOrEqual(1);
    expect(runPage - statsPage).toBeLessThanOrEqual(3);
  });
});
