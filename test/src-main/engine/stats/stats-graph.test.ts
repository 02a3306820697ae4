/**
 * The graph form of a stats run (reductions appended to the model, stats-graph.ts) against a direct
 * JavaScript computation and against the scan form. Tolerances: per-image sums are float32 reductions
 * (relative 1e-5 on means and stds here); counts are exact — near-zero counts, dead channels, the values
 * inside the range — and so is every histogram bin, except that a value within float32 rounding of an
 * interior bin edge may be counted in the bin on the other side of that edge (the range ends, lo and hi,
 * are exact).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import type { OpenModel } from '../../../../src-main/engine/model-registry';
import { writeNpy } from '../../../../src-main/engine/npy';
import { f32AtLeast, f32AtMost, NEAR_ZERO } from '../../../../src-main/engine/stats/scan-activation';
import { histDigits, statsRange } from '../../../../src-main/engine/stats/stats-graph';
import type { StatsRequest, StatsResult } from '../../../../src-main/engine/stats/stats-runner';
import { buildModel, floatTensor, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';
import { rng } from '../../../helpers/gradcheck';

const layout = { 'layerlens.preprocess': JSON.stringify({ input_size: [4, 4], layout: 'NCHW' }) };
/** input → Identity ("feat"): the layer's values are exactly the fed tensor, 3 channels of 4×4. */
const identity = buildModel({
  inputs: [valueInfo('input', ['batch', 3, 4, 4])],
  outputs: [{ name: 'y' }],
  metadata: layout,
  nodes: [node('Identity', ['input'], ['feat'], '/feat/Identity'), node('Relu', ['feat'], ['y'], '/act/Relu')],
});

/** A small convolutional model: Conv(3→8) → Relu → Conv(8→6, stride 2) → GlobalAveragePool → Flatten → Gemm. */
function convModel(): Uint8Array {
  const random = rng(7);
  const w = (n: number, scale: number) => Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  return buildModel({
    inputs: [valueInfo('input', ['batch', 3, 16, 16])],
    outputs: [{ name: 'logits' }],
    metadata: { 'layerlens.preprocess': JSON.stringify({ input_size: [16, 16], layout: 'NCHW' }) },
    initializers: [
      floatTensor('conv1.weight', [8, 3, 3, 3], w(8 * 27, 0.6)),
      floatTensor('conv1.bias', [8], w(8, 0.3)),
      floatTensor('conv2.weight', [6, 8, 3, 3], w(6 * 72, 0.4)),
      floatTensor('conv2.bias', [6], w(6, 0.3)),
      floatTensor('fc.weight', [5, 6], w(30, 1)),
      floatTensor('fc.bias', [5], w(5, 0.1)),
    ],
    nodes: [
      node('Conv', ['input', 'conv1.weight', 'conv1.bias'], ['c1'], '/conv1/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
      node('Relu', ['c1'], ['r1'], '/relu/Relu'),
      node('Conv', ['r1', 'conv2.weight', 'conv2.bias'], ['c2'], '/conv2/Conv', [
        intsAttr('pads', [1, 1, 1, 1]),
        intsAttr('strides', [2, 2]),
      ]),
      node('GlobalAveragePool', ['c2'], ['pooled'], '/pool/GlobalAveragePool'),
      node('Flatten', ['pooled'], ['flat'], '/flatten/Flatten'),
      node('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], '/fc/Gemm', [{ name: 'transB', type: 2, i: 1n } as never]),
    ],
  });
}

let engine: Engine;
let dir: string;
let opened: OpenModel;
let conv: OpenModel;
const images: Float32Array[] = [];
let files: string[] = [];
let convFiles: string[] = [];

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-stats-graph-'));
  await writeFile(path.join(dir, 'identity.onnx'), identity);
  await writeFile(path.join(dir, 'conv.onnx'), convModel());
  opened = await engine.models.openPath(path.join(dir, 'identity.onnx'));
  conv = await engine.models.openPath(path.join(dir, 'conv.onnx'));
  const random = rng(3);
  const width = 10 / 40;
  for (let i = 0; i < 21; i++) {
    // Values over [−3, 13], kept 1e-4 away from interior bin edges (those are tested apart); channel 2 is
    // dead (≤ 0.05) on every image; the first image holds the exact range ends and other specials.
    const t = Float32Array.from({ length: 48 }, (_, k) => {
      if (k >= 32) return random() * NEAR_ZERO;
      let v = random() * 16 - 3;
      const off = v / width - Math.round(v / width);
      if (Math.abs(off) < 1e-3 && v > 0.1 && v < 9.9) v += 2e-3 * width;
      return v;
    });
    if (i === 0) t.set([10, 0, NEAR_ZERO, -0.5, 12, -0, Math.fround(NEAR_ZERO), 1e-30, -1e-30, 9.999999], 0);
    images.push(t);
    await writeFile(path.join(dir, `img-${String(i).padStart(2, '0')}.npy`), writeNpy(t, [1, 3, 4, 4]));
  }
  files = images.map((_, i) => path.join(dir, `img-${String(i).padStart(2, '0')}.npy`));
  const convRandom = rng(5);
  convFiles = [];
  for (let i = 0; i < 9; i++) {
    const file = path.join(dir, `conv-${i}.npy`);
    await writeFile(
      file,
      writeNpy(
        Float32Array.from({ length: 3 * 256 }, () => convRandom() * 4 - 2),
        [1, 3, 16, 16],
      ),
    );
    convFiles.push(file);
  }
});
afterAll(() => engine.dispose());

