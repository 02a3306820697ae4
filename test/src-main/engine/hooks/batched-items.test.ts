/**
 * A hooked run over a batch of independent items (HookOptions.items): each item explains its own class and
 * gets its own maps, equal to a run of that item alone — the same image for two classes (as a wrong top
 * loss needs) and another image, every in-graph method at every stage of the demo model, and each item's
 * own top class.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import type { CamMethod } from '../../../../src-shared/cam';
import { cancellationNote } from '../../../../src-main/engine/cam/cancellation';
import { analyzeGraph, type GraphAnalysis } from '../../../../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../../../../src-main/engine/graph/layers';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT, type HookedModel } from '../../../../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../../../../src-main/engine/hooks/map-graph';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { decodeModel } from '../../../../src-main/engine/onnx/decode-model';
import { randomTensor, rng } from '../../../helpers/gradcheck';
import { maxAbsDiff, minMax, pearson } from '../../../helpers/map-compare';
import { buildModel, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';
import { runOnWebgpu, useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

const bytes = readFileSync('resources/demo/layerlens-demo.onnx');
const model = describeModel(new Uint8Array(bytes), 'layerlens-demo.onnx', null);
const input = model.summary.inputs[0]?.name as TensorName;
const [H, W] = [96, 96];
const image = (phase: number): Float32Array =>
  Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.013 + phase) + 0.3 * Math.cos(i * 0.0071 * phase));
const methods = [...IN_GRAPH_METHODS].sort() as CamMethod[];

async function run(
  hooked: HookedModel,
  data: Float32Array,
  items: number,
  classes: number[],
  top: number,
  feed: { name: string; shape: number[] } = { name: input, shape: [3, H, W] },
) {
  const session = await ort.InferenceSession.create(hooked.bytes);
  const k = hooked.scoreShape.at(-1) as number;
  const seed = new Float32Array(items * k);
  classes.forEach((c, i) => {
    if (c >= 0) seed[i * k + c] = 1;
  });
  const out = await session.run({
    [feed.name]: new ort.Tensor('float32', data, [items, ...feed.shape]),
    [SEED_INPUT]: new ort.Tensor('float32', seed, [items, k]),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(top), []),
  });
  await session.release();
  return out;
}

type Outputs = Awaited<ReturnType<typeof run>>;

/**
 * Each item's map from the batched run against its own single run (to 1e-4 of the map's peak), for every
 * (layer, method) both have, with a term scale per item; returns how many were compared. `skipCancelled`:
 * maps the runner would note as cancelled to rounding are not compared.
 */
function expectItemMaps(o: {
  one: GraphAnalysis;
  single: HookedModel;
  batched: HookedModel;
  together: Outputs;
  alone: Outputs[];
  tensors: TensorName[];
  methods: CamMethod[];
  label: string;
  skipCancelled?: boolean;
}): number {
  const items = o.alone.length;
  let compared = 0;
  for (const t of o.tensors) {
    const grid = o.one.gridOf(t);
    const z = (grid?.height ?? 0) * (grid?.width ?? 0);
    for (const m of o.methods) {
      const mine = o.batched.maps.get(t)?.get(m);
      const own = o.single.maps.get(t)?.get(m);
      expect(Boolean(mine), `${t} ${m}`).toBe(Boolean(own));
      if (!mine || !own) continue;
      const all = o.together[mine]?.data as Float32Array;
      expect(all.length).toBe(items * z);
      for (let i = 0; i < items; i++) {
        const ref = o.alone[i]?.[own]?.data as Float32Array;
        const terms = o.single.termScales.get(t)?.get(m);
        if (o.skipCancelled && terms && cancellationNote(ref, (o.alone[i]?.[terms]?.data as Float32Array)[0] as number)) continue;
        const scale = Math.max(...ref.map(Math.abs)) || 1;
        const worst = maxAbsDiff(all.subarray(i * z, (i + 1) * z), ref);
        expect(worst / scale, `${t} ${m} item ${i} (${o.label})`).toBeLessThan(1e-4);
        compared++;
      }
      const scales = o.batched.termScales.get(t)?.get(m);
      if (scales) expect((o.together[scales]?.data as Float32Array).length).toBe(items);
    }
  }
  return compared;
}

/**
 * Two items (sine images of the given phases) of `m`'s input [N, C, H, W], each explaining its own class:
 * one hooked run of both and a single run of each, with the maps of `methods` at `tensors`.
 */
