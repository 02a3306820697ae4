/**
 * End to end against PyTorch: models exported by PyTorch's own exporter (tools/torch-fixtures), with
 * reference activations and gradients taken by PyTorch hooks in float64. LayerLens's Grad-CAM, HiResCAM and
 * LayerCAM per stage must match maps computed here from those references.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CamMethod, RawMap } from '../../../../src-shared/cam';
import { augmentedBatch, AUGMENTATIONS } from '../../../../src-main/engine/cam/aug-smooth';
import { Engine } from '../../../../src-main/engine/engine';
import { readNpy } from '../../../../src-main/engine/npy';
import { eigencam, GRADIENT_MAPS } from '../../../helpers/cam-reference/methods';
import { maxAbsDiff, minMax, pearson } from '../../../helpers/map-compare';

const ROOT = 'test/fixtures/torch';

interface Meta {
  name: string;
  input_name: string;
  target_class: number;
  stages: { module: string; tensor: string; act: string; grad: string; shape: number[]; grid: Grid }[];
}

/** How the fixture generator says a stage's tensor holds its positions. */
interface Grid {
  layout: 'NCHW' | 'NHWC' | 'tokens';
  channels: number;
  height: number;
  width: number;
  prefix: number;
}

/** A stage's tensor (batch 1) as [C, H, W]: channels-last maps transposed, tokens past the prefix reshaped. */
function channelMajor(data: Float32Array, grid: Grid): Float32Array {
  const { channels: c, height: h, width: w, prefix } = grid;
  if (grid.layout === 'NCHW') return data;
  const out = new Float32Array(c * h * w);
  // NHWC [H, W, C] and tokens [prefix + H·W, C] are both position-major after the prefix.
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) out[k * h * w + i] = data[(prefix + i) * c + k] as number;
  return out;
}

const index = JSON.parse(await readFile(path.join(ROOT, 'index.json'), 'utf8')) as { fixtures: { name: string; dir: string }[] };
const npy = async (dir: string, file: string) => readNpy(await readFile(path.join(ROOT, dir, file)), file);

/** Reference maps, written independently of the engine's implementation. */
/** Σ_c |term| per position: the scale at which float32 rounds a channel sum (the map's conditioning). */
function termScale(method: CamMethod, a: Float32Array, g: Float32Array, c: number, z: number): number {
  let largest = 0;
  for (let i = 0; i < z; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) {
      const gi = g[k * z + i] as number;
      s += Math.abs((method === 'layercam' ? Math.max(gi, 0) : gi) * (a[k * z + i] as number));
    }
    largest = Math.max(largest, s);
  }
  return largest;
}

function referenceMap(method: CamMethod, a: Float32Array, g: Float32Array, c: number, z: number): Float64Array {
  const map = new Float64Array(z);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let i = 0; i < z; i++) mean += g[k * z + i] as number;
    mean /= z;
    for (let i = 0; i < z; i++) {
      const ai = a[k * z + i] as number;
      const gi = g[k * z + i] as number;
      if (method === 'gradcam') map[i] = (map[i] as number) + mean * ai;
      if (method === 'hirescam') map[i] = (map[i] as number) + gi * ai;
      if (method === 'layercam') map[i] = (map[i] as number) + Math.max(gi, 0) * ai;
    }
  }
  return map;
}

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe.each(index.fixtures)('$name (PyTorch export) matches PyTorch hooks', ({ dir }) => {
  it('Grad-CAM, HiResCAM and LayerCAM per stage: r ≥ 0.9999, max |Δ| of min-max maps ≤ 1e-3', async () => {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'meta.json'), 'utf8')) as Meta;
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const byTensor = dir === 'noscope';
    const result = await engine.camTensor(
      model,
      { name: meta.input_name, data: input.data, shape: input.shape },
      {
        layers: meta.stages.map((s) => (byTensor ? s.tensor : s.module)),
        methods: ['gradcam', 'hirescam', 'layercam'],
        classIndex: meta.target_class,
        counterfactual: false,
      },
    );
    const logits = await npy(dir, 'logits.npy');
    expect(maxAbsDiff(result.logits, logits.data)).toBeLessThan(1e-3);
    for (const [i, stage] of meta.stages.entries()) {
      const layer = result.layers[i];
      expect(layer?.tensor).toBe(stage.tensor);
      const a = channelMajor((await npy(dir, stage.act)).data, stage.grid);
      const g = channelMajor((await npy(dir, stage.grad)).data, stage.grid);
      const { channels: c, height: h, width: w } = stage.grid;
      expect(layer?.shape, `${stage.module}: [C, H, W]`).toEqual([c, h, w]);
      for (const method of ['gradcam', 'hirescam', 'layercam'] as const) {
        const ours = layer?.maps[method]?.data;
        expect(ours, `${stage.module} ${method}: ${layer?.unavailable[method]}`).toBeDefined();
        const ref = referenceMap(method, a, g, c, h * w);
        const where = `${meta.name} ${stage.module} ${method}`;
        if (maxAbsDiff(ref, new Float64Array(ref.length)) === 0) {
          expect(maxAbsDiff(ours as Float32Array, ref), where).toBeLessThan(1e-6);
          continue;
        }
        // A map that is zero but for rounding (HiResCAM where a LayerNorm over channels follows: its gradient
        // is orthogonal to the centred activation at every position) can only be checked for being zero too.
        const scale = termScale(method, a, g, c, h * w);
        if (maxAbsDiff(ref, new Float64Array(ref.length)) < 1e-3 * scale) {
          expect(maxAbsDiff(ours as Float32Array, new Float64Array(ref.length)), where).toBeLessThan(1e-3 * scale);
          // … and the user is told that what is drawn is noise.
          if (method === 'hirescam') expect(layer?.notes?.hirescam, where).toMatch(/Zero up to rounding/);
          continue;
        }
        expect(layer?.notes?.[method], where).toBeUndefined();
        expect(pearson(ours as Float32Array, ref), where).toBeGreaterThanOrEqual(0.9999);
        expect(maxAbsDiff(minMax(ours as Float32Array), minMax(ref)), where).toBeLessThanOrEqual(1e-3);
      }
    }
  });
});

