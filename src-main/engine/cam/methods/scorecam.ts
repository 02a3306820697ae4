/**
 * ScoreCAM (Wang et al.): each channel, upsampled and min-max scaled to [0, 1], masks the input; its weight
 * is the softmax over channels of the class logit of the masked input.
 */
import * as ort from 'onnxruntime-node';
import { resizeMap } from '../../../../src-shared/heatmap';
import { positions, weightedSum } from '../layer-tensors';
import { batched, type Progress } from '../perturbation';
import type { PerturbationJob, PerturbationMethod } from './method';

export const scorecam: PerturbationMethod = { kind: 'perturbation', run: scoreCam };

async function scoreCam(p: PerturbationJob, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array> {
  const { layer, input } = p;
  const session = await p.plain();
  const [, a, b, c] = input.shape as [number, number, number, number];
  const [channelsIn, height, width] = input.channelsLast ? [c, a, b] : [a, b, c];
  const plane = height * width;
  const z = positions(layer);
  const masks: Float32Array[] = [];
  for (let k = 0; k < layer.channels; k++) {
    const up = resizeMap(
      { width: layer.width, height: layer.height, data: layer.activation.subarray(k * z, (k + 1) * z) },
      width,
      height,
      'bilinear',
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of up) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    masks.push(Float32Array.from(up, (v) => (range > 0 ? (v - lo) / range : 0)));
  }
  const logits = await batched(
    layer.channels,
    (start, n) => {
      const data = new Float32Array(n * channelsIn * plane);
      for (let b = 0; b < n; b++) {
        const mask = masks[start + b] as Float32Array;
        const out = data.subarray(b * channelsIn * plane, (b + 1) * channelsIn * plane);
        if (input.channelsLast) {
          for (let i = 0; i < plane; i++)
            for (let k = 0; k < channelsIn; k++)
              out[i * channelsIn + k] = (input.data[i * channelsIn + k] as number) * (mask[i] as number);
        } else {
          for (let k = 0; k < channelsIn; k++)
            for (let i = 0; i < plane; i++) out[k * plane + i] = (input.data[k * plane + i] as number) * (mask[i] as number);
        }
      }
      return new ort.Tensor('float32', data, [n, ...input.shape.slice(1)]);
    },
    async (batch) => {
      const r = await session.run({ [input.name]: batch }, [p.scoreName]);
      return r[p.scoreName]?.data as Float32Array;
    },
    p.classes,
    onProgress,
    signal,
  );
  const scores = Float64Array.from({ length: layer.channels }, (_, k) => logits[k * p.classes + p.classIndex] as number);
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  let total = 0;
  const weights = scores.map((s) => {
    const e = Math.exp(s - max);
    total += e;
    return e;
  });
  return weightedSum(
    layer,
    weights.map((w) => w / total),
  );
}
