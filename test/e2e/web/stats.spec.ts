import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';
import { StatsPage } from '../support/stats-page';

const SAMPLES = 'resources/demo/samples';

test('statistics on the samples: layer plots, colorful dimension and the 3D stack', async ({
  studio,
  page,
  consoleErrors,
}, testInfo) => {
  const stats = new StatsPage(studio.page);
  await stats.open();
  await stats.runOnSamples();
  await expect(stats.summary).toContainText('8 / 8 images');

  const layers = await stats.layers();
  expect(layers).toContain('layer1');
  expect(layers).toContain('fc');
  await expect(stats.layerRows).toHaveCount(layers.length);

  // Hovering the layer plot names the layer under the pointer.
  const chart = stats.layerPlot.locator('canvas').first();
  const box = await chart.boundingBox();
  if (!box) throw new Error('no layer plot');
  await page.mouse.move(box.x + box.width - 10, box.y + box.height / 2);
  await expect(page.getByTestId('stats-plot-tip').first()).toContainText(layers.at(-1) ?? '');

  // The colorful dimension follows the selected layer and is drawn.
  await stats.layerSelect.selectOption({ label: 'layer1' });
  await expect(stats.colorDim).toHaveAttribute('data-layer', 'layer1');
  expect(await stats.colorDimPainted()).toBeGreaterThan(1000);
  await stats.layerRows.filter({ hasText: 'fc' }).first().click();
  await expect(stats.colorDim).toHaveAttribute('data-layer', 'fc');

  // The 3D stack: one instance per (layer, image, bin), a painted frame, a hover read-out.
  const bins = 40;
  await expect(stats.view3d).toHaveAttribute('data-instances', String(layers.length * 8 * bins));
  await expect(stats.view3d).toHaveAttribute('data-painted', 'true');
  expect(await stats.view3dBrightFraction()).toBeGreaterThan(0.01);
  const view = await stats.view3d.locator('canvas').boundingBox();
  if (!view) throw new Error('no 3D canvas');
  let seen = false;
  for (let i = 0; i < 20 && !seen; i++) {
    await page.mouse.move(view.x + view.width * (0.3 + 0.02 * i), view.y + view.height * (0.35 + 0.015 * i));
    seen = await stats.readout.isVisible();
  }
  expect(seen).toBe(true);
  await expect(stats.readout).toContainText('count');

  await stats.view3d.scrollIntoViewIfNeeded();
  const shot = await page.screenshot({ fullPage: true });
  await testInfo.attach('statistics', { body: shot, contentType: 'image/png' });
  expect(consoleErrors).toEqual([]);
});

test('cancelling a long run keeps its partial result; the tab keeps working', async ({ studio, page, consoleErrors }) => {
  const stats = new StatsPage(studio.page);
  await stats.open();
  // 400 picked images (the demo's samples, repeated): long enough to cancel midway.
  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.png'));
  const picked = Array.from({ length: 400 }, (_, i) => {
    const name = files[i % files.length] as string;
    return { name: `${i}-${name}`, mimeType: 'image/png', buffer: readFileSync(`${SAMPLES}/${name}`) };
  });
  await page.getByTestId('stats-files').setInputFiles(picked);
  await stats.run.click();
  // Past the reading phase (the inputs are hashed first) and at least one image analysed.
  await expect(stats.progress).toHaveAttribute('data-phase', 'analysing', { timeout: 30_000 });
  await expect(stats.progress).toContainText(/^\s*[1-9]\d* \/ 400 images/);
  await stats.cancel.click();
  await expect(stats.run).toBeEnabled({ timeout: 30_000 });
  await expect(stats.progress).toBeHidden();
  await expect(page.getByTestId('stats-error')).toHaveCount(0);
  await expect(stats.summary).toContainText('cancelled');
  const done = Number(/^(\d+) \/ 400/.exec((await stats.summary.textContent()) ?? '')?.[1]);
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(400);
  await expect(stats.view3d).toHaveAttribute('data-painted', 'true');
  // A cancel right after the start (perhaps before the first image): no crash, the tab keeps working.
  await stats.run.click();
  await stats.cancel.click();
  await expect(stats.run).toBeEnabled({ timeout: 30_000 });
  await expect(page.getByTestId('stats-error')).toHaveCount(0);
  await expect(stats.summary.or(page.getByTestId('stats-empty')).first()).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('a layer in the statistics opens in the graph', async ({ studio, page }) => {
  const stats = new StatsPage(page);
  await expect(studio.topRows).toHaveCount(5);
  await stats.open();
  await stats.runOnSamples();
  await page.locator('[data-testid="stats-layer-row"][data-layer="layer1.0.conv1"] [data-testid="stats-show-in-graph"]').click();
  await expect(page.getByTestId('graph-view')).toBeVisible();
  await expect(page.getByTestId('inspector-op')).toHaveText('Conv');
  await expect(page.getByTestId('inspector')).toContainText('layer1.0.conv1');
});

test('one layer’s activation volume for one image renders in 3D', async ({ studio, page }) => {
  const stats = new StatsPage(page);
  await expect(studio.topRows).toHaveCount(5);
  await stats.open();
  await stats.runOnSamples();
  await page.getByTestId('stats-layer-select').selectOption({ label: 'layer1' });
  await page.getByTestId('stats-volume-load').click();
  const volume = page.getByTestId('stats-volume');
  await expect(volume).toContainText('16 × 48 × 48');
  await expect(volume).toHaveAttribute('data-voxels', /^[1-9]\d*$/);
  const bright = await volume.locator('canvas').evaluate(async (c) => {
    const img = new Image();
    img.src = (c as HTMLCanvasElement).toDataURL('image/png');
    await img.decode();
    const probe = document.createElement('canvas');
    probe.width = img.width;
    probe.height = img.height;
    const ctx = probe.getContext('2d') as CanvasRenderingContext2D;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, img.width, img.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if ((d[i] as number) + (d[i + 1] as number) + (d[i + 2] as number) > 150) n++;
    return n / (d.length / 4);
  });
  expect(bright).toBeGreaterThan(0.01);
});
