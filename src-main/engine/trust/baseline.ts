/**
 * The image that deletion replaces pixels with and insertion starts from. RISE uses a blurred copy of the
 * image (it keeps colours and low frequencies, so deleting does not add sharp edges the model may react
 * to); "zero" is the all-zero tensor, i.e. the data set's mean colour for mean/std-normalised inputs.
 * The blur is applied to the model's input tensor, which equals blurring the image before normalising (a
 * per-channel affine map commutes with a normalised kernel).
 */
import type { TrustBaseline } from '../../../src-shared/trust';
import type { ImageLayout } from './image-layout';

/** A normalised Gaussian kernel of radius ⌈3σ⌉. */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Separable Gaussian blur of every channel plane, edges replicated. */
export function gaussianBlur(l: ImageLayout, x: Float32Array, sigma: number): Float32Array {
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) / 2;
  const { width: w, height: h, channels } = l;
  // Element (c, y, x) is at offset(c) + (y·w + x)·step.
  const step = l.channelsLast ? channels : 1;
  const out = new Float32Array(x.length);
  const row = new Float64Array(w * h);
  for (let c = 0; c < channels; c++) {
    const offset = l.channelsLast ? c : c * h * w;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let i = -r; i <= r; i++) {
          const at = Math.min(w - 1, Math.max(0, xx + i));
          s += (kernel[i + r] as number) * (x[offset + (y * w + at) * step] as number);
        }
        row[y * w + xx] = s;
      }
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let i = -r; i <= r; i++)
          s += (kernel[i + r] as number) * (row[Math.min(h - 1, Math.max(0, y + i)) * w + xx] as number);
        out[offset + (y * w + xx) * step] = s;
      }
  }
  return out;
}

export function baselineImage(l: ImageLayout, x: Float32Array, baseline: TrustBaseline): Float32Array {
  return baseline.kind === 'zero' ? new Float32Array(x.length) : gaussianBlur(l, x, baseline.sigma);
}
