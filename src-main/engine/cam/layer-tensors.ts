/** One layer's activation A and gradient g = ∂score/∂A for one image, [C, H, W] row-major. */
export interface LayerTensors {
  channels: number;
  height: number;
  width: number;
  activation: Float32Array;
  gradient: Float32Array | null;
}

export const positions = (l: LayerTensors): number => l.height * l.width;

/** Σ_k w_k A_k: the map of every weights-based method. */
export function weightedSum(l: LayerTensors, weights: Float64Array | Float32Array): Float32Array {
  const z = positions(l);
  const acc = new Float64Array(z);
  for (let k = 0; k < l.channels; k++) {
    const w = weights[k] as number;
    if (w === 0) continue;
    const base = k * z;
    for (let i = 0; i < z; i++) acc[i] = (acc[i] as number) + w * (l.activation[base + i] as number);
  }
  return Float32Array.from(acc);
}

/** Σ_ij of each channel of a [C, H, W] tensor. */
export function channelSums(data: Float32Array, l: LayerTensors): Float64Array {
  const z = positions(l);
  const out = new Float64Array(l.channels);
  for (let k = 0; k < l.channels; k++) {
    let s = 0;
    for (let i = k * z; i < (k + 1) * z; i++) s += data[i] as number;
    out[k] = s;
  }
  return out;
}
