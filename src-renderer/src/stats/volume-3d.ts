/**
 * Voxels of one layer's activation volume (channels × H × W) above a threshold: the boxes the 3D view draws.
 * Pure, so it is unit-tested; capped so a huge layer stays interactive (the strongest values are kept).
 */
export const MAX_VOXELS = 150_000;
/** Channels are spread along z, this far apart. */
export const CHANNEL_GAP = 1.5;

export interface Voxels {
  /** x, y, z per voxel. */
  positions: Float32Array;
  /** Value per voxel scaled to [0, 1] by the layer's maximum. */
  levels: Float32Array;
  count: number;
  /** The value below which voxels are hidden. */
  cutoff: number;
}

export function voxelsAbove(data: Float32Array, shape: [number, number, number], threshold: number): Voxels {
  const [c, h, w] = shape;
  let max = 0;
  for (const v of data) if (v > max) max = v;
  let cutoff = max * threshold;
  let count = 0;
  for (const v of data) if (v > cutoff) count++;
  if (count > MAX_VOXELS) {
    // Raise the cutoff to the value that keeps the MAX_VOXELS strongest.
    const sorted = Float32Array.from(data).sort();
    cutoff = sorted[sorted.length - MAX_VOXELS] as number;
    count = 0;
    for (const v of data) if (v > cutoff) count++;
  }
  const positions = new Float32Array(count * 3);
  const levels = new Float32Array(count);
  let k = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = data[(ch * h + y) * w + x] as number;
        if (!(v > cutoff) || k >= count) continue;
        positions[k * 3] = x - w / 2;
        positions[k * 3 + 1] = h / 2 - y;
        positions[k * 3 + 2] = (ch - c / 2) * CHANNEL_GAP;
        levels[k] = max > 0 ? v / max : 0;
        k++;
      }
    }
  }
  return { positions, levels, count: k, cutoff };
}
