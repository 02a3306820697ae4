import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import type { OpenModel } from '../../../../src-main/engine/model-registry';
import type { TensorName } from '../../../../src-shared/api';
import { writeNpy } from '../../../../src-main/engine/npy';
import { planBatch } from '../../../../src-main/engine/stats/batching';
import { expandImageArgs } from '../../../../src-main/engine/stats/image-set';
import { buildModel, node, valueInfo } from '../../../helpers/onnx-builder';
import { rng } from '../../../helpers/gradcheck';

/** Two channels of 3×3: without it, a last dimension of 3 reads as a channels-last (NHWC) image. */
const layout = { 'layerlens.preprocess': JSON.stringify({ input_size: [3, 3], layout: 'NCHW' }) };

/** x → Identity ("feat", the layer) → Relu → y: the layer's values are exactly the fed tensor. */
const model = buildModel({
  inputs: [valueInfo('input', [1, 2, 3, 3])],
  outputs: [{ name: 'y' }],
  metadata: layout,
  nodes: [node('Identity', ['input'], ['feat'], '/feat/Identity'), node('Relu', ['feat'], ['y'], '/act/Relu')],
});

/** The same layer with a free batch dimension: the run feeds several images per inference run. */
const batchable = buildModel({
  inputs: [valueInfo('input', ['batch', 2, 3, 3])],
  outputs: [{ name: 'y' }],
  metadata: layout,
  nodes: [node('Identity', ['input'], ['feat'], '/feat/Identity'), node('Relu', ['feat'], ['y'], '/act/Relu')],
});

let engine: Engine;
let opened: OpenModel;
let openedBatchable: OpenModel;
let dir: string;
const tensors: Float32Array[] = [];

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-stats-'));
  await mkdir(path.join(dir, 'images'));
  await writeFile(path.join(dir, 'model.onnx'), model);
  opened = await engine.models.openPath(path.join(dir, 'model.onnx'));
  await writeFile(path.join(dir, 'batchable.onnx'), batchable);
  openedBatchable = await engine.models.openPath(path.join(dir, 'batchable.onnx'));
  const random = rng(11);
  // Values across [−3, 13]: some below 0 and above 10 (dropped by fastai's histogram), some near zero;
  // channel 1 is dead (≤ 0.05) on every image.
  for (let i = 0; i < 50; i++) {
    const t = Float32Array.from({ length: 18 }, (_, k) => (k < 9 ? random() * 16 - 3 : random() * 0.05));
    if (i === 0) t.set([10, 0, 0.05, -0.5, 12], 0);
    tensors.push(t);
    await writeFile(path.join(dir, 'images', `img-${String(i).padStart(3, '0')}.npy`), writeNpy(t, [1, 2, 3, 3]));
  }
});
afterAll(() => engine.dispose());

/** The statistics written out directly, the way fastai/PyTorch define them. */
function expected(images: Float32Array[]) {
  const all = images.flatMap((t) => Array.from(t));
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
  const hist = new Array<number>(40).fill(0);
  for (const v of all)
    if (v >= 0 && v <= 10) {
      const bin = Math.min(39, Math.floor(v / 0.25));
      hist[bin] = (hist[bin] as number) + 1;
    }
  return { mean, std, nearZero: all.filter((v) => v <= 0.05).length / all.length, hist };
}

/** Cancels a run over every image once `n` are reported done: exactly those n images' statistics remain. */
async function cancelAfter(model: OpenModel, n: number): Promise<void> {
  const files = await expandImageArgs([path.join(dir, 'images')]);
  const abort = new AbortController();
  const result = await engine.statsFiles(
    model,
    files,
    { layers: ['feat'], includeParamless: false, bins: 40, range: { kind: 'fixed', lo: 0, hi: 10 } },
    (done) => {
      if (done === n) abort.abort();
    },
    abort.signal,
  );
  expect(result.cancelled).toBe(true);
  expect(result.images).toBe(n);
  expect(result.layers[0]?.stats.mean).toBeCloseTo(expected(tensors.slice(0, n)).mean, 5);
}

