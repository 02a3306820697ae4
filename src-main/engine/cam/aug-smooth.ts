/**
 * aug-smooth, as pytorch-grad-cam's aug_smooth=True (ttach's HorizontalFlip × Multiply [0.9, 1, 1.1]): the
 * input and five augmented copies run as one batch of the hooked model, and each method's map, flipped back
 * where its input was flipped, is averaged in the graph (hooks/map-graph.ts). Item 0 is the input itself, so
 * the logits and the class explained are its own.
 */
import { EngineError } from '../errors';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';

export const AUGMENTATIONS: readonly { flip: boolean; factor: number }[] = [false, true].flatMap((flip) =>
  [1, 0.9, 1.1].map((factor) => ({ flip, factor })),
);

/** The batch of augmented inputs, and which items are flipped. */
export function augmentedBatch(
  model: OpenModel,
  input: InputTensor,
  channelsLast: boolean,
): { input: InputTensor; flipped: boolean[] } {
  const n = AUGMENTATIONS.length;
  const declared = model.summary.inputs[0]?.shape[0];
  if (typeof declared === 'number' && declared !== n)
    throw new EngineError(
      'unsupported',
      `aug-smooth runs the image and ${n - 1} augmented copies as one batch, and ${model.summary.name}'s input has a fixed batch of ${declared}.`,
    );
  const [batch, ...rest] = input.shape;
  if (batch !== 1 || rest.length !== 3)
    throw new EngineError(
      'unsupported',
      `aug-smooth flips images: it needs a [1, C, H, W] or [1, H, W, C] input, not [${input.shape.join(', ')}].`,
    );
  // The input as [rows, W, inner]: NCHW [C·H, W, 1], NHWC [H, W, C].
  const [a, b, c] = rest as [number, number, number];
  const [rows, width, inner] = channelsLast ? [a, b, c] : [a * b, c, 1];
  const size = input.data.length;
  const data = new Float32Array(n * size);
  for (const [i, { flip, factor }] of AUGMENTATIONS.entries()) {
    const out = data.subarray(i * size, (i + 1) * size);
    for (let r = 0; r < rows; r++)
      for (let x = 0; x < width; x++) {
        const from = (r * width + (flip ? width - 1 - x : x)) * inner;
        const to = (r * width + x) * inner;
        for (let k = 0; k < inner; k++) out[to + k] = (input.data[from + k] as number) * factor;
      }
  }
  return { input: { name: input.name, data, shape: [n, ...rest] }, flipped: AUGMENTATIONS.map((t) => t.flip) };
}
