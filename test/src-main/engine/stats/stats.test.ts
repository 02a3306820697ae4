import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import type { OpenModel } from '../../../../src-main/engine/model-registry';
import { writeNpy } from '../../../../src-main/engine/npy';
import { expandImageArgs } from '../../../../src-main/engine/stats/image-set';
import { buildModel, node, valueInfo } from '../../../helpers/onnx-builder';
import { rng } from '../../../helpers/gradcheck';

/** x → Identity ("feat", the layer) → Relu → y: the layer's values are exactly the fed tensor. */
const model = buildModel({
  inputs: [valueInfo('input', [1, 2, 3, 3])],
  outputs: [{ name: 'y' }],
  nodes: [node('Identity', ['input'], ['feat'], '/feat/Identity'), node('Relu', ['feat'], ['y'], '/act/Relu')],
});

let engine: Engine;
let opened: OpenModel;
let dir: string;
const tensors: Float32Array[] = [];

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-stats-'));
  await writeFile(path.join(dir, 'model.onnx'), model);
  opened = await engine.models.openPath(path.join(dir, 'model.onnx'));
  const random = rng(11);
  // Values across [−3, 13]: some below 0 and above 10 (dropped by fastai's histogram), some near zero;
  // channel 1 is dead (≤ 0.05) on every image.
  for (let i = 0; i < 50; i++) {
    const t = Float32Array.from({ length: 18 }, (_, k) => (k < 9 ? random() * 16 - 3 : random() * 0.05));
    if (i === 0) t.set([10, 0, 0.05, -0.5, 12], 0);
    tensors.push(t);
    await writeFile(path.join(dir, `img-${String(i).padStart(3, '0')}.npy`), writeNpy(t, [1, 2, 3, 3]));
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

describe('activation statistics', () => {
  it('match a direct computation, with fastai’s histogram dropping values outside [0, 10]', async () => {
    const files = await expandImageArgs([dir]);
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
    const files = (await expandImageArgs([dir])).slice(0, 1);
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

  it('cancelling keeps the partial result of the images done', async () => {
    const files = await expandImageArgs([dir]);
    const abort = new AbortController();
    const result = await engine.statsFiles(
      opened,
      files,
      { layers: ['feat'], includeParamless: false, bins: 40, range: { kind: 'fixed', lo: 0, hi: 10 } },
      (done) => {
        if (done === 3) abort.abort();
      },
      abort.signal,
    );
    expect(result.cancelled).toBe(true);
    expect(result.images).toBe(3);
    expect(result.layers[0]?.stats.mean).toBeCloseTo(expected(tensors.slice(0, 3)).mean, 5);
  });

  it('skips an unreadable input with the reason and goes on', async () => {
    const broken = path.join(await mkdtemp(path.join(tmpdir(), 'layerlens-broken-')), 'broken.png');
    await writeFile(broken, 'not an image');
    const files = [...(await expandImageArgs([dir])).slice(0, 2), broken];
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
