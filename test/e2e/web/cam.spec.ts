import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';

interface DemoSample {
  file: string;
  label: string;
  class: number;
  box: [number, number, number, number];
}
const demo = JSON.parse(readFileSync('resources/demo/samples.json', 'utf8')) as { samples: DemoSample[] };
const sampleId = (s: DemoSample): string => s.file.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
const STAGES = ['layer1', 'layer2', 'layer3', 'layer4'];

for (const sample of demo.samples.slice(0, 3)) {
  test(`the grid renders every stage for ${sample.file}, and last-stage Grad-CAM points inside the object`, async ({
    studio,
    cam,
    consoleErrors,
  }, testInfo) => {
    await studio.pickSample(sampleId(sample));
    await expect(cam.rows).toHaveCount(STAGES.length);
    for (const layer of STAGES) {
      await cam.waitForPainted(layer, 'gradcam');
      await expect(cam.pane(layer, 'cam').or(cam.pane(layer, 'gradcam')).first()).toBeVisible();
    }
    // CAM exists only where the head allows it (the last stage); elsewhere LayerCAM stands in, and asking
    // for CAM explains why it is not there.
    await cam.waitForPainted('layer4', 'cam');
    await cam.waitForPainted('layer1', 'layercam');
    await cam.pane('layer1', 'layercam').getByTestId('pane-method').selectOption('cam');
    await expect(cam.pane('layer1', 'cam').getByTestId('pane-placeholder')).toContainText('CAM needs');

    const hot = await cam.hottest('layer4', 'gradcam');
    const scale = 96 / hot.size; // the demo's images are 96×96, stretched to the model input
    const [x0, y0, x1, y1] = sample.box;
    expect(hot.x * scale).toBeGreaterThanOrEqual(x0 - 1);
    expect(hot.x * scale).toBeLessThanOrEqual(x1 + 1);
    expect(hot.y * scale).toBeGreaterThanOrEqual(y0 - 1);
    expect(hot.y * scale).toBeLessThanOrEqual(y1 + 1);
    await testInfo.attach(`grid-${sampleId(sample)}`, {
      body: await studio.page.screenshot({ fullPage: true }),
      contentType: 'image/png',
    });
    expect(consoleErrors).toEqual([]);
  });
}

test('switching the class changes the maps; switching back repaints from the cache', async ({ studio, cam, page }) => {
  const sample = demo.samples[0] as DemoSample;
  await studio.pickSample(sampleId(sample));
  const before = await cam.pixels('layer4', 'gradcam');
  const other = await page.getByTestId('class-option').nth(1).getAttribute('data-class');
  await cam.explain(Number(other));
  await expect.poll(() => cam.pixels('layer4', 'gradcam')).not.toBe(before);
  await cam.explain(Number(await page.getByTestId('class-option').first().getAttribute('data-class')));
  await expect.poll(() => cam.pixels('layer4', 'gradcam')).toBe(before);
});

test('a pane exports a valid PNG, and so does the whole grid', async ({ studio, cam, page }) => {
  await studio.pickSample(sampleId(demo.samples[0] as DemoSample));
  const pane = await cam.waitForPainted('layer4', 'gradcam');
  const [download] = await Promise.all([page.waitForEvent('download'), pane.getByTestId('pane-export').click()]);
  const file = await download.path();
  const bytes = readFileSync(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const [gridDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cam-export-grid').click()]);
  const grid = readFileSync(await gridDownload.path());
  expect(grid.subarray(1, 4).toString()).toBe('PNG');
  expect(grid.length).toBeGreaterThan(bytes.length);
});

test('a slow method shows progress and can be cancelled; the grid keeps working', async ({ studio, cam, page }) => {
  await studio.pickSample(sampleId(demo.samples[1] as DemoSample));
  await cam.waitForPainted('layer4', 'gradcam');
  // 128 channels at 96²: several batches, long enough to cancel.
  await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('scorecam');
  await expect(page.getByTestId('cam-progress')).toBeVisible();
  await page.getByTestId('cam-cancel').click();
  await expect(page.getByTestId('cam-progress')).toBeHidden();
  await expect(cam.error).toContainText('cancelled');
  // The other panes are untouched, and the pane can go back to a fast method.
  await cam.waitForPainted('layer4', 'cam');
  await cam.pane('layer4', 'scorecam').getByTestId('pane-method').selectOption('hirescam');
  await cam.waitForPainted('layer4', 'hirescam');
});

test('a vision transformer: its blocks are the stages, and a map that cancelled to rounding says so', async ({
  studio,
  cam,
  page,
  consoleErrors,
}) => {
  // The demo's first sample is shown before the model is opened, so that the model runs on it: a model
  // opened while the samples still load leaves no image shown (the user's choice wins over the default).
  await expect(studio.topRows).toHaveCount(5, { timeout: 30_000 });
  await page.getByTestId('model-file').setInputFiles('test/fixtures/torch/vit/model.onnx');
  // Opening means analysing the graph: allow for a busy machine.
  await expect(studio.modelName).toHaveText('model.onnx', { timeout: 30_000 });
  const blocks = [1, 3, 5, 6].map((i) => `encoder.layers.encoder_layer_${i}`);
  await expect(cam.rows).toHaveCount(blocks.length, { timeout: 30_000 });
  await studio.pickSample(sampleId(demo.samples[0] as DemoSample));
  for (const layer of blocks) await cam.waitForPainted(layer, 'gradcam');
  // The input of the last block reaches the class token only through a LayerNorm: HiResCAM cancels there.
  const last = blocks.at(-1) as string;
  await cam.pane(last, 'gradcam').getByTestId('pane-method').selectOption('hirescam');
  await cam.waitForPainted(last, 'hirescam');
  await expect(cam.pane(last, 'hirescam').getByTestId('pane-note')).toBeVisible();
  await cam
    .pane(blocks[0] as string, 'gradcam')
    .getByTestId('pane-method')
    .selectOption('hirescam');
  await cam.waitForPainted(blocks[0] as string, 'hirescam');
  await expect(cam.pane(blocks[0] as string, 'hirescam').getByTestId('pane-note')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
