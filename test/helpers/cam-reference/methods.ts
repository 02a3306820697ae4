/**
 * Readable JavaScript references of the in-graph CAM methods, as pytorch-grad-cam defines them: each a small
 * function from a layer's activation (and gradient) to a raw, signed map at feature resolution. The engine
 * computes these maps inside the hooked graph (src-main/engine/cam/methods/); tests hold the graph to these.
 */
import type { CamMethod } from '../../../src-shared/cam';
import { firstComponentMap } from './eigen';
import { channelSums, positions, weightedSum, type LayerTensors } from '../../../src-main/engine/cam/layer-tensors';

const EPS = 1e-7;

type MapMethod = (l: LayerTensors, g: Float32Array) => Float32Array;

function perChannel(l: LayerTensors, f: (k: number, base: number, z: number) => number): Float64Array {
  const z = positions(l);
  return Float64Array.from({ length: l.channels }, (_, k) => f(k, k * z, z));
}

const gradcam: MapMethod = (l, g) =>
  weightedSum(
    l,
    perChannel(l, (_k, base, z) => {
      let s = 0;
      for (let i = base; i < base + z; i++) s += g[i] as number;
      return s / z;
    }),
  );

const gradcamPlusPlus: MapMethod = (l, g) => {
  const sums = channelSums(l.activation, l);
  return weightedSum(
    l,
    perChannel(l, (k, base, z) => {
      let w = 0;
      for (let i = base; i < base + z; i++) {
        const gi = g[i] as number;
        if (gi === 0) continue;
        const g2 = gi * gi;
        const alpha = g2 / (2 * g2 + (sums[k] as number) * g2 * gi + EPS);
        w += alpha * Math.max(gi, 0);
      }
      return w;
    }),
  );
};

const xgradcam: MapMethod = (l, g) => {
  const sums = channelSums(l.activation, l);
  return weightedSum(
    l,
    perChannel(l, (k, base, z) => {
      let s = 0;
      for (let i = base; i < base + z; i++) s += (g[i] as number) * (l.activation[i] as number);
      return s / ((sums[k] as number) + EPS);
    }),
  );
};

/** Σ_k f(g_k) ⊙ A_k, element-wise. */
function elementwise(l: LayerTensors, g: Float32Array, f: (x: number) => number): Float32Array {
  const z = positions(l);
  const acc = new Float64Array(z);
  for (let k = 0; k < l.channels; k++) {
    for (let i = 0; i < z; i++) acc[i] = (acc[i] as number) + f(g[k * z + i] as number) * (l.activation[k * z + i] as number);
  }
  return Float32Array.from(acc);
}

const hirescam: MapMethod = (l, g) => elementwise(l, g, (x) => x);
const layercam: MapMethod = (l, g) => elementwise(l, g, (x) => Math.max(x, 0));
const eigengradcam: MapMethod = (l, g) =>
  firstComponentMap(
    Float32Array.from(l.activation, (a, i) => a * (g[i] as number)),
    l,
  );

export const GRADIENT_MAPS: Partial<Record<CamMethod, MapMethod>> = {
  gradcam,
  'gradcam++': gradcamPlusPlus,
  xgradcam,
  hirescam,
  layercam,
  eigengradcam,
};

export function eigencam(l: LayerTensors): Float32Array {
  return firstComponentMap(l.activation, l);
}

/** CAM (Zhou et al.): the final linear layer's weights for the class, on the layer that feeds global pooling. */
export function cam(l: LayerTensors, classWeights: Float32Array): Float32Array {
  return weightedSum(l, classWeights);
}