describe('activation statistics', () => {
  it('match a direct computation, with fastai’s histogram dropping values outside [0, 10]', async () => {
    const files = await expandImageArgs([path.join(dir, 'images')]);
    expect(files).toHaveLength(50);
    const result = await engine.statsFiles(opened, files, {
      layers: ['feat'],
      includeParamless: false,
      bins: 40,
      range: { kind: 'fixed', lo: 0, hi: 10 },
    });
    const s = result.layers[0]?.stats;
    const e = expected(tensors);
    expect(result.images).toBe(50);
    expect(s?.mean).toBeCloseTo(e.mean, 5);
    expect(s?.std).toBeCloseTo(e.std, 5);
    expect(s?.nearZero).toBeCloseTo(e.nearZero, 10);
    expect(s?.hist).toEqual(e.hist);
    expect(s?.hist.reduce((a, b) => a + b, 0)).toBeLessThan(50 * 18);
    expect(s?.perImage).toHaveLength(50);
    const first = expected([tensors[0] as Float32Array]);
    expect(s?.perImage[0]?.mean).toBeCloseTo(first.mean, 5);
    expect(s?.perImage[0]?.std).toBeCloseTo(first.std, 5);
    expect(s?.deadChannels).toEqual([1]);
  });

  it('auto range keeps every value of the first image', async () => {
    const files = (await expandImageArgs([path.join(dir, 'images')])).slice(0, 1);
    const result = await engine.statsFiles(opened, files, {
      layers: ['feat'],
      includeParamless: false,
      bins: 16,
      range: { kind: 'auto' },
    });
    const s = result.layers[0]?.stats;
    expect(s?.hist.reduce((a, b) => a + b, 0)).toBe(18);
    expect(s?.outside).toBe(0);
    expect(s?.range[0]).toBeLessThan(-0.5);
  });

  it('cancelling keeps the partial result of the images done', () => cancelAfter(opened, 3));

  it('skips an unreadable input with the reason and goes on', async () => {
    const broken = path.join(await mkdtemp(path.join(tmpdir(), 'layerlens-broken-')), 'broken.png');
    await writeFile(broken, 'not an image');
    const files = [...(await expandImageArgs([path.join(dir, 'images')])).slice(0, 2), broken];
    const result = await engine.statsFiles(opened, [broken, ...files], {
      layers: ['feat'],
      includeParamless: false,
      bins: 40,
      range: { kind: 'fixed', lo: 0, hi: 10 },
    });
    expect(result.images).toBe(2);
    expect(result.skipped.map((s) => s.index)).toEqual([0, 3]);
    expect(result.skipped[0]?.reason).toMatch(/broken\.png could not be read as an image/);
    expect(result.layers[0]?.stats.mean).toBeCloseTo(expected(tensors.slice(0, 2)).mean, 5);
  });

  it('streams in batches where the batch dimension is free, with the same statistics per image and overall', async () => {
    const files = await expandImageArgs([path.join(dir, 'images')]);
    const request = { layers: ['feat'], includeParamless: false, bins: 40, range: { kind: 'fixed' as const, lo: 0, hi: 10 } };
    const progress: number[] = [];
    // 50 images: three full batches of 16 and a padded last one.
    const batched = await engine.statsFiles(openedBatchable, files, request, (done) => progress.push(done));
    const single = await engine.statsFiles(opened, files, request);
    expect(progress).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const s = batched.layers[0]?.stats;
    const e = expected(tensors);
    expect(batched.images).toBe(50);
    expect(s?.mean).toBeCloseTo(e.mean, 5);
    expect(s?.std).toBeCloseTo(e.std, 5);
    expect(s?.nearZero).toBeCloseTo(e.nearZero, 10);
    expect(s?.hist).toEqual(e.hist);
    expect(s?.deadChannels).toEqual([1]);
    expect(s?.perImage).toEqual(single.layers[0]?.stats.perImage);
    expect(s?.imageHists).toEqual(single.layers[0]?.stats.imageHists);
    expect(s?.channelMean).toEqual(single.layers[0]?.stats.channelMean);
    for (const i of [0, 17, 49]) expect(s?.perImage[i]?.mean).toBeCloseTo(expected([tensors[i] as Float32Array]).mean, 5);
  });

  it('batches only where the batch dimension is free and the hooked tensors carry it', async () => {
    const feat = 'feat' as TensorName;
    const plan = async (model: OpenModel, remaining: number) =>
      (
        await planBatch(model, await engine.analysis(model, [1, 2, 3, 3]), [feat], [1, 2, 3, 3], remaining, (shape) =>
          engine.analysis(model, shape),
        )
      ).size;
    expect(await plan(openedBatchable, 50)).toBe(16);
    expect(await plan(openedBatchable, 7)).toBe(4);
    expect(await plan(openedBatchable, 1)).toBe(1);
    expect(await plan(opened, 50)).toBe(1);
  });

  it('cancelling in the middle of a batch keeps exactly the images reported done', () => cancelAfter(openedBatchable, 21));

  it('keeps skipped inputs in their place within a batch', async () => {
    const broken = path.join(await mkdtemp(path.join(tmpdir(), 'layerlens-broken-')), 'broken.png');
    await writeFile(broken, 'not an image');
    const files = (await expandImageArgs([path.join(dir, 'images')])).slice(0, 20);
    const progress: number[] = [];
    const result = await engine.statsFiles(
      openedBatchable,
      [...files.slice(0, 5), broken, ...files.slice(5)],
      { layers: ['feat'], includeParamless: false, bins: 40, range: { kind: 'fixed', lo: 0, hi: 10 } },
      (done) => progress.push(done),
    );
    expect(result.images).toBe(20);
    expect(result.skipped.map((s) => s.index)).toEqual([5]);
    expect(progress).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(result.layers[0]?.stats.mean).toBeCloseTo(expected(tensors.slice(0, 20)).mean, 5);
  });

  it('defaults to layers with parameters and stages; include_paramless adds activations', async () => {
    const demo = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    const files = (await expandImageArgs(['test/fixtures/demo-heldout'])).slice(0, 2);
    const range = { kind: 'fixed' as const, lo: 0, hi: 10 };
    const base = await engine.statsFiles(demo, files, { layers: null, includeParamless: false, bins: 40, range });
    const labels = base.layers.map((l) => l.label);
    expect(labels).toContain('layer1.0.conv1');
    expect(labels).toContain('fc');
    expect(labels).toContain('layer4');
    const more = await engine.statsFiles(demo, files, { layers: null, includeParamless: true, bins: 40, range });
    expect(more.layers.length).toBeGreaterThan(base.layers.length);
  });
});
