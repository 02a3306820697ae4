/**
 * The faithfulness metrics of several maps of one image, from one stream of batched forward passes:
 * - deletion: the most salient pixels first replaced by the baseline, k/steps of them at step k;
 * - insertion: the baseline, with the most salient pixels of the image put back first;
 * - average drop / increase in confidence: the image times the map (upsampled, ReLU, min-max to [0, 1]);
 * - the pointing game: the map's maximum inside the object's box.
 * The unchanged image and the all-baseline image end every curve: they are scored once for all maps.
 */
import type { RawMap } from '../../../src-shared/cam';
import { resizeMap, scaleMap } from '../../../src-shared/heatmap';
import type { Box, MapMetrics } from '../../../src-shared/trust';
import type { BatchScorer, Progress } from './batch-scorer';
import { areaUnderCurve, confidenceDrop, pixelsAtStep, pointingHit, salienceOrder } from './curves';
import { copyPixel, maskImage, pixelCount, type ImageLayout } from './image-layout';

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
  const inner = steps - 1; // steps 1 … steps−1 of each curve; 0 and steps are the shared end images
  const perMap = 2 * inner + 1;
  const count = 2 + prepared.length * perMap;
  const fill = (i: number, out: Float32Array): void => {
    if (i === 0) return out.set(x);
    if (i === 1) return out.set(baseline);
    const j = i - 2;
    const map = prepared[Math.floor(j / perMap)] as PreparedMap;
    const slot = j % perMap;
    if (slot === 2 * inner) return maskImage(layout, x, map.scaled, out);
    const deletion = slot < inner;
    const n = pixelsAtStep((deletion ? slot : slot - inner) + 1, steps, pixels);
    out.set(deletion ? x : baseline);
    const from = deletion ? baseline : x;
    for (let p = 0; p < n; p++) copyPixel(layout, from, out, map.order[p] as number);
  };
  const probs = await scorer.probabilities(count, fill, image.classIndex, signal, onProgress);
  const clean = probs[0] as number;
  const base = probs[1] as number;
  return prepared.map((map, m) => {
    const at = (slot: number): number => probs[2 + m * perMap + slot] as number;
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
