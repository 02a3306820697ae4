/**
 * The faithfulness metrics of several maps of one image, from one stream of batched forward passes:
 * - deletion: the most salient pixels first replaced by the baseline, k/steps of them at step k;
 * - insertion: the baseline, with the most salient pixels of the image put back first;
 * - average drop / increase in confidence: the image times the map (upsampled, ReLU, min-max to [0, 1]);
 * - the pointing game: the map's maximum inside the object's box.
 * The unchanged image and the all-baseline image end every curve: they are scored once for all maps. An
 * image that several maps share (the same pixels changed at a step: equal maps, or maps whose top pixels
 * coincide) is scored once. Each step of a curve is written from the step before it (a copy and the
 * pixels added since), not built again.
 */
import type { RawMap } from '../../../src-shared/cam';
import { resizeMap, scaleMap } from '../../../src-shared/heatmap';
import type { Box, MapMetrics } from '../../../src-shared/trust';
import type { BatchScorer, Progress } from './batch-scorer';
import { areaUnderCurve, confidenceDrop, pixelsAtStep, pointingHit, salienceOrder } from './curves';
import { copyPixels, maskImage, pixelCount, type ImageLayout } from './image-layout';
import { mulberry32 } from './random';

export interface FaithfulnessImage {
  layout: ImageLayout;
  /** The model's input for the image (one image). */
  x: Float32Array;
  baseline: Float32Array;
  classIndex: number;
  /** The object box in input pixels, or null. */
  box: Box | null;
  steps: number;
}

/** A map as the metrics see it: upsampled (bilinear) to the input, ordered, and scaled for average drop. */
interface PreparedMap {
  order: Uint32Array;
  scaled: Float32Array;
}

function prepare(map: RawMap, l: ImageLayout): PreparedMap {
  const up = map.width === l.width && map.height === l.height ? map.data : resizeMap(map, l.width, l.height, 'bilinear');
  return { order: salienceOrder(up), scaled: scaleMap(up, 'relu') };
}

/** One image to score: the clean image, the baseline, a step of a map's curve, or a map's masked image. */
type Scored =
  | { kind: 'clean' }
  | { kind: 'baseline' }
  | { kind: 'deletion'; map: number; step: number }
  | { kind: 'insertion'; map: number; step: number }
  | { kind: 'masked'; map: number };

/** The metrics of each map, in order. `maps` are at any resolution (a layer's grid, or the input's). */
export async function measureMaps(
  image: FaithfulnessImage,
  maps: RawMap[],
  scorer: BatchScorer,
  signal?: AbortSignal,
  onProgress?: Progress,
): Promise<MapMetrics[]> {
  const { layout, x, baseline, steps } = image;
  const pixels = pixelCount(layout);
  const prepared = maps.map((m) => prepare(m, layout));
  const { scored, slotOf } = uniqueImages(prepared, steps, pixels);
  const inner = steps - 1; // steps 1 … steps−1 of each curve; 0 and steps are the shared end images
  const fill = (i: number, out: Float32Array, previous: Float32Array | null): void => {
    const item = scored[i] as Scored;
    if (item.kind === 'clean') return out.set(x);
    if (item.kind === 'baseline') return out.set(baseline);
    const map = prepared[item.map] as PreparedMap;
    if (item.kind === 'masked') return maskImage(layout, x, map.scaled, out);
    const deletion = item.kind === 'deletion';
    const from = deletion ? baseline : x;
    const n = pixelsAtStep(item.step, steps, pixels);
    const before = scored[i - 1] as Scored;
    // The step before on the same curve: copy it and add this step's pixels.
    const chained = (before.kind === 'deletion' || before.kind === 'insertion') && before.kind === item.kind;
    if (previous && chained && before.map === item.map && before.step === item.step - 1) {
      out.set(previous);
      copyPixels(layout, from, out, map.order, pixelsAtStep(item.step - 1, steps, pixels), n);
      return;
    }
    out.set(deletion ? x : baseline);
    copyPixels(layout, from, out, map.order, 0, n);
  };
  const probs = await scorer.probabilities(scored.length, fill, image.classIndex, signal, onProgress);
  const clean = probs[0] as number;
  const base = probs[1] as number;
  return prepared.map((map, m) => {
    const at = (slot: number): number => probs[slotOf[m]?.[slot] as number] as number;
    const deletion = new Float32Array(steps + 1);
    const insertion = new Float32Array(steps + 1);
    deletion[0] = clean;
    deletion[steps] = base;
    insertion[0] = base;
    insertion[steps] = clean;
    for (let k = 1; k < steps; k++) {
      deletion[k] = at(k - 1);
      insertion[k] = at(inner + k - 1);
    }
    const o = at(2 * inner);
    return {
      deletion: { auc: areaUnderCurve(deletion), probs: deletion },
      insertion: { auc: areaUnderCurve(insertion), probs: insertion },
      drop: confidenceDrop(clean, o),
      increase: o > clean,
      pointing: image.box ? pointingHit(map.order, layout.width, image.box) : null,
    };
  });
}

