/**
 * Where a pixel's channels are in a model input tensor of one image: [1, C, H, W], or [1, H, W, C] for
 * channels-last models. The perturbations write whole pixels (every channel) at a time.
 */
import { EngineError } from '../errors';

export interface ImageLayout {
  channels: number;
  height: number;
  width: number;
  channelsLast: boolean;
}

export function imageLayout(shape: number[], channelsLast: boolean): ImageLayout {
  if (shape.length !== 4 || shape[0] !== 1) {
    throw new EngineError(
      'unsupported',
      `Faithfulness metrics perturb the pixels of one image: the input has shape [${shape.join(', ')}], not [1, C, H, W] or [1, H, W, C].`,
    );
  }
  const [, a, b, c] = shape as [number, number, number, number];
  return channelsLast ? { channels: c, height: a, width: b, channelsLast } : { channels: a, height: b, width: c, channelsLast };
}

export const pixelCount = (l: ImageLayout): number => l.height * l.width;

/** Copies pixels order[start…end) (all channels) from `from` to `to`. */
export function copyPixels(
  l: ImageLayout,
  from: Float32Array,
  to: Float32Array,
  order: Uint32Array,
  start: number,
  end: number,
): void {
  if (l.channelsLast) {
    const channels = l.channels;
    for (let j = start; j < end; j++) {
      const base = (order[j] as number) * channels;
      for (let c = 0; c < channels; c++) to[base + c] = from[base + c] as number;
    }
    return;
  }
  const plane = l.height * l.width;
  for (let c = 0; c < l.channels; c++) {
    const offset = c * plane;
    for (let j = start; j < end; j++) {
      const p = offset + (order[j] as number);
      to[p] = from[p] as number;
    }
  }
}

/** out = x ⊙ mask, the mask (one value per pixel) broadcast over channels. */
export function maskImage(l: ImageLayout, x: Float32Array, mask: Float32Array, out: Float32Array): void {
  const plane = l.height * l.width;
  for (let p = 0; p < plane; p++) {
    const m = mask[p] as number;
    if (l.channelsLast) for (let c = 0; c < l.channels; c++) out[p * l.channels + c] = (x[p * l.channels + c] as number) * m;
    else for (let c = 0; c < l.channels; c++) out[c * plane + p] = (x[c * plane + p] as number) * m;
  }
}
