/**
 * EigenCAM's map: the projection of each position's feature vector (A reshaped to Z × C, centred per
 * channel) on the first principal component, found by power iteration (no C × C matrix is formed). The
 * sign of a principal component is arbitrary; it is chosen so the map correlates positively with the
 * channel-summed activation, so that "hot" means what the layer responds to.
 */
import { positions, type LayerTensors } from './layer-tensors';

/** Power iteration stops when the direction moves less than this (squared norm of the change). */
const ITERATIONS = 50;
/** |Δv|² below this: the map is stable far beyond what a display (or a 1e-3 comparison) can tell. */
const TOLERANCE = 1e-7;

export function firstComponentMap(values: Float32Array, l: LayerTensors): Float32Array {
  const z = positions(l);
  const c = l.channels;
  // Centre each channel over positions (PCA of the Z samples with C features).
  const x = new Float32Array(c * z);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let i = 0; i < z; i++) mean += values[k * z + i] as number;
    mean /= z;
    for (let i = 0; i < z; i++) x[k * z + i] = (values[k * z + i] as number) - mean;
  }
  let v = new Float64Array(c).fill(1 / Math.sqrt(c));
  const project = (vec: Float64Array): Float64Array => {
    const p = new Float64Array(z);
    for (let k = 0; k < c; k++) {
      const w = vec[k] as number;
      if (w === 0) continue;
      const row = x.subarray(k * z, (k + 1) * z);
      for (let i = 0; i < z; i++) p[i] = (p[i] as number) + w * (row[i] as number);
    }
    return p;
  };
  for (let it = 0; it < ITERATIONS; it++) {
    const p = project(v);
    const next = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      const row = x.subarray(k * z, (k + 1) * z);
      let s = 0;
      for (let i = 0; i < z; i++) s += (row[i] as number) * (p[i] as number);
      next[k] = s;
    }
    let norm = 0;
    for (const n of next) norm += n * n;
    norm = Math.sqrt(norm);
    if (norm === 0) return new Float32Array(z);
    let change = 0;
    for (let k = 0; k < c; k++) {
      const n = (next[k] as number) / norm;
      change += (n - (v[k] as number)) ** 2;
      next[k] = n;
    }
    v = next;
    if (change < TOLERANCE) break;
  }
  const map = project(v);
  // Resolve the sign against the channel-summed activation.
  let corr = 0;
  for (let i = 0; i < z; i++) {
    let total = 0;
    for (let k = 0; k < c; k++) total += values[k * z + i] as number;
    corr += total * (map[i] as number);
  }
  const sign = corr < 0 ? -1 : 1;
  return Float32Array.from(map, (m) => sign * m);
}
