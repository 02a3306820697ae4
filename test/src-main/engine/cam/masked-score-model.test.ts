/**
 * ScoreCAM's masked-score model: its upsampling matrices are resizeMap's bilinear resampling exactly, and on
 * the WebGPU provider (SwiftShader here) every node runs on the GPU with the CPU provider's scores.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { resizeMap } from '../../../../src-shared/heatmap';
import {
  bilinearMatrix,
  MASK_CHANNELS_INPUT,
  MASKED_IMAGE_INPUT,
  maskedScoreModel,
} from '../../../../src-main/engine/cam/masked-score-model';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { readNpy } from '../../../../src-main/engine/npy';
import { randomArray, rng } from '../../../helpers/gradcheck';
import { maxAbsDiff } from '../../../helpers/map-compare';
import { runOnWebgpu, useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

describe('bilinearMatrix', () => {
  it.each([
    [7, 7, 224, 224],
    [3, 5, 8, 13],
    [10, 6, 4, 3],
    [1, 2, 9, 9],
  ])('Ry · A · Rxᵀ equals resizeMap (%i×%i → %i×%i)', (h, w, H, W) => {
    const a = randomArray(h * w, rng(h * 31 + w));
    const ry = bilinearMatrix(H, h);
    const rx = bilinearMatrix(W, w);
    const out = new Float32Array(H * W);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) s += (ry[y * h + i] as number) * (rx[x * w + j] as number) * (a[i * w + j] as number);
        out[y * W + x] = s;
      }
    expect(maxAbsDiff(out, resizeMap({ width: w, height: h, data: a }, W, H, 'bilinear'))).toBeLessThan(1e-5);
  });
});

const skip = webgpuUnavailable();
const DIR = path.resolve(import.meta.dirname, '../../../fixtures/torch/resnet');

describe.skipIf(skip !== null)(`the masked-score model on WebGPU${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('runs every node on the GPU and scores as the CPU provider does', async () => {
    useSwiftShader();
    const model = describeModel(new Uint8Array(readFileSync(path.join(DIR, 'model.onnx'))), 'resnet.onnx', null);
    const input = readNpy(readFileSync(path.join(DIR, 'input.npy')), 'input.npy');
    const analysis = await analyzeGraph(model, new Map([['input' as TensorName, input.shape]]));
    const [h, w, batch] = [4, 4, 6];
    const bytes = maskedScoreModel(analysis, {
      inputName: 'input',
      inputShape: input.shape,
      channelsLast: false,
      height: h,
      width: w,
      score: 'logits' as TensorName,
    });
    const feeds = {
      [MASKED_IMAGE_INPUT]: new ort.Tensor('float32', input.data, input.shape),
      [MASK_CHANNELS_INPUT]: new ort.Tensor('float32', randomArray(batch * h * w, rng(5)), [batch, 1, h, w]),
    };
    const onGpu = await runOnWebgpu(bytes, feeds);
    expect(onGpu.cpuNodes).toEqual([]);
    expect(onGpu.webgpuNodes).toBeGreaterThan(20);
    const cpu = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const reference = (await cpu.run(feeds)).logits?.data as Float32Array;
    await cpu.release();
    const scores = onGpu.outputs.logits?.data as Float32Array;
    expect(scores.length).toBe(batch * 10);
    expect(maxAbsDiff(scores, reference)).toBeLessThan(1e-3 * Math.max(...reference.map(Math.abs)));
  }, 120_000);
});
