/**
 * EigenCAM's map: the projection of each position's feature vector (A reshaped to C × Z, centred per
 * channel over positions) on the first principal component. This is the reference the in-graph Krylov
 * methods are tested against, so it is exact rather than fast: the Gram matrix of the smaller side is
 * formed in float64 and diagonalised by cyclic Jacobi rotations, which converge whatever the eigenvalue gap
 * and whatever vector a power iteration would have started from. The sign of a principal component is
 * arbitrary; it is chosen so the map correlates positively with the channel-summed activation, so that
 * "hot" means what the layer responds to.
 */
import { positions, type LayerTensors } from '../../../src-main/engine/cam/layer-tensors';

const SWEEPS = 60;

/** Eigenvector of the largest eigenvalue of the symmetric n × n matrix `a` (row-major, overwritten). */
export function topEigenvector(a: Float64Array, n: number): Float64Array {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += (a[p * n + p] as number) ** 2;
      for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if ((a[i * n + i] as number) > (a[best * n + best] as number)) best = i;
  return Float64Array.from({ length: n }, (_, k) => v[k * n + best] as number);
}

/** The n × n matrix of dot products of n vectors of `length` entries, entry j of vector i being at(i, j). */
function gramMatrix(n: number, length: number, at: (i: number, j: number) => number): Float64Array {
  const gram = new Float64Array(n * n);
  for (let p = 0; p < n; p++)
    for (let q = p; q < n; q++) {
      let s = 0;
      for (let j = 0; j < length; j++) s += at(p, j) * at(q, j);
      gram[p * n + q] = s;
      gram[q * n + p] = s;
    }
  return gram;
}

export function firstComponentMap(values: Float32Array, l: LayerTensors): Float32Array {
  const z = positions(l);
  const c = l.channels;
  // Centre each channel over positions (PCA of the Z samples with C features).
  const x = new Float64Array(c * z);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let i = 0; i < z; i++) mean += values[k * z + i] as number;
    mean /= z;
    for (let i = 0; i < z; i++) x[k * z + i] = (values[k * z + i] as number) - mean;
  }
  const map = new Float64Array(z);
  if (c <= z) {
    // Channel side: G = X·Xᵀ (c × c); the map is vᵀ·X.
    const v = topEigenvector(
      gramMatrix(c, z, (k, i) => x[k * z + i] as number),
      c,
    );
    for (let k = 0; k < c; k++)
      for (let i = 0; i < z; i++) map[i] = (map[i] as number) + (v[k] as number) * (x[k * z + i] as number);
  } else {
    // Position side: G = Xᵀ·X (z × z), whose top eigenvector u gives the map σ·u = Xᵀ·v.
    const gram = gramMatrix(z, c, (i, k) => x[k * z + i] as number);
    const u = topEigenvector(gram.slice(), z);
    let energy = 0;
    for (let i = 0; i < z; i++)
      for (let j = 0; j < z; j++) energy += (u[i] as number) * (gram[i * z + j] as number) * (u[j] as number);
    const sigma = Math.sqrt(Math.max(energy, 0));
    for (let i = 0; i < z; i++) map[i] = sigma * (u[i] as number);
  }
  // Resolve the sign against the channel-summed activation, centred (as the map is).
  const totals = new Float64Array(z);
  for (let i = 0; i < z; i++) for (let k = 0; k < c; k++) totals[i] = (totals[i] as number) + (values[k * z + i] as number);
  const meanTotal = totals.reduce((a, v) => a + v, 0) / z;
  let corr = 0;
  for (let i = 0; i < z; i++) corr += ((totals[i] as number) - meanTotal) * (map[i] as number);
  const sign = corr < 0 ? -1 : 1;
  return Float32Array.from(map, (m) => sign * m);
}