async function twoItems(
  m: ReturnType<typeof describeModel>,
  o: {
    tensors: (one: GraphAnalysis) => TensorName[];
    methods: CamMethod[];
    phases: [number, number];
    frequency: number;
    classes: [number, number];
  },
) {
  const x = m.summary.inputs[0]?.name as TensorName;
  const [, c, h, w] = m.summary.inputs[0]?.shape as number[];
  const shape = [c, h, w] as number[];
  const one = await analyzeGraph(m, new Map([[x, [1, ...shape]]]));
  const two = await analyzeGraph(m, new Map([[x, [2, ...shape]]]));
  const tensors = o.tensors(one);
  const options = { maps: o.methods, exposeActivations: false, exposeGradients: false };
  const single = buildHookedModel(one, tensors, true, options);
  const batched = buildHookedModel({ ...two, gridOf: one.gridOf }, tensors, true, { ...options, items: 2 });
  const feed = { name: x, shape };
  const size = shape.reduce((a, d) => a * d, 1);
  const items = o.phases.map((phase) => Float32Array.from({ length: size }, (_, i) => Math.sin(i * o.frequency + phase)));
  const together = await run(batched, Float32Array.from([...(items[0] ?? []), ...(items[1] ?? [])]), 2, o.classes, 0, feed);
  const alone = await Promise.all(items.map((data, i) => run(single, data, 1, [o.classes[i] as number], 0, feed)));
  return { one, single, batched, together, alone, tensors, methods: o.methods };
}

describe('hooked runs over a batch of items', () => {
  it('build the maps once over an item axis, not once per item', async () => {
    const one = await analyzeGraph(model, new Map([[input, [1, 3, H, W]]]));
    const twelve = await analyzeGraph(model, new Map([[input, [12, 3, H, W]]]));
    const tensors = resolveLayers(one, ['stages'], 'demo').map((l) => l.tensor);
    // KPCA-CAM has no batched form: it is built item by item (checked for equal maps below).
    const batchedMethods = methods.filter((m) => m !== 'kpcacam');
    const mapNodes = (hooked: HookedModel): number =>
      (decodeModel(hooked.bytes, 'hooked').graph?.node ?? []).filter((n) => n.name.startsWith('layerlens/maps')).length;
    const options = { maps: batchedMethods, exposeActivations: false, exposeGradients: false };
    const single = mapNodes(buildHookedModel(one, tensors, true, options));
    const batched = mapNodes(buildHookedModel({ ...twelve, gridOf: one.gridOf }, tensors, true, { ...options, items: 12 }));
    // Per item it was 12× (~4,000 nodes on the demo); over the item axis a few reshapes more than one item's.
    expect(single).toBeGreaterThan(100);
    expect(batched).toBeLessThan(1.2 * single);
  });

  it('give each item its single run’s Eigen maps on a layer large enough for the Lanczos path (item by item)', async () => {
    // 136 channels × 144 positions: both sides above the squaring path's 128.
    const r = rng(7);
    const bytes = buildModel({
      inputs: [valueInfo('x', ['N', 3, 12, 12])],
      outputs: [{ name: 'y' }],
      initializers: [randomTensor('W', [136, 3, 3, 3], r), randomTensor('fcW', [5, 136], r)],
      nodes: [
        node('Conv', ['x', 'W'], ['c'], '/conv', [intsAttr('pads', [1, 1, 1, 1])]),
        node('Relu', ['c'], ['features'], '/relu'),
        node('GlobalAveragePool', ['features'], ['p'], '/pool'),
        node('Flatten', ['p'], ['f'], '/flatten'),
        node('Gemm', ['f', 'fcW'], ['y'], '/fc', [intAttr('transB', 1)]),
      ],
      opset: 13,
    });
    const runs = await twoItems(describeModel(bytes, 'large.onnx', null), {
      tensors: () => ['features' as TensorName],
      methods: ['eigencam', 'eigengradcam'],
      phases: [0.2, 1.3],
      frequency: 0.07,
      classes: [1, 3],
    });
    const compared = expectItemMaps({ ...runs, label: 'Lanczos' });
    expect(compared).toBe(2 * 2);
  });

  it.each(['vit', 'swin'])(
    'give each item its single run’s maps on a %s fixture (tokens with a class token, channels-last grids)',
    async (name) => {
      const fixture = describeModel(new Uint8Array(readFileSync(`test/fixtures/torch/${name}/model.onnx`)), `${name}.onnx`, null);
      const runs = await twoItems(fixture, {
        tensors: (one) => resolveLayers(one, ['stages'], 'demo').map((l) => l.tensor),
        methods: methods.filter((m) => m !== 'finercam'),
        phases: [0.4, 2.1],
        frequency: 0.011,
        classes: [2, 5],
      });
      // A channel sum that cancelled to rounding (HiResCAM at the ViT's last block, which reaches the score
      // only through a LayerNorm) is rounding noise in both runs: the runner notes it instead.
      const compared = expectItemMaps({ ...runs, label: name, skipCancelled: true });
      expect(compared).toBeGreaterThanOrEqual(2 * 4 * 8);
    },
    120_000,
  );

  it('give each item the maps of its own single run, for its own class and for its own top class', async () => {
    const one = await analyzeGraph(model, new Map([[input, [1, 3, H, W]]]));
    const three = await analyzeGraph(model, new Map([[input, [3, 3, H, W]]]));
    const tensors = resolveLayers(one, ['stages'], 'demo').map((l) => l.tensor);
    const single = buildHookedModel(one, tensors, true, { maps: methods, exposeActivations: false, exposeGradients: false });
    const batched = buildHookedModel({ ...three, gridOf: one.gridOf }, tensors, true, {
      maps: methods,
      exposeActivations: false,
      exposeGradients: false,
      items: 3,
    });
    const [a, b] = [image(0.1), image(1.7)];
    const batch = new Float32Array(3 * a.length);
    batch.set(a, 0);
    batch.set(a, a.length);
    batch.set(b, 2 * a.length);
    for (const [classes, top] of [
      [[2, 4, 1], 0],
      [[-1, -1, -1], 1],
    ] as const) {
      const together = await run(batched, batch, 3, [...classes], top);
      const alone = await Promise.all([a, a, b].map((x, i) => run(single, x, 1, [classes[i] as number], top)));
      const label = `classes ${classes.join(',')}, top ${top}`;
      const compared = expectItemMaps({ one, single, batched, together, alone, tensors, methods, label });
      expect(compared).toBeGreaterThanOrEqual(3 * 4 * 8);
      // The two classes of the same image differ: each item really explains its own row.
      const gradcam = batched.maps.get(tensors.at(-1) as TensorName)?.get('gradcam') as string;
      const maps = together[gradcam]?.data as Float32Array;
      const z = maps.length / 3;
      if (top === 0) expect(maps.subarray(0, z)).not.toEqual(maps.subarray(z, 2 * z));
    }
  }, 120_000);
});

