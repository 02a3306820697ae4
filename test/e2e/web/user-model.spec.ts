/**
 * The studio with a user's model (issue 18): a 1000-class export without labels reads ImageNet's class
 * names (and says so; a labels file wins), and the demo's samples and their ground truth stay out of the way.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';
import { serveApp } from '../support/serve';

const THIN_RESNET50 = 'test/fixtures/graph/thin-resnet50.onnx';
const IMAGENET = JSON.parse(readFileSync('resources/labels/imagenet-1k.json', 'utf8')) as string[];

test('a 1000-class model without labels reads ImageNet-1k names, says so, and a labels file wins', async ({
  studio,
  page,
  consoleErrors,
}) => {
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(studio.topRows).toHaveCount(5);
  await page.getByTestId('model-file').setInputFiles(THIN_RESNET50);
  await expect(studio.modelName).toHaveText('thin-resnet50.onnx');
  const labels = page.getByTestId('model-labels');
  await expect(labels).toHaveAttribute('data-source', 'imagenet');
  await expect(labels).toContainText('ImageNet-1k');
  await expect(labels).toContainText('assumed');
  await expect.poll(() => studio.topLabels()).not.toContain('circle');
  const top = await studio.topLabels();
  for (const label of top) expect(IMAGENET).toContain(label);
  await expect(page.getByTestId('class-explained')).not.toContainText(/class \d+/);

  await page.getByTestId('labels-file').setInputFiles({
    name: 'mine.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(Array.from({ length: 1000 }, (_, i) => `mine-${i}`).join('\n')),
  });
  await expect(labels).toHaveAttribute('data-source', 'user');
  await expect.poll(async () => (await studio.topLabels())[0]).toMatch(/^mine-\d+$/);
  expect(consoleErrors).toEqual([]);
});

test('with a user’s model open the demo’s samples are folded away and no ground truth is claimed', async ({ studio, page }) => {
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(page.getByTestId('input-image').locator('xpath=..')).toContainText('ground truth: star');
  await page.getByTestId('model-file').setInputFiles(THIN_RESNET50);
  await expect(studio.modelName).toHaveText('thin-resnet50.onnx');
  await expect(studio.topRows).toHaveCount(5);
  const folded = page.getByTestId('samples-other-model');
  await expect(folded).toBeVisible();
  await expect(studio.samples.first()).toBeHidden();
  await expect(page.getByTestId('input-image').locator('xpath=..')).not.toContainText('ground truth');
  // Still there to try, on request.
  await studio.pickSample('02-circle');
  await expect(page.getByTestId('input-image')).toHaveAttribute('alt', /02-circle/);
  await expect(page.getByTestId('input-image').locator('xpath=..')).not.toContainText('ground truth');
});

test('without the demo (--no-demo) the page does not ask to pick a sample there is none of', async ({ page }) => {
  const app = await serveApp(['--no-demo', THIN_RESNET50]);
  try {
    await page.goto(app.url);
    await expect(page.getByTestId('model-name')).toHaveText('thin-resnet50.onnx');
    await expect(page.getByTestId('no-image')).toContainText('Open an image');
    await expect(page.getByTestId('no-image')).not.toContainText('sample');
    await expect(page.getByTestId('sample')).toHaveCount(0);
  } finally {
    await app.stop();
  }
});
