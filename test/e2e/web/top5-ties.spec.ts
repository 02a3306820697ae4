/** Top-5 and the grid agree when probabilities tie (issue 18): one order, by logit, and ties shown as ties. */
import { expect, test } from '../support/fixtures';
import { buildModel, floatTensor, intAttr, node, valueInfo } from '../../helpers/onnx-builder';

/**
 * A 1000-class head whose logits are its bias (zero weights): all 2⁻⁷ but class 817 two float32 steps above
 * and class 3 one step above — softmax rounds every probability to the same float32, as a randomly
 * initialised MobileNetV2's did.
 */
function tiedModel(): Buffer {
  const base = 2 ** -7;
  const step = 2 ** -30;
  const bias = Array.from({ length: 1000 }, (_, i) => (i === 817 ? base + 2 * step : i === 3 ? base + step : base));
  const bytes = buildModel({
    inputs: [valueInfo('input', ['batch', 3, 8, 8])],
    outputs: [valueInfo('logits', ['batch', 1000])],
    initializers: [floatTensor('W', [1000, 3], new Array<number>(3000).fill(0)), floatTensor('B', [1000], bias)],
    nodes: [
      node('GlobalAveragePool', ['input'], ['pooled'], '/pool/GlobalAveragePool'),
      node('Flatten', ['pooled'], ['flat'], '/Flatten'),
      node('Gemm', ['flat', 'W', 'B'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]),
    ],
  });
  return Buffer.from(bytes);
}

test('tied probabilities: the top-5 leads with the highest logit and marks the tie', async ({ studio, page }) => {
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await page
    .getByTestId('model-file')
    .setInputFiles({ name: 'tied.onnx', mimeType: 'application/octet-stream', buffer: tiedModel() });
  await expect(studio.modelName).toHaveText('tied.onnx');
  await expect(studio.topRows).toHaveCount(5);
  await expect(studio.topRows.first()).toHaveAttribute('data-class', '817');
  await expect(studio.topRows.nth(1)).toHaveAttribute('data-class', '3');
  await expect(page.getByTestId('top5-tie')).toHaveCount(5);
  await expect(page.getByTestId('top5-tie').first()).toContainText('logit');
});
