/**
 * Forked runs of several images for several classes each (cam-items.ts): each (image, class) gets the
 * CamResult of its own single run, and models whose graph does not keep the items apart — a batch folded
 * into another axis, an input batch fixed at 1 — or methods the path does not compute answer null, so
 * that the caller runs single CAM runs.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import type { CamMethod, CamResult } from '../../../../src-shared/cam';
import { CamRunner } from '../../../../src-main/engine/cam/cam-runner';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import type { PooledSession } from '../../../../src-main/engine/inference/session-pool';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { randomTensor, rng } from '../../../helpers/gradcheck';
import { buildModel, int64Tensor, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';
import { expectSameMaps } from '../../../helpers/map-compare';

const r = rng(16);
const conv = [
  node('Conv', ['x', 'W', 'B'], ['c'], '/features/conv/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
  node('Relu', ['c'], ['features'], '/features/relu/Relu'),
];
const weights = [randomTensor('W', [4, 3, 3, 3], r), randomTensor('B', [4], r)];

function model(head: Parameters<typeof node>[], batch: number | string, extra: ReturnType<typeof randomTensor>[]) {
  const bytes = buildModel({
    inputs: [valueInfo('x', [batch, 3, 8, 8])],
    outputs: [{ name: 'y' }],
    initializers: [...weights, ...extra],
    nodes: [...conv, ...head.map((h) => node(...h))],
    opset: 13,
  });
  return describeModel(bytes, 'm.onnx', null);
}

/** GAP → Flatten → Gemm: every item on its own. */
const gapHead: Parameters<typeof node>[] = [
  ['GlobalAveragePool', ['features'], ['p'], '/pool'],
  ['Flatten', ['p'], ['f'], '/flatten'],
  ['Gemm', ['f', 'fcW'], ['y'], '/fc', [intAttr('transB', 1)]],
];
/**
 * A softmax over the channels of the whole batch ([N, 4, 8, 8] → [1, 4N, 64] and back), then GAP → Gemm:
 * it runs for any batch and gives [N, 5], but mixes the items' values and gradients.
 */
const foldingHead: Parameters<typeof node>[] = [
  ['Shape', ['features'], ['shape'], '/shape'],
  ['Reshape', ['features', 'fold'], ['r'], '/fold'],
  ['Softmax', ['r'], ['s'], '/softmax', [intAttr('axis', 1)]],
  ['Reshape', ['s', 'shape'], ['back'], '/unfold'],
  ['GlobalAveragePool', ['back'], ['p'], '/pool'],
  ['Flatten', ['p'], ['f'], '/flatten'],
  ['Gemm', ['f', 'fcW'], ['y'], '/fc', [intAttr('transB', 1)]],
];

function runner(): CamRunner {
  const sessions = new Map<string, Promise<PooledSession>>();
  return new CamRunner({
    analysis: (m, shape) => analyzeGraph(m, new Map([['x' as TensorName, shape]])),
    session: (key, make) => {
      const known = sessions.get(key);
      if (known) return known;
      const made = ort.InferenceSession.create(make()).then((session) => ({ session, provider: 'cpu' as const }));
      sessions.set(key, made);
      return made;
    },
  });
}

const image = (phase: number) => ({
  name: 'x',
  data: Float32Array.from({ length: 192 }, (_, i) => Math.cos(i * 0.37 + phase)),
  shape: [1, 3, 8, 8],
});

function expectSameResult(mine: CamResult, own: CamResult): void {
  const { timings: _a, logits, ...rest } = mine;
  const { timings: _b, logits: ownLogits, ...ownRest } = own;
  expectSameMaps(rest, ownRest);
  logits.forEach((x, i) => expect(x).toBeCloseTo(ownLogits[i] as number, 5));
}

describe('forked CAM runs of several (image, class) items', () => {
  it("give each item its single run's result, for one and for two classes per image", async () => {
    const m = model(gapHead, 'N', [randomTensor('fcW', [5, 4], r)]);
    const cams = runner();
    const methods: CamMethod[] = ['gradcam', 'layercam', 'hirescam', 'cam', 'eigencam'];
    const images = [
      { input: image(0.2), classes: [1, 3] },
      { input: image(1.9), classes: [2] },
      { input: image(3.1), classes: [4, 0] },
    ];
    const got = await cams.runItems(m, images, { layer: 'features', methods, perImage: 2 });
    expect(got?.map((r) => r.length)).toEqual([2, 1, 2]);
    for (const [j, { input, classes }] of images.entries()) {
      for (const [s, classIndex] of classes.entries()) {
        const own = await cams.run(m, input, { layers: ['features'], methods, classIndex, counterfactual: false });
        expectSameResult(got?.[j]?.[s] as CamResult, own);
        // The two classes of one image are really explained apart.
        if (s === 1)
          expect(got?.[j]?.[1]?.layers[0]?.maps.gradcam?.data).not.toEqual(got?.[j]?.[0]?.layers[0]?.maps.gradcam?.data);
      }
    }
  });

  it('answer null where the graph folds the batch into another axis, and single runs still answer', async () => {
    const m = model(foldingHead, 'N', [int64Tensor('fold', [1, -1, 64]), randomTensor('fcW', [5, 4], r)]);
    const cams = runner();
    const items = [{ input: image(0.5), classes: [0, 2] }];
    expect(await cams.runItems(m, items, { layer: 'features', methods: ['gradcam'], perImage: 2 })).toBeNull();
    const single = await cams.run(m, image(0.5), {
      layers: ['features'],
      methods: ['gradcam'],
      classIndex: 2,
      counterfactual: false,
    });
    expect(single.layers[0]?.maps.gradcam?.data).toHaveLength(64);
  });

  it('answer null for several images when the input batch is fixed at 1, but fork one image', async () => {
    const m = model(gapHead, 1, [randomTensor('fcW', [5, 4], r)]);
    const cams = runner();
    const two = [
      { input: image(0.1), classes: [0, 1] },
      { input: image(0.9), classes: [2, 3] },
    ];
    expect(await cams.runItems(m, two, { layer: 'features', methods: ['gradcam'], perImage: 2 })).toBeNull();
    const one = await cams.runItems(m, two.slice(0, 1), { layer: 'features', methods: ['gradcam'], perImage: 2 });
    const own = await cams.run(m, image(0.1), {
      layers: ['features'],
      methods: ['gradcam'],
      classIndex: 1,
      counterfactual: false,
    });
    expectSameResult(one?.[0]?.[1] as CamResult, own);
  });

  it('answer null for what they do not compute: perturbation methods, another score, a layer without a grid', async () => {
    const m = model(gapHead, 'N', [randomTensor('fcW', [5, 4], r)]);
    const cams = runner();
    const items = [{ input: image(0.3), classes: [0, 1] }];
    for (const methods of [['scorecam'], ['gradcam', 'ablationcam'], ['finercam']] as CamMethod[][])
      expect(await cams.runItems(m, items, { layer: 'features', methods, perImage: 2 })).toBeNull();
    expect(await cams.runItems(m, items, { layer: 'f', methods: ['gradcam'], perImage: 2 })).toBeNull();
  });
});