const skip = webgpuUnavailable();
describe.skipIf(skip !== null)(`hooked runs over a batch of items on WebGPU${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('keep every node on the GPU in the GPU form, with the CPU provider’s maps for each item', async () => {
    useSwiftShader();
    const two = await analyzeGraph(model, new Map([[input, [2, 3, H, W]]]));
    const one = await analyzeGraph(model, new Map([[input, [1, 3, H, W]]]));
    const tensors = resolveLayers(one, ['stages'], 'demo').map((l) => l.tensor);
    const hooked = buildHookedModel({ ...two, gridOf: one.gridOf }, tensors, true, {
      maps: methods,
      exposeActivations: false,
      exposeGradients: false,
      form: 'gpu',
      items: 2,
    });
    const a = image(0.4);
    const batch = new Float32Array(2 * a.length);
    batch.set(a, 0);
    batch.set(image(2.3), a.length);
    const k = hooked.scoreShape.at(-1) as number;
    const seed = new Float32Array(2 * k);
    seed[3] = 1;
    seed[k + 5] = 1;
    const feeds = {
      [input]: new ort.Tensor('float32', batch, [2, 3, H, W]),
      [SEED_INPUT]: new ort.Tensor('float32', seed, [2, k]),
      [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
    };
    const onGpu = await runOnWebgpu(hooked.bytes, feeds);
    expect(onGpu.cpuNodes).toEqual([]);
    const cpu = await ort.InferenceSession.create(hooked.bytes, { executionProviders: ['cpu'] });
    const reference = await cpu.run(feeds);
    await cpu.release();
    let compared = 0;
    for (const [tensor, maps] of hooked.maps)
      for (const [method, output] of maps) {
        const all = onGpu.outputs[output]?.data as Float32Array;
        const want = reference[output]?.data as Float32Array;
        const z = all.length / 2;
        for (let i = 0; i < 2; i++) {
          const [x, y] = [all.subarray(i * z, (i + 1) * z), want.subarray(i * z, (i + 1) * z)];
          if (y.every((v) => v === y[0])) expect(maxAbsDiff(x, y), `${tensor} ${method} ${i}`).toBeLessThan(1e-6);
          else {
            expect(pearson(x, y), `${tensor} ${method} ${i}`).toBeGreaterThan(0.9999);
            expect(maxAbsDiff(minMax(x), minMax(y)), `${tensor} ${method} ${i}`).toBeLessThan(1e-3);
          }
          compared++;
        }
      }
    expect(compared).toBeGreaterThanOrEqual(2 * 4 * 8);
  }, 300_000);
});
