import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';

interface DemoSample {
  file: string;
  label: string;
}
const demo = JSON.parse(readFileSync('resources/demo/samples.json', 'utf8')) as { samples: DemoSample[] };
const sampleId = (s: DemoSample): string => s.file.replace(/^.*\//, '').replace(/\.[^.]+$/, '');

test('opens on the demo model: inputs, outputs and a top-5 prediction, with no console errors', async ({
  studio,
  consoleErrors,
}, testInfo) => {
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(studio.inputs).toHaveCount(1);
  await expect(studio.inputs.first()).toContainText('input');
  await expect(studio.inputs.first()).toContainText('3 × 96 × 96');
  await expect(studio.outputs.first()).toContainText('logits');
  await expect(studio.samples).toHaveCount(demo.samples.length);

  const first = demo.samples[0] as DemoSample;
  await expect(studio.topRows).toHaveCount(5);
  const labels = await studio.topLabels();
  expect(labels[0]).toBe(first.label);
  const probs = await studio.topProbabilities();
  expect(probs[0]).toBeGreaterThan(0.5);
  for (let i = 1; i < probs.length; i++) expect(probs[i]).toBeLessThanOrEqual(probs[i - 1] as number);
  await expect(studio.provider).toContainText('CPU');

  await testInfo.attach('studio', { body: await studio.page.screenshot(), contentType: 'image/png' });
  expect(consoleErrors).toEqual([]);
});

test('picking another sample predicts its class', async ({ studio, consoleErrors }) => {
  const other = demo.samples.find((s) => s.label !== demo.samples[0]?.label) as DemoSample;
  await expect(studio.topRows).toHaveCount(5);
  await studio.pickSample(sampleId(other));
  await expect(studio.topRows.first().locator('.label')).toHaveText(other.label);
  expect(consoleErrors).toEqual([]);
});

test('a broken model file shows a plain error and the studio keeps working', async ({ studio, page }) => {
  await expect(studio.topRows).toHaveCount(5);
  await page
    .getByTestId('model-file')
    .setInputFiles({ name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not onnx at all') });
  await expect(studio.error).toContainText('broken.onnx');
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  const other = demo.samples[1] as DemoSample;
  await studio.pickSample(sampleId(other));
  await expect(studio.topRows.first().locator('.label')).toHaveText(other.label);
});

test('preprocessing can be edited (a wrong size is explained) and labels come from a file the user picks', async ({
  studio,
  page,
}) => {
  await expect(studio.topRows).toHaveCount(5);
  await page.getByTestId('preprocess-edit').click();
  await page.getByTestId('pre-height').fill('64');
  await page.getByTestId('pre-width').fill('64');
  await page.getByTestId('pre-apply').click();
  await expect(studio.error).toContainText('the model expects [batch, 3, 96, 96]');
  await page.getByRole('button', { name: "Model's own" }).click();
  await expect(studio.error).toBeHidden();
  await expect(studio.topRows).toHaveCount(5);

  const labels = ['Kreis', 'Quadrat', 'Dreieck', 'Stern', 'Kreuz', 'Sechseck'];
  await page
    .getByTestId('labels-file')
    .setInputFiles({ name: 'labels.txt', mimeType: 'text/plain', buffer: Buffer.from(labels.join('\n')) });
  await expect(studio.topRows.first().locator('.label')).toHaveText(labels[3] as string); // the first sample is a star
  await expect(page.getByTestId('recent-models')).toContainText('layerlens-demo.onnx');
});
