/**
 * How a layer's tensor lays out a grid of image positions: every CAM method works on a [C, H·W] view, and
 * models store that grid in several ways. Convolutional layers are [1, C, H, W] (NCHW) or [1, H, W, C]
 * (channels last: Swin's stages, TensorFlow exports); transformer blocks are tokens [1, T, C] (or [1, C, T],
 * or sequence-first [T, 1, C]) whose last H·W tokens are the patch grid and whose first few are not
 * positions (a class token, distillation or register tokens) — what pytorch-grad-cam's reshape_transform
 * does by hand, found from the shapes.
 */
import type { Dim } from '../../../src-shared/api';

export interface FeatureGrid {
  channels: number;
  height: number;
  width: number;
  /** Channels before positions once the unit batch axis is dropped: NCHW and [1, C, T]. */
  channelsFirst: boolean;
  /** Leading tokens that are not grid positions (0 for 4-D maps). */
  prefix: number;
  /** The unit batch axis: 1 for sequence-first tokens [T, 1, C], else 0. */
  batchAxis: number;
  /** The tensor's own shape. */
  shape: number[];
}

/** Tokens before the patch grid that are tried: class, distillation and up to four register tokens. */
const MAX_PREFIX = 5;

/**
 * An h×w grid is an image's positions when one stride s maps the image onto it up to rounding (|H/s − h|
 * and |W/s − w| below 1, s taken from either side): 7×7 of 224², 7×10 of 224×320, 57×57 of 225², 8×10 of
 * 225×300 (ceil at stride 32), but not 2×3 of 3×3.
 */
function matchesImage(h: number, w: number, image: [number, number]): boolean {
  const [ih, iw] = image;
  if (h < 1 || w < 1 || h * w <= 1 || h > ih || w > iw) return false;
  return [ih / h, iw / w].some((s) => Math.abs(ih / s - h) < 1 && Math.abs(iw / s - w) < 1);
}

/** The h×w factorisation of n that matches the image, if any. */
function gridOf(n: number, image: [number, number]): [number, number] | null {
  if (n <= 1) return null;
  const guess = Math.round(Math.sqrt((n * image[0]) / image[1]));
  for (const h of [guess, guess - 1, guess + 1]) {
    if (h < 1 || n % h !== 0) continue;
    if (matchesImage(h, n / h, image)) return [h, n / h];
  }
  return null;
}

/** Tokens [.., T, ..] with `count` = T: the prefix and grid, the fewest prefix tokens first. */
function tokenGrid(count: number, image: [number, number]): { prefix: number; hw: [number, number] } | null {
  for (let prefix = 0; prefix <= MAX_PREFIX; prefix++) {
    const hw = gridOf(count - prefix, image);
    if (hw) return { prefix, hw };
  }
  return null;
}

/** Which end holds the channels, when the ops around a tensor say so. */
export type ChannelSide = 'first' | 'last' | null;

/**
 * The grid a tensor of this shape holds for an image of `image` = [H, W], or null when it is not one (a
 * vector, logits, unknown dims). `side` says where the channels are, from the ops around the tensor (a
 * boolean: as given); it is only asked for shapes that read both ways ([1, 16, 16, 16]; tokens
 * [1, 1024, 196]: 1024 channels on 14×14, or 196 on 32×32) or match the image in neither reading.
 *
 * A 4-D reading matched to the image wins over one that is not; read both ways, the ops decide, else the
 * model input's layout (`inputChannelsLast`). When neither reading matches (strides that differ per axis,
 * unpadded convolutions: [1, 8, 2, 25] of a 32×100 text line) it is a feature map only if the ops say
 * where its channels are (a convolution made it): attention's [1, heads, T, d] stays no grid. Tokens must
 * match the image, and default to [1, T, C], the usual transformer layout.
 */