// The perturbation methods' references: AblationCAM from make_fixtures.py, ScoreCAM from make_scorecam_refs.py.
const perturbationRefs = [
  {
    method: 'ablationcam',
    file: 'ablation',
    what: 'each channel zeroed in the layer’s own layout (NCHW, channels-last, tokens after the class token)',
  },
  {
    method: 'scorecam',
    file: 'scorecam',
    what: 'each channel, upsampled and scaled, masks the input (NCHW, channels-last and token grids)',
  },
] as const;

describe.each(perturbationRefs)('$method matches PyTorch', ({ method, file, what }) => {
  const fixtures = index.fixtures.filter((f) => existsSync(path.join(ROOT, f.dir, `stage0_${file}.npy`)));
  it.each(fixtures)(`$name: ${what}`, async ({ dir }) => {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'meta.json'), 'utf8')) as Meta;
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const result = await engine.camTensor(
      model,
      { name: meta.input_name, data: input.data, shape: input.shape },
      {
        layers: meta.stages.map((s) => s.module),
        methods: [method],
        classIndex: meta.target_class,
        counterfactual: false,
      },
    );
    for (const [i, stage] of meta.stages.entries()) {
      const layer = result.layers[i];
      const ours = layer?.maps[method]?.data;
      expect(ours, `${stage.module}: ${layer?.unavailable[method]}`).toBeDefined();
      const ref = (await npy(dir, `stage${i}_${file}.npy`)).data;
      expect(pearson(ours as Float32Array, ref), `${meta.name} ${stage.module}`).toBeGreaterThanOrEqual(0.9999);
      expect(maxAbsDiff(minMax(ours as Float32Array), minMax(ref)), `${meta.name} ${stage.module}`).toBeLessThanOrEqual(1e-3);
    }
  });
});

describe('method identities on a GAP → linear head', () => {
  it('CAM equals Grad-CAM up to a positive factor at the last stage; counterfactual negates; "top" is the argmax', async () => {
    const dir = 'resnet';
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const tensor = { name: 'input', data: input.data, shape: input.shape };
    const run = (classIndex: number | 'top', counterfactual = false) =>
      engine.camTensor(model, tensor, {
        layers: ['layer4'],
        methods: ['cam', 'gradcam', 'eigencam'],
        classIndex,
        counterfactual,
      });
    const top = await run('top');
    const argmax = Array.from(top.logits).indexOf(Math.max(...top.logits));
    expect(top.classIndex).toBe(argmax);
    const layer = top.layers[0];
    const camMap = layer?.maps.cam?.data as Float32Array;
    const grad = layer?.maps.gradcam?.data as Float32Array;
    const ratio = (camMap[0] as number) / (grad[0] as number);
    expect(ratio).toBeGreaterThan(0);
    for (let i = 0; i < camMap.length; i++) expect(camMap[i]).toBeCloseTo((grad[i] as number) * ratio, 4);
    // Z = H·W: Grad-CAM's weights are W[c,k]/Z, CAM's W[c,k].
    const [, h, w] = layer?.shape ?? [0, 0, 0];
    expect(ratio).toBeCloseTo(h * w, 3);

    const other = await run(3);
    const against = await run(3, true);
    const g3 = other.layers[0]?.maps.gradcam?.data as Float32Array;
    const g3neg = against.layers[0]?.maps.gradcam?.data as Float32Array;
    for (let i = 0; i < g3.length; i++) expect(g3neg[i]).toBeCloseTo(-(g3[i] as number), 6);
    expect(other.layers[0]?.maps.eigencam?.data).toEqual(against.layers[0]?.maps.eigencam?.data);
  });
});

