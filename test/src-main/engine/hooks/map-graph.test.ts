/**
 * The in-graph Eigen maps against the JavaScript reference on layers large enough for each strategy of
 * map-graph.ts: a Gram matrix squared (smaller side ≤ 128, here the positions) and Lanczos on X·Xᵀ (both
 * sides larger, channels fewer or more than positions). The PyTorch fixtures are too small to reach the
 * second.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { GRADIENT_MAPS, eigencam } from '../../../../src-main/engine/cam/methods';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../../../../src-main/engine/hooks/hooked-model';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { randomArray, randomTensor, rng } from '../../../helpers/gradcheck';
import { pearson } from '../../../helpers/map-compare';
import { buildModel, floatTensor, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';

const r = rng(7);
const conv = (x: string, w: string, y: string, stride: number, k: number) =>
  node('Conv', [x, w], [y], `/${y}/Conv`, [
    intsAttr('kernel_shape', [k, k]),
    intsAttr('strides', [stride, stride]),
    intsAttr('pads', new Array<number>(4).fill(Math.floor(k / 2))),
  ]);
const bytes = buildModel({
  inputs: [valueInfo('x', [1, 3, 24, 24])],
  outputs: [valueInfo('logits', [1, 5])],
  initializers: [
    randomTensor('w1', [144, 3, 3, 3], r),
    randomTensor('w2', [160, 144, 1, 1], r, 0.2),
    randomTensor('w3', [200, 160, 1, 1], r, 0.2),
    randomTensor('fc', [5, 200], r),
  ],
  nodes: [
    conv('x', 'w1', 'c1', 1, 3),
    node('Relu', ['c1'], ['a'], '/a/Relu'),
    conv('a', 'w2', 'c2', 2, 1),
    node('Relu', ['c2'], ['b'], '/b/Relu'),
    conv('b', 'w3', 'c3', 2, 1),
    node('Relu', ['c3'], ['c'], '/c/Relu'),
    node('GlobalAveragePool', ['c'], ['p'], '/pool'),
    node('Flatten', ['p'], ['f'], '/flatten'),
    node('Gemm', ['f', 'fc'], ['logits'], '/fc', [intAttr('transB', 1)]),
  ],
});

describe('Eigen maps computed in the graph', () => {
  it('match the reference for squared Gram matrices and for Lanczos', async () => {
    const model = describeModel(bytes, 'eigen.onnx', null);
    const analysis = await analyzeGraph(model, new Map([['x' as TensorName, [1, 3, 24, 24]]]));
    const layers = ['a', 'b', 'c'] as TensorName[];
    const hooked = buildHookedModel(analysis, layers, true, { maps: ['eigencam', 'eigengradcam'] });
    const session = await ort.InferenceSession.create(hooked.bytes);
    const seed = new Float32Array(5);
    seed[2] = 1;
    const out = await session.run({
      x: new ort.Tensor('float32', randomArray(3 * 24 * 24, r), [1, 3, 24, 24]),
      [SEED_INPUT]: new ort.Tensor('float32', seed, [1, 5]),
      [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
    });
    for (const [tensor, [c, side]] of [
      ['a', [144, 24]],
      ['b', [160, 12]],
      ['c', [200, 6]],
    ] as const) {
      const l = {
        channels: c,
        height: side,
        width: side,
        activation: out[tensor]?.data as Float32Array,
        gradient: out[hooked.gradients?.get(tensor as TensorName) as string]?.data as Float32Array,
      };
      const maps = hooked.maps.get(tensor as TensorName);
      const ours = (m: 'eigencam' | 'eigengradcam') => out[maps?.get(m) as string]?.data as Float32Array;
      expect(pearson(ours('eigencam'), eigencam(l)), `${tensor} eigencam`).toBeGreaterThanOrEqual(0.999);
      const reference = GRADIENT_MAPS.eigengradcam?.(l, l.gradient) as Float32Array;
      expect(pearson(ours('eigengradcam'), reference), `${tensor} eigengradcam`).toBeGreaterThanOrEqual(0.999);
    }
    await session.release();
  });

  it.each([
    [4, 17],
    [12, 8],
  ])('stay finite and exact when only %i channels are alive (fewer than the Lanczos steps), opset %i', async (live, opset) => {
    // 150 channels at 24×24 (both sides over the squaring limit: Lanczos), few of them alive: the Krylov
    // space is exhausted early, and the residuals before that point are small, then rounding noise.
    const filters = randomArray(150 * 3 * 9, r).map((v, i) => (Math.floor(i / 27) < live ? v : 0));
    const deficient = buildModel({
      inputs: [valueInfo('x', [1, 3, 24, 24])],
      outputs: [valueInfo('logits', [1, 5])],
      initializers: [floatTensor('w', [150, 3, 3, 3], Array.from(filters)), randomTensor('fc', [150, 5], r)],
      nodes: [
        conv('x', 'w', 'c1', 1, 3),
        node('Relu', ['c1'], ['d'], '/d/Relu'),
        node('GlobalAveragePool', ['d'], ['p'], '/pool'),
        node('Flatten', ['p'], ['f'], '/flatten'),
        node('MatMul', ['f', 'fc'], ['logits'], '/fc'),
      ],
      opset,
    });
    const analysis = await analyzeGraph(
      describeModel(deficient, 'deficient.onnx', null),
      new Map([['x' as TensorName, [1, 3, 24, 24]]]),
    );
    const hooked = buildHookedModel(analysis, ['d' as TensorName], true, { maps: ['eigencam', 'eigengradcam'] });
    const session = await ort.InferenceSession.create(hooked.bytes);
    const seed = new Float32Array(5);
    seed[1] = 1;
    const out = await session.run({
      x: new ort.Tensor('float32', randomArray(3 * 24 * 24, r), [1, 3, 24, 24]),
      [SEED_INPUT]: new ort.Tensor('float32', seed, [1, 5]),
      [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
    });
    const l = {
      channels: 150,
      height: 24,
      width: 24,
      activation: out['d']?.data as Float32Array,
      gradient: out[hooked.gradients?.get('d' as TensorName) as string]?.data as Float32Array,
    };
    const maps = hooked.maps.get('d' as TensorName);
    const ours = (m: 'eigencam' | 'eigengradcam') => out[maps?.get(m) as string]?.data as Float32Array;
    for (const m of ['eigencam', 'eigengradcam'] as const) expect(ours(m).every(Number.isFinite), m).toBe(true);
    expect(pearson(ours('eigencam'), eigencam(l)), 'eigencam').toBeGreaterThanOrEqual(0.999);
    expect(
      pearson(ours('eigengradcam'), GRADIENT_MAPS.eigengradcam?.(l, l.gradient) as Float32Array),
      'eigengradcam',
    ).toBeGreaterThanOrEqual(0.999);
    await session.release();
  });
});
