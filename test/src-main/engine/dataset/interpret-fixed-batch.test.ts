/**
 * A model whose input batch is fixed at 1: the prediction pass runs one image per run, and the top losses'
 * maps cannot be forked as one batch — each image is forked on its own (its two classes in one run), with
 * the single runs' maps.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelId } from '../../../../src-shared/api';
import { imageAt } from '../../../../src-shared/dataset';
import { CamItemsRunner } from '../../../../src-main/engine/cam/cam-items';
import { Engine } from '../../../../src-main/engine/engine';
import { randomTensor, rng } from '../../../helpers/gradcheck';
import { expectSameMaps } from '../../../helpers/map-compare';
import { buildModel, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';

const r = rng(61);
const bytes = buildModel({
  inputs: [valueInfo('x', [1, 3, 16, 16])],
  outputs: [{ name: 'y' }],
  initializers: [randomTensor('W', [6, 3, 3, 3], r), randomTensor('fcW', [4, 6], r)],
  nodes: [
    node('Conv', ['x', 'W'], ['c'], '/features/conv/Conv', [intsAttr('pads', [1, 1, 1, 1]), intsAttr('strides', [2, 2])]),
    node('Relu', ['c'], ['features'], '/features/relu/Relu'),
    node('GlobalAveragePool', ['features'], ['p'], '/pool'),
    node('Flatten', ['p'], ['f'], '/flatten'),
    node('Gemm', ['f', 'fcW'], ['y'], '/fc', [intAttr('transB', 1)]),
  ],
  opset: 13,
});

let engine: Engine;
let root: string;
let modelId: ModelId;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'layerlens-fixed-batch-'));
  const modelPath = path.join(root, 'fixed.onnx');
  writeFileSync(modelPath, bytes);
  mkdirSync(path.join(root, 'images'));
  const rows = ['path,label'];
  for (let i = 0; i < 8; i++) {
    const pixels = Buffer.from(Array.from({ length: 16 * 16 * 3 }, (_, k) => (k * (i + 3) * 37 + i * 11) % 256));
    await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toFile(path.join(root, 'images', `${i}.png`));
    rows.push(`images/${i}.png,${i % 4}`);
  }
  writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  engine = await Engine.create({ device: 'cpu' });
  modelId = (await engine.openModelPath({ path: modelPath })).id;
});
afterAll(() => {
  engine.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('interpret with a batch fixed at 1', () => {
  it("forks each top loss on its own, with the single runs' maps for both classes", async () => {
    const forked = vi.spyOn(CamItemsRunner.prototype, 'run');
    const result = await engine.interpretDataset({
      modelId,
      dataset: path.join(root, 'labels.csv'),
      topLosses: 4,
      layer: 'features',
      methods: ['gradcam', 'layercam'],
      jobId: 'fixed',
    });
    // The whole chunk refused, then one run per image, each answered.
    const calls = forked.mock.calls.map(([, images]) => images.length);
    expect(calls).toEqual([4, 1, 1, 1, 1]);
    expect(await forked.mock.results[0]?.value).toBeNull();
    for (const call of forked.mock.results.slice(1)) expect(await call.value).not.toBeNull();
    forked.mockRestore();
    expect(result.batch).toBe(1);
    expect(result.topLosses.filter((t) => t.actual !== null).length).toBeGreaterThan(0);
    for (const t of result.topLosses) {
      const image = imageAt(result.images, t.index);
      for (const [mine, classIndex] of [
        [t.predicted, image.predicted],
        [t.actual, image.actual],
      ] as const) {
        if (mine === null) continue;
        const alone = await engine.computeCam({
          modelId,
          image: { kind: 'path', path: image.path },
          layers: ['features'],
          methods: ['gradcam', 'layercam'],
          classIndex,
          counterfactual: false,
          jobId: `alone-${t.index}-${classIndex}`,
        });
        expect(mine.classIndex).toBe(classIndex);
        expectSameMaps(mine.layers, alone.result.layers);
      }
    }
  });
});