describe.each(index.fixtures)('$name: maps computed inside the graph equal the JavaScript reference methods', ({ dir }) => {
  it('Grad-CAM++, XGradCAM, EigenCAM, EigenGradCAM per stage', async () => {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'meta.json'), 'utf8')) as Meta;
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const methods = ['gradcam++', 'xgradcam', 'eigencam', 'eigengradcam'] as const;
    const result = await engine.camTensor(
      model,
      { name: meta.input_name, data: input.data, shape: input.shape },
      { layers: meta.stages.map((s) => s.tensor), methods: [...methods], classIndex: meta.target_class, counterfactual: false },
    );
    for (const [i, stage] of meta.stages.entries()) {
      const { channels: c, height: h, width: w } = stage.grid;
      const l = {
        channels: c,
        height: h,
        width: w,
        activation: channelMajor((await npy(dir, stage.act)).data, stage.grid),
        gradient: channelMajor((await npy(dir, stage.grad)).data, stage.grid),
      };
      for (const method of methods) {
        const ours = result.layers[i]?.maps[method]?.data as Float32Array;
        const ref = method === 'eigencam' ? eigencam(l) : (GRADIENT_MAPS[method]?.(l, l.gradient) as Float32Array);
        const where = `${meta.name} ${stage.module} ${method}`;
        if (maxAbsDiff(ref, new Float32Array(ref.length)) < 1e-12) continue;
        // The Eigen methods iterate a fixed number of times in the graph, to convergence in JavaScript.
        expect(pearson(ours, ref), where).toBeGreaterThanOrEqual(method.startsWith('eigen') ? 0.999 : 0.9999);
      }
    }
  });
});

describe.each(index.fixtures)('$name: the methods added later match their PyTorch references', ({ dir }) => {
  it('Grad-CAM Element-Wise and FEM per stage (tools/torch-fixtures/make_method_refs.py)', async () => {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'meta.json'), 'utf8')) as Meta;
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const methods = ['gradcamelementwise', 'fem'] as const;
    const result = await engine.camTensor(
      model,
      { name: meta.input_name, data: input.data, shape: input.shape },
      {
        layers: meta.stages.map((s) => (dir === 'noscope' ? s.tensor : s.module)),
        methods: [...methods],
        classIndex: meta.target_class,
        counterfactual: false,
      },
    );
    for (const [i, stage] of meta.stages.entries()) {
      for (const method of methods) {
        const where = `${meta.name} ${stage.module} ${method}`;
        const ours = result.layers[i]?.maps[method]?.data;
        expect(ours, `${where}: ${result.layers[i]?.unavailable[method]}`).toBeDefined();
        const ref = (await npy(dir, `stage${i}_${method}.npy`)).data;
        const scale = Math.max(...Array.from(ref, Math.abs));
        if (scale === 0) {
          expect(maxAbsDiff(ours as Float32Array, ref), where).toBeLessThan(1e-6);
          continue;
        }
        expect(pearson(ours as Float32Array, ref), where).toBeGreaterThanOrEqual(0.9999);
        expect(maxAbsDiff(minMax(ours as Float32Array), minMax(ref)), where).toBeLessThanOrEqual(1e-3);
      }
    }
  });
});

/** Our map against a committed PyTorch reference: r ≥ 0.9999 and min-max maps within `within` (1e-3). */
function expectMatches(ours: Float32Array | undefined, ref: Float32Array, where: string, why?: string, within = 1e-3): void {
  expect(ours, `${where}: ${why}`).toBeDefined();
  const scale = Math.max(...Array.from(ref, Math.abs));
  if (scale === 0) {
    expect(maxAbsDiff(ours as Float32Array, ref), where).toBeLessThan(1e-6);
    return;
  }
  expect(pearson(ours as Float32Array, ref), where).toBeGreaterThanOrEqual(0.9999);
  expect(maxAbsDiff(minMax(ours as Float32Array), minMax(ref)), where).toBeLessThanOrEqual(within);
}

