/**
 * ScoreCAM (Wang et al.): each channel, upsampled and min-max scaled to [0, 1], masks the input; its weight
 * is the softmax over channels of the class logit of the masked input. The masking happens inside the
 * model (masked-score-model.ts): each batch feeds only its channels.
 */
import * as ort from 'onnxruntime-node';
import { positions, weightedSum } from '../layer-tensors';
import { MASK_CHANNELS_INPUT, MASKED_IMAGE_INPUT } from '../masked-score-model';
import { batched, perturbationBatch, type Progress } from '../perturbation';
import type { PerturbationJob, PerturbationMethod } from './method';

export const scorecam: PerturbationMethod = { kind: 'perturbation', run: scoreCam };

async function scoreCam(p: PerturbationJob, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array> {
  const { layer, input } = p;
  const { session, provider } = await p.maskedScore();
  const z = positions(layer);
  const image = new ort.Tensor('float32', input.data, input.shape);
  const logits = await batched(
    layer.channels,
    perturbationBatch(provider, input.data.length),
    (start, n) => ({
      [MASKED_IMAGE_INPUT]: image,
      [MASK_CHANNELS_INPUT]: new ort.Tensor('float32', layer.activation.subarray(start * z, (start + n) * z), [
        n,
        1,
        layer.height,
        layer.width,
      ]),
    }),
    async (feeds) => (await session.run(feeds, [p.scoreName]))[p.scoreName]?.data as Float32Array,
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
