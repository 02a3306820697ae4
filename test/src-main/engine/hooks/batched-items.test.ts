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
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../../../../src-main/engine/graph/layers';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT, type HookedModel } from '../../../../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../../../../src-main/engine/hooks/map-graph';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { maxAbsDiff, minMax, pearson } from '../../../helpers/map-compare';
import { runOnWebgpu, useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

const bytes = readFileSync('resources/demo/layerlens-demo.onnx');
const model = describeModel(new Uint8Array(bytes), 'layerlens-demo.onnx', null);
const input = model.summary.inputs[0]?.name as TensorName;
const [H, W] = [96, 96];
const image = (phase: number): Float32Array =>
  Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.013 + phase) + 0.3 * Math.cos(i * 0.0071 * phase));
const methods = [...IN_GRAPH_METHODS].sort() as CamMethod[];

async function run(hooked: HookedModel, data: Float32Array, items: number, classes: number[], top: number) {
  const session = await ort.InferenceSession.create(hooked.bytes);
  const k = hooked.scoreShape.at(-1) as number;
  const seed = new Float32Array(items * k);
  classes.forEach((c, i) => {
    if (c >= 0) seed[i * k + c] = 1;
  });
  const out = await session.run({
    [input]: new ort.Tensor('float32', data, [items, 3, H, W]),
    [SEED_INPUT]: new ort.Tensor('float32', seed, [items, k]),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(top), []),
  });
  await session.release();
  return out;
}

describe('hooked runs over a batch of items', () => {
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
      let compared = 0;
      for (const t of tensors) {
        const grid = one.gridOf(t);
        const z = (grid?.height ?? 0) * (grid?.width ?? 0);
        for (const m of methods) {
          const name = batched.maps.get(t)?.get(m);
          const ref = single.maps.get(t)?.get(m);
          expect(Boolean(name), `${t} ${m}`).toBe(Boolean(ref));
          if (!name || !ref) continue;
          const all = together[name]?.data as Float32Array;
          expect(all.length).toBe(3 * z);
          for (let i = 0; i < 3; i++) {
            const mine = all.subarray(i * z, (i + 1) * z);
            const own = alone[i]?.[ref]?.data as Float32Array;
            const scale = Math.max(...own.map(Math.abs)) || 1;
            let worst = 0;
            for (let j = 0; j < z; j++) worst = Math.max(worst, Math.abs((mine[j] as number) - (own[j] as number)));
            expect(worst / scale, `${t} ${m} item ${i} (classes ${classes.join(',')}, top ${top})`).toBeLessThan(1e-4);
            compared++;
          }
          const scale = batched.termScales.get(t)?.get(m);
          if (scale) expect((together[scale]?.data as Float32Array).length).toBe(3);
        }
      }
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