describe.each(index.fixtures)('$name: FinerCAM, KPCA-CAM and eigen-smooth match their PyTorch references', ({ dir }) => {
  const camOf = async (methods: CamMethod[], eigenSmooth: boolean, augSmooth = false) => {
    const meta = JSON.parse(await readFile(path.join(ROOT, dir, 'meta.json'), 'utf8')) as Meta;
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const layers = meta.stages.map((s) => (dir === 'noscope' ? s.tensor : s.module));
    const req = { layers, methods, classIndex: meta.target_class, counterfactual: false, eigenSmooth, augSmooth };
    return { meta, result: await engine.camTensor(model, { name: meta.input_name, data: input.data, shape: input.shape }, req) };
  };

  it('FinerCAM (its own backward pass) and KPCA-CAM per stage, beside Grad-CAM in the same request', async () => {
    const { meta, result } = await camOf(['gradcam', 'finercam', 'kpcacam'], false);
    let checked = 0;
    for (const [i, stage] of meta.stages.entries()) {
      const layer = result.layers[i];
      for (const method of ['finercam', 'kpcacam'] as const) {
        // No KPCA reference where its top eigenvalue is not separated (the component is not defined there).
        if (!existsSync(path.join(ROOT, dir, `stage${i}_${method}.npy`))) continue;
        checked++;
        const ref = (await npy(dir, `stage${i}_${method}.npy`)).data;
        expectMatches(layer?.maps[method]?.data, ref, `${meta.name} ${stage.module} ${method}`, layer?.unavailable[method]);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2 * meta.stages.length - 1);
    expect(result.eigenSmooth).toBeUndefined();
  });

  it('eigen-smooth: Grad-CAM and LayerCAM become the first principal component of their terms', async () => {
    const { meta, result } = await camOf(['gradcam', 'layercam', 'eigencam'], true);
    expect(result.eigenSmooth).toBe(true);
    for (const [i, stage] of meta.stages.entries()) {
      const layer = result.layers[i];
      for (const method of ['gradcam', 'layercam'] as const) {
        const ref = (await npy(dir, `stage${i}_${method}_eigensmooth.npy`)).data;
        expectMatches(
          layer?.maps[method]?.data,
          ref,
          `${meta.name} ${stage.module} ${method} eigen-smooth`,
          layer?.unavailable[method],
        );
      }
    }
  });

  it('aug-smooth: Grad-CAM and LayerCAM averaged over the six flipped and scaled inputs of one batched run', async () => {
    const { meta, result } = await camOf(['gradcam', 'layercam', 'ablationcam'], false, true);
    expect(result.augSmooth).toBe(true);
    const logits = await npy(dir, 'logits.npy');
    // Item 0 of the batch is the image itself: the logits reported are its own.
    expect(maxAbsDiff(result.logits, logits.data)).toBeLessThan(1e-3);
    // The batched run equals six runs of one input each, maps flipped back and averaged here.
    const model = await engine.models.openPath(path.join(ROOT, dir, 'model.onnx'));
    const input = await npy(dir, 'input.npy');
    const { input: batch } = augmentedBatch(model, { name: meta.input_name, data: input.data, shape: input.shape }, false);
    const size = input.data.length;
    const single = await Promise.all(
      AUGMENTATIONS.map(async (_, i) => {
        const item = { name: meta.input_name, data: batch.data.slice(i * size, (i + 1) * size), shape: input.shape };
        const layers = meta.stages.map((s) => (dir === 'noscope' ? s.tensor : s.module));
        return engine.camTensor(model, item, {
          layers,
          methods: ['gradcam', 'layercam'],
          classIndex: meta.target_class,
          counterfactual: false,
        });
      }),
    );
    for (const [i, stage] of meta.stages.entries()) {
      const layer = result.layers[i];
      for (const method of ['gradcam', 'layercam'] as const) {
        const where = `${meta.name} ${stage.module} ${method} aug-smooth`;
        const ours = layer?.maps[method];
        const mean = new Float64Array(ours?.data.length ?? 0);
        for (const [k, { flip }] of AUGMENTATIONS.entries()) {
          const m = single[k]?.layers[i]?.maps[method] as RawMap;
          for (let y = 0; y < m.height; y++)
            for (let x = 0; x < m.width; x++)
              mean[y * m.width + x] =
                (mean[y * m.width + x] as number) +
                (m.data[y * m.width + (flip ? m.width - 1 - x : x)] as number) / AUGMENTATIONS.length;
        }
        expect(maxAbsDiff(minMax(ours?.data as Float32Array), minMax(mean)), where).toBeLessThan(1e-5);
        // Against float64 PyTorch: six float32 maps averaged, their range partly cancels and their rounding
        // does not (densenet's first block: 3.9e-3 of the range, as the six single runs give).
        const ref = (await npy(dir, `stage${i}_${method}_augsmooth.npy`)).data;
        expectMatches(ours?.data, ref, where, layer?.unavailable[method], 5e-3);
      }
      expect(layer?.unavailable.ablationcam).toMatch(/aug-smooth applies to the methods the hooked run computes/);
    }
  });
});
