/**
 * The arithmetic of the faithfulness metrics, free of any model: which pixels a step of a deletion or
 * insertion curve changes, the area under a curve, average drop / increase in confidence, the pointing game.
 * Definitions: Petsiuk et al. 2018 (RISE) for the curves, Chattopadhyay et al. 2018 (Grad-CAM++) for average
 * drop and increase, Zhang et al. 2016 for the pointing game.
 */
import type { Box } from '../../../src-shared/trust';
import { keyIndex, MAX_PACKED, packedSort } from './packed-sort';

/** Pixel indices from the most to the least salient (ties: the lower index first, a stable order). */
export function salienceOrder(map: Float32Array): Uint32Array {
  if (map.length > MAX_PACKED) {
    const order = Uint32Array.from(map.keys());
    return order.sort((a, b) => (map[b] as number) - (map[a] as number) || a - b);
  }
  const { keys, scale } = packedSort(map, true);
  return Uint32Array.from(keys, (k) => keyIndex(k, scale));
}

/** How many pixels are deleted (inserted) after step k of `steps`: ⌊k·P / steps⌋. */
export function pixelsAtStep(k: number, steps: number, pixels: number): number {
  return Math.floor((k * pixels) / steps);
}

/** Trapezoidal area under probabilities sampled at 0, 1/steps, …, 1. */
export function areaUnderCurve(probs: ArrayLike<number>): number {
  const steps = probs.length - 1;
  if (steps < 1) return NaN;
  let sum = 0;
  for (let k = 0; k < steps; k++) sum += ((probs[k] as number) + (probs[k + 1] as number)) / 2;
  return sum / steps;
}

/** Grad-CAM++'s per-image drop: max(0, Y − O) / Y. */
export function confidenceDrop(y: number, o: number): number {
  return y > 0 ? Math.max(0, y - o) / y : 0;
}

/** Whether the hottest pixel (the first in salience order) lies in the box, [x0, x1) × [y0, y1). */
export function pointingHit(order: Uint32Array, width: number, box: Box): boolean {
  const best = order[0] ?? 0;
  const x = best % width;
  const y = Math.floor(best / width);
  return x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
}

/** The share of a width × height input that a box covers (clipped to it). */
export function boxShare(box: Box, width: number, height: number): number {
  const w = Math.max(0, Math.min(box[2], width) - Math.max(box[0], 0));
  const h = Math.max(0, Math.min(box[3], height) - Math.max(box[1], 0));
  return (w * h) / (width * height);
}
