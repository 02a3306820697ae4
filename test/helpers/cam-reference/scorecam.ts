/**
 * ScoreCAM written out directly (Wang et al.; pytorch-grad-cam's ScoreCAM): each channel upsampled
 * bilinearly (align_corners=False), min-max scaled, multiplies the image; one plain forward per channel;
 * the channels' class logits go through a softmax and weight the channels. NCHW input only.
 */
import * as ort from 'onnxruntime-node';
import { resizeMap } from '../../../src-shared/heatmap';

export async function scoreCamReference(
  model: Uint8Array,
  input: { name: string; data: Float32Array; shape: number[] },
  layer: { activation: Float32Array; channels: number; height: number; width: number },
  classIndex: number,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const [, channelsIn, height, width] = input.shape as [number, number, number, number];
  const plane = height * width;
  const z = layer.height * layer.width;
  const scores: number[] = [];
  for (let k = 0; k < layer.channels; k++) {
    const up = resizeMap(
      { width: layer.width, height: layer.height, data: layer.activation.subarray(k * z, (k + 1) * z) },
      width,
      height,
      'bilinear',
    );
    const lo = Math.min(...up);
    const hi = Math.max(...up);
    const masked = new Float32Array(input.data.length);
    for (let c = 0; c < channelsIn; c++)
      for (let i = 0; i < plane; i++)
        masked[c * plane + i] = (input.data[c * plane + i] as number) * (hi > lo ? ((up[i] as number) - lo) / (hi - lo) : 0);
    const out = await session.run({ [input.name]: new ort.Tensor('float32', masked, input.shape) });
    scores.push((out[session.outputNames[0] as string]?.data as Float32Array)[classIndex] as number);
  }
  await session.release();
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const total = e.reduce((a, b) => a + b, 0);
  const map = new Float64Array(z);
  for (let k = 0; k < layer.channels; k++)
    for (let i = 0; i < z; i++)
      map[i] = (map[i] as number) + ((e[k] as number) / total) * (layer.activation[k * z + i] as number);
  return Float32Array.from(map);
}