/** The figures as fastai/PyTorch define them, in float64, with the JavaScript histogram's bin rule. */
function direct(values: Float32Array[], channels: number, lo: number, hi: number, bins: number) {
  const all = values.flatMap((t) => Array.from(t));
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
  const hist = new Array<number>(bins).fill(0);
  for (const v of all)
    if (v >= lo && v <= hi) {
      const bin = Math.min(bins - 1, Math.trunc((v - lo) * (bins / (hi - lo))));
      hist[bin] = (hist[bin] as number) + 1;
    }
  const per = (values[0] as Float32Array).length / channels;
  const channelNear = Array.from({ length: channels }, (_, c) => {
    let z = 0;
    for (const t of values) for (let i = c * per; i < (c + 1) * per; i++) z += +((t[i] as number) <= NEAR_ZERO);
    return z / (values.length * per);
  });
  return { mean, std, nearZero: all.filter((v) => v <= NEAR_ZERO).length / all.length, hist, channelNear };
}

const fixed = (bins = 40): StatsRequest => ({
  layers: ['feat'],
  includeParamless: false,
  bins,
  range: { kind: 'fixed', lo: 0, hi: 10 },
  form: 'graph',
});

function closeRel(got: number, want: number, rel: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

/** Every figure of two runs: counts exact, sums to `rel`. */
function sameStats(a: StatsResult, b: StatsResult, rel: number): void {
  expect(a.layers.map((l) => l.label)).toEqual(b.layers.map((l) => l.label));
  a.layers.forEach((layer, k) => {
    const x = layer.stats;
    const y = (b.layers[k] as StatsResult['layers'][number]).stats;
    expect(x.count).toBe(y.count);
    expect(x.range).toEqual(y.range);
    expect(x.hist).toEqual(y.hist);
    expect(x.outside).toBe(y.outside);
    expect(x.nearZero).toBe(y.nearZero);
    expect(x.channelNearZero).toEqual(y.channelNearZero);
    expect(x.deadChannels).toEqual(y.deadChannels);
    expect(x.imageHists.map((h) => Array.from(h))).toEqual(y.imageHists.map((h) => Array.from(h)));
    closeRel(x.mean, y.mean, rel);
    closeRel(x.std, y.std, rel);
    x.perImage.forEach((p, i) => {
      closeRel(p.mean, y.perImage[i]?.mean as number, rel);
      closeRel(p.std, y.perImage[i]?.std as number, rel);
      expect(p.near_zero).toBe(y.perImage[i]?.near_zero);
    });
    x.channelMean.forEach((m, c) => closeRel(m, y.channelMean[c] as number, rel));
  });
}

describe('activation statistics computed in the graph', () => {
  it('match a direct computation: exact counts (range ends, near zero, dead channels), float32 sums', async () => {
    const result = await engine.statsFiles(opened, files, fixed());
    expect(result.form).toBe('graph');
    expect(result.batch).toBe(16);
    const s = result.layers[0]?.stats;
    const e = direct(images, 3, 0, 10, 40);
    expect(result.images).toBe(21);
    expect(s?.hist).toEqual(e.hist);
    expect(s?.outside).toBe(21 * 48 - e.hist.reduce((a, b) => a + b, 0));
    expect(s?.nearZero).toBe(e.nearZero);
    expect(s?.channelNearZero).toEqual(e.channelNear);
    expect(s?.deadChannels).toEqual([2]);
    closeRel(s?.mean as number, e.mean, 1e-6);
    closeRel(s?.std as number, e.std, 1e-6);
    for (const i of [0, 15, 16, 20]) {
      const one = direct([images[i] as Float32Array], 3, 0, 10, 40);
      closeRel(s?.perImage[i]?.mean as number, one.mean, 1e-6);
      closeRel(s?.perImage[i]?.std as number, one.std, 1e-6);
      expect(Array.from(s?.imageHists[i] ?? [])).toEqual(one.hist);
    }
  });

  it('equal the scan form, for other bin counts and ranges too', async () => {
    for (const [bins, lo, hi] of [
      [40, 0, 10],
      [17, -3.7, 5.3],
      [1, -1, 1],
      [64, -2, 12],
      [7, 0.05, 0.7],
    ] as const) {
      const req: StatsRequest = { ...fixed(bins), range: { kind: 'fixed', lo, hi } };
      const graph = await engine.statsFiles(opened, files, req);
      const scan = await engine.statsFiles(opened, files, { ...req, form: 'scan' });
      expect(graph.form).toBe('graph');
      expect(scan.form).toBe('scan');
      sameStats(graph, scan, 1e-6);
    }
  });

  it('take the automatic range from the first image, as the scan form does', async () => {
    const req: StatsRequest = { ...fixed(16), range: { kind: 'auto' } };
    const graph = await engine.statsFiles(opened, files.slice(3), req);
    const scan = await engine.statsFiles(opened, files.slice(3), { ...req, form: 'scan' });
    sameStats(graph, scan, 1e-6);
    const first = images[3] as Float32Array;
    const margin = (Math.max(...first) - Math.min(...first)) * 0.1;
    expect(graph.layers[0]?.stats.range).toEqual([Math.min(...first) - margin, Math.max(...first) + margin]);
    expect(graph.layers[0]?.stats.hist.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('move a value on an interior bin edge by at most one bin, and never out of the range', async () => {
    // Every edge of 40 bins on [0, 10] (float32 holds them exactly: they must be exact) and of 17 on
    // [−3.7, 5.3] (rounded: each may move by one bin), in one image each.
    for (const [bins, lo, hi] of [
      [40, 0, 10],
      [17, -3.7, 5.3],
    ] as const) {
      const edges = Float32Array.from({ length: 48 }, (_, i) => lo + (i % (bins + 1)) * ((hi - lo) / bins));
      const file = path.join(dir, `edges-${bins}.npy`);
      await writeFile(file, writeNpy(edges, [1, 3, 4, 4]));
      const req: StatsRequest = { ...fixed(bins), range: { kind: 'fixed', lo, hi } };
      const graph = (await engine.statsFiles(opened, [file], req)).layers[0]?.stats.hist as number[];
      const want = direct([edges], 3, lo, hi, bins).hist;
      if (bins === 40) expect(graph).toEqual(want);
      expect(graph.reduce((a, b) => a + b, 0)).toBe(want.reduce((a, b) => a + b, 0));
      // Cumulative counts differ by at most the values sitting on the edge between.
      let cg = 0;
      let cw = 0;
      for (let k = 0; k < bins; k++) {
        cg += graph[k] as number;
        cw += want[k] as number;
        expect(Math.abs(cg - cw)).toBeLessThanOrEqual(
          edges.filter((v) => Math.abs(v - (lo + (k + 1) * ((hi - lo) / bins))) < 1e-5).length,
        );
      }
      // The range ends are exact: lo in the first bin, hi in the last.
      const ends = path.join(dir, `ends-${bins}.npy`);
      const values = Float32Array.from(
        { length: 48 },
        (_, i) => [f32AtLeast(lo), f32AtMost(hi), lo - 1, hi + 1, 1e30][i % 5] as number,
      );
      await writeFile(ends, writeNpy(values, [1, 3, 4, 4]));
      const endsHist = (await engine.statsFiles(opened, [ends], req)).layers[0]?.stats.hist as number[];
      expect(endsHist).toEqual(direct([values], 3, lo, hi, bins).hist);
      expect(endsHist[0]).toBeGreaterThan(0);
      expect(endsHist[bins - 1]).toBeGreaterThan(0);
    }
  });

  it('equal the scan form on every default layer of a convolutional model, batched or not', async () => {
    const req: StatsRequest = {
      layers: null,
      includeParamless: true,
      bins: 40,
      range: { kind: 'fixed', lo: 0, hi: 10 },
      form: 'graph',
    };
    const graph = await engine.statsFiles(conv, convFiles, req);
    const scan = await engine.statsFiles(conv, convFiles, { ...req, form: 'scan' });
    const single = await engine.statsFiles(conv, convFiles, { ...req, maxBatch: 1 });
    // A memory budget below one image's intermediates: one image per run, same figures.
    const budget = await engine.statsFiles(conv, convFiles, { ...req, batchBytes: 64 * 1024 });
    expect(graph.batch).toBe(8);
    expect(single.batch).toBe(1);
    expect(budget.batch).toBe(1);
    sameStats(budget, scan, 1e-5);
    expect(graph.layers.length).toBeGreaterThanOrEqual(5);
    sameStats(graph, scan, 1e-5);
    sameStats(single, scan, 1e-5);
  });

  it.each([
    ['resnet', 'layer1'],
    ['vit', 'encoder.layers.encoder_layer_1'],
    ['swin', 'features.3'],
  ])('equal the scan form on %s (its own layout and opset), with the automatic range', async (name, layer) => {
    const fixture = `test/fixtures/torch/${name}`;
    const model = await engine.models.openPath(`${fixture}/model.onnx`);
    const req: StatsRequest = { layers: [layer], includeParamless: false, bins: 40, range: { kind: 'auto' }, form: 'graph' };
    const graph = await engine.statsFiles(model, [`${fixture}/input.npy`], req);
    const scan = await engine.statsFiles(model, [`${fixture}/input.npy`], { ...req, form: 'scan' });
    sameStats(graph, scan, 1e-5);
    const defaults = { ...req, layers: null, range: { kind: 'fixed' as const, lo: 0, hi: 10 } };
    sameStats(
      await engine.statsFiles(model, [`${fixture}/input.npy`], defaults),
      await engine.statsFiles(model, [`${fixture}/input.npy`], { ...defaults, form: 'scan' }),
      1e-5,
    );
  });

  it('splits a bin index into two digits whose product covers every bin, and maps hi into the last bin', () => {
    for (const bins of [1, 2, 7, 40, 64, 1000, 10_000]) {
      const [d1, d2] = histDigits(bins);
      expect(d1 * d2).toBeGreaterThanOrEqual(bins);
      expect(Math.log2(d2) % 1).toBe(0);
      // About 2√bins one-hot entries per value (√2 + 1/√2 times √bins at worst, D2 being a power of two).
      expect(d1 + d2).toBeLessThanOrEqual(2.13 * Math.sqrt(bins) + 2);
    }
    for (const [lo, hi, bins] of [
      [0, 10, 40],
      [-3.7, 5.3, 17],
      [0.1, 0.7, 3],
      [-1e-3, 2e-3, 1],
    ] as const) {
      const { lo32, scale32, hi32 } = statsRange(lo, hi, bins);
      expect(lo32).toBeGreaterThanOrEqual(lo);
      expect(Math.fround(lo32)).toBe(lo32);
      // hi either falls in the last bin by itself or is counted apart (hi32 is then the float32 hi).
      const top = Math.fround(Math.fround(f32AtMost(hi) - lo32) * scale32);
      if (Number.isNaN(hi32)) expect(Math.floor(top)).toBe(bins - 1);
      else expect(top).toBeGreaterThanOrEqual(bins);
    }
  });
});
