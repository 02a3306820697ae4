/**
 * CAM requests are self-contained and known by the engine's run key (issue 15; issue 18 items 2–4): maps
 * follow a preprocessing change (no stale answer from a renderer cache), a slow method computes only the
 * pane's layer, and a second slow pane waits for the first instead of being dropped.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';

interface DemoSample {
  file: string;
}
const demo = JSON.parse(readFileSync('resources/demo/samples.json', 'utf8')) as { samples: DemoSample[] };
const sampleId = (s: DemoSample): string => s.file.replace(/^.*\//, '').replace(/\.[^.]+$/, '');

test('editing the preprocessing redraws the maps (no stale maps), and going back shows the first ones', async ({
  studio,
  cam,
  page,
}, testInfo) => {
  await studio.pickSample(sampleId(demo.samples[0] as DemoSample));
  const before = await cam.pixels('layer4', 'gradcam');
  const runBefore = await cam.grid.getAttribute('data-run');
  await page.getByTestId('preprocess-edit').click();
  // Square samples look the same letterboxed: swap the channels instead.
  await page.getByLabel('Channels').selectOption('BGR');
  await page.getByTestId('pre-apply').click();
  // Same image, class and methods: only the engine's key (it holds the preprocessing) tells the answers apart.
  await expect.poll(() => cam.pixels('layer4', 'gradcam')).not.toBe(before);
  await expect(cam.grid).not.toHaveAttribute('data-run', runBefore ?? '');
  await testInfo.attach('bgr', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  await page.getByRole('button', { name: "Model's own" }).click();
  await expect.poll(() => cam.pixels('layer4', 'gradcam')).toBe(before);
});

// Samples no other spec asks slow methods of: the worker's server shares its run history between specs.
test('a slow pane computes only its layer, and a second slow pane is not dropped', async ({ studio, cam, page }) => {
  await studio.pickSample(sampleId(demo.samples[2] as DemoSample));
  await cam.waitForPainted('layer4', 'gradcam');
  await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('scorecam');
  // The engine's progress names the pane's own layer (128 channels) from the first batch on: no other stage
  // is computed first.
  await expect(page.getByTestId('cam-progress')).toContainText(/ScoreCAM\s+layer4: [1-9]\d*\/128 channels/);
  await cam.pane('layer2', 'gradcam').getByTestId('pane-method').selectOption('ablationcam');
  await cam.waitForPainted('layer4', 'scorecam');
  await cam.waitForPainted('layer2', 'ablationcam');
  // Another sample: both slow panes are computed again, one after the other.
  await studio.pickSample(sampleId(demo.samples[3] as DemoSample));
  await cam.waitForPainted('layer2', 'ablationcam');
  await cam.waitForPainted('layer4', 'scorecam');
  await expect(cam.error).toBeHidden();
});

test('a method outside the defaults (FEM) is asked for when a pane shows it', async ({ studio, cam, page }, testInfo) => {
  await studio.pickSample(sampleId(demo.samples[4] as DemoSample));
  await cam.waitForPainted('layer3', 'gradcam');
  await cam.pane('layer3', 'gradcam').getByTestId('pane-method').selectOption('fem');
  await cam.waitForPainted('layer3', 'fem');
  await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('gradcamelementwise');
  await cam.waitForPainted('layer4', 'gradcamelementwise');
  await expect(cam.error).toBeHidden();
  await cam.pane('layer3', 'fem').scrollIntoViewIfNeeded();
  await testInfo.attach('fem-and-elementwise', { body: await page.screenshot(), contentType: 'image/png' });
});

test('an uploaded image crosses the wire once: the browser shows it, one CAM request carries it', async ({
  studio,
  cam,
  page,
}) => {
  const file = 'resources/demo/samples/05-cross.png';
  const size = readFileSync(file).byteLength;
  const sent: number[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => sent.push(typeof f.payload === 'string' ? f.payload.length : f.payload.byteLength)),
  );
  // Frames are reported for sockets opened after the listener: reload, so the studio's socket is watched.
  await page.reload();
  await cam.waitForPainted('layer4', 'gradcam');
  sent.length = 0;
  await page.getByTestId('image-file').setInputFiles(file);
  await expect(cam.grid).toHaveAttribute('data-shown', /^image:/);
  await cam.waitForPainted('layer4', 'gradcam');
  await expect(studio.topRows).toHaveCount(5);
  // Later requests for the same image name the upload: another pane method asks again, without the bytes.
  await cam.pane('layer3', 'gradcam').getByTestId('pane-method').selectOption('gradcamelementwise');
  await cam.waitForPainted('layer3', 'gradcamelementwise');
  await expect(cam.error).toBeHidden();
  expect(sent.filter((n) => n >= size)).toHaveLength(1);
});