export function featureGrid(
  shape: readonly Dim[] | null,
  image: [number, number] | null,
  side: boolean | (() => ChannelSide) = false,
  inputChannelsLast = false,
): FeatureGrid | null {
  if (!shape || !shape.every((d): d is number => typeof d === 'number' && d > 0)) return null;
  const dims = shape as number[];
  const told = (): ChannelSide => (typeof side === 'boolean' ? (side ? 'last' : 'first') : side());
  if (dims.length === 4 && dims[0] === 1) {
    const [, a, b, c] = dims as [number, number, number, number];
    const first: FeatureGrid = { channels: a, height: b, width: c, channelsFirst: true, prefix: 0, batchAxis: 0, shape: dims };
    const last: FeatureGrid = { channels: c, height: a, width: b, channelsFirst: false, prefix: 0, batchAxis: 0, shape: dims };
    const size = image ?? [b, c];
    const [firstFits, lastFits] = [matchesImage(b, c, size), matchesImage(a, b, size)];
    if (firstFits !== lastFits) return firstFits ? first : last;
    const verdict = told() ?? (firstFits ? (inputChannelsLast ? 'last' : 'first') : null);
    const chosen = verdict === 'last' ? last : verdict === 'first' ? first : null;
    return chosen && chosen.height * chosen.width > 1 ? chosen : null;
  }
  if (dims.length === 3 && image) {
    const [a, b, c] = dims as [number, number, number];
    const tokens = (count: number, channels: number, channelsFirst: boolean, batchAxis: number): FeatureGrid | null => {
      const t = channels > 1 ? tokenGrid(count, image) : null;
      return t ? { channels, height: t.hw[0], width: t.hw[1], channelsFirst, prefix: t.prefix, batchAxis, shape: dims } : null;
    };
    if (a === 1) {
      const [tokensLast, tokensFirst] = [tokens(b, c, false, 0), tokens(c, b, true, 0)];
      if (!tokensLast || !tokensFirst) return tokensLast ?? tokensFirst;
      return told() === 'first' ? tokensFirst : tokensLast;
    }
    // Sequence-first [T, 1, C] (CLIP's and older PyTorch transformers' internal layout).
    if (b === 1) return tokens(a, c, false, 1);
  }
  return null;
}

export const gridPositions = (g: FeatureGrid): number => g.height * g.width;

/** The grid as [C, H, W] (a copy unless the tensor is NCHW already). */
export function toChannelMajor(g: FeatureGrid, data: Float32Array): Float32Array {
  const z = gridPositions(g);
  const c = g.channels;
  if (g.channelsFirst && g.prefix === 0) return data.subarray(0, c * z);
  const out = new Float32Array(c * z);
  const rowLength = g.prefix + z;
  if (g.channelsFirst) {
    for (let k = 0; k < c; k++) out.set(data.subarray(k * rowLength + g.prefix, (k + 1) * rowLength), k * z);
  } else {
    for (let i = 0; i < z; i++) {
      const base = (g.prefix + i) * c;
      for (let k = 0; k < c; k++) out[k * z + i] = data[base + k] as number;
    }
  }
  return out;
}

/**
 * The inverse of toChannelMajor, `batch` times over: [n, C, H, W] values written into n copies of the
 * tensor's layout, the non-grid (prefix) tokens taken from `template` (the tensor as the model computed it).
 */
export function fromChannelMajor(g: FeatureGrid, chw: Float32Array, template: Float32Array, batch: number): Float32Array {
  const z = gridPositions(g);
  const c = g.channels;
  const one = c * (g.prefix + z);
  const out = new Float32Array(batch * one);
  for (let n = 0; n < batch; n++) {
    const dst = out.subarray(n * one, (n + 1) * one);
    dst.set(template.subarray(0, one));
    const src = chw.subarray(n * c * z, (n + 1) * c * z);
    if (g.channelsFirst) {
      const rowLength = g.prefix + z;
      for (let k = 0; k < c; k++) dst.set(src.subarray(k * z, (k + 1) * z), k * rowLength + g.prefix);
    } else {
      for (let i = 0; i < z; i++) {
        const base = (g.prefix + i) * c;
        for (let k = 0; k < c; k++) dst[base + k] = src[k * z + i] as number;
      }
    }
  }
  return out;
}