/**
 * The distinct images the metrics need, and for each map where each of its 2·(steps − 1) + 1 images is
 * (deletion steps, insertion steps, masked). A curve's image at step k is set by which pixels its first
 * k/steps of the order are: maps whose sets coincide share it. Sets are compared by a Zobrist hash (XOR
 * of a random 64-bit key per pixel, along the order) and then exactly, so a shared image is a real one.
 */
function uniqueImages(prepared: PreparedMap[], steps: number, pixels: number): { scored: Scored[]; slotOf: Int32Array[] } {
  const next = mulberry32(0x2b7e1516);
  const lo = Uint32Array.from({ length: pixels }, () => Math.floor(next() * 2 ** 32));
  const hi = Uint32Array.from({ length: pixels }, () => Math.floor(next() * 2 ** 32));
  const inner = steps - 1;
  const scored: Scored[] = [{ kind: 'clean' }, { kind: 'baseline' }];
  const slotOf = prepared.map(() => new Int32Array(2 * inner + 1));
  // Per step: hash of the first n pixels of each map's order → the first map with that set.
  const setHashes = prepared.map(() => new Array<string>(steps));
  const firstWith = new Map<string, number>();
  prepared.forEach((map, m) => {
    let a = 0;
    let b = 0;
    let p = 0;
    const hashes = setHashes[m] as string[];
    for (let k = 1; k < steps; k++) {
      const n = Math.floor((k * pixels) / steps);
      for (; p < n; p++) {
        const q = map.order[p] as number;
        a ^= lo[q] as number;
        b ^= hi[q] as number;
      }
      hashes[k] = `${k}|${a >>> 0}|${b >>> 0}`;
    }
  });
  const mark = new Int32Array(pixels).fill(-1);
  let stamp = 0;
  const sameSet = (m: number, other: number, n: number): boolean => {
    const a = (prepared[m] as PreparedMap).order;
    const b = (prepared[other] as PreparedMap).order;
    stamp++;
    for (let j = 0; j < n; j++) mark[b[j] as number] = stamp;
    for (let j = 0; j < n; j++) if (mark[a[j] as number] !== stamp) return false;
    return true;
  };
  const stepImages = new Map<string, number>();
  const maskedImages = new Map<string, number>();
  prepared.forEach((map, m) => {
    const slots = slotOf[m] as Int32Array;
    for (const kind of ['deletion', 'insertion'] as const) {
      for (let k = 1; k < steps; k++) {
        const hash = (setHashes[m] as string[])[k] as string;
        const other = firstWith.get(hash);
        const key = `${kind}|${hash}`;
        const shared = stepImages.get(key);
        const slot = (kind === 'deletion' ? 0 : inner) + k - 1;
        if (shared !== undefined && other !== undefined && sameSet(m, other, Math.floor((k * pixels) / steps))) {
          slots[slot] = shared;
          continue;
        }
        if (other === undefined) firstWith.set(hash, m);
        if (shared === undefined) stepImages.set(key, scored.length);
        slots[slot] = scored.length;
        scored.push({ kind, map: m, step: k });
      }
    }
    const maskKey = maskHash(map.scaled);
    const twin = maskedImages.get(maskKey);
    const twinMap = twin === undefined ? undefined : (scored[twin] as { map: number }).map;
    if (twin !== undefined && twinMap !== undefined && sameValues(map.scaled, (prepared[twinMap] as PreparedMap).scaled)) {
      slots[2 * inner] = twin;
      return;
    }
    if (twin === undefined) maskedImages.set(maskKey, scored.length);
    slots[2 * inner] = scored.length;
    scored.push({ kind: 'masked', map: m });
  });
  return { scored, slotOf };
}

/** FNV-1a over a float map's bits. */
function maskHash(values: Float32Array): string {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let h = 0x811c9dc5;
  for (const v of bits) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  return `${values.length}|${h}`;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
