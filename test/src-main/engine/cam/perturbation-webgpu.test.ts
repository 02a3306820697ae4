/**
 * The perturbation methods on the WebGPU provider (SwiftShader here), through the engine as a user runs
 * them: ScoreCAM's masked-score model and AblationCAM's tail model give PyTorch's maps, with batches larger
 * than the CPU's 16.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { readNpy } from '../../../../src-main/engine/npy';
import { pearson } from '../../../helpers/map-compare';
import { useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

const skip = webgpuUnavailable();
const DIR = path.resolve(import.meta.dirname, '../../../fixtures/torch/resnet');
const npy = (file: string) => readNpy(readFileSync(path.join(DIR, file)), file);

describe.skipIf(skip !== null)(`ScoreCAM and AblationCAM on WebGPU${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let engine: Engine;
  beforeAll(async () => {
    useSwiftShader();
    engine = await Engine.create({ device: 'webgpu' });
  });
  afterAll(() => engine.dispose());

  it.each([
    ['scorecam', 'stage3_scorecam.npy'],
    ['ablationcam', 'stage3_ablation.npy'],
  ] as const)(
    '%s at the last stage equals PyTorch’s, all channels in one run',
    async (method, reference) => {
      const model = await engine.models.openPath(path.join(DIR, 'model.onnx'));
      const input = npy('input.npy');
      const progress: number[] = [];
      const result = await engine.camTensor(
        model,
        { name: 'input', data: input.data, shape: input.shape },
        { layers: ['layer4'], methods: [method], classIndex: 3, counterfactual: false },
        (p) => progress.push(p.done),
      );
      expect(result.provider).toBe('webgpu');
      const layer = result.layers[0];
      expect(layer?.unavailable).toEqual({});
      expect(pearson(layer?.maps[method]?.data as Float32Array, npy(reference).data)).toBeGreaterThanOrEqual(0.9999);
      // The stage's 64 channels in one batch (the CPU takes 16 at a time).
      expect(progress).toEqual([layer?.shape[0]]);
    },
    180_000,
  );
});
