/**
 * The in-graph Eigen maps against the JavaScript reference on layers large enough for each strategy of
 * map-graph.ts: a Gram matrix squared (smaller side ≤ 128, here the positions) and Lanczos on X·Xᵀ (both
 * sides larger, channels fewer or more than positions). The PyTorch fixtures are too small to reach the
 * second.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { GRADIENT_MAPS, eigencam } from '../../../helpers/cam-reference/methods';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../../../../src-main/engine/hooks/hooked-model';
import type { GraphForm } from '../../../../src-main/engine/hooks/graph-builder';
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

/** The hooked model's outputs for a random 24×24 input, explaining `classIndex` (of 5), Eigen maps in-graph. */
async function eigenRun(model: Uint8Array, layers: TensorName[], classIndex: number, form: GraphForm = 'plain') {
  const analysis = await analyzeGraph(describeModel(model, 'eigen.onnx', null), new Map([['x' as TensorName, [1, 3, 24, 24]]]));
  const hooked = buildHookedModel(analysis, layers, true, { maps: ['eigencam', 'eigengradcam'], form });
  const session = await ort.InferenceSession.create(hooked.bytes);
  const seed = new Float32Array(5);
  seed[classIndex] = 1;
  const out = await session.run({
    x: new ort.Tensor('float32', randomArray(3 * 24 * 24, r), [1, 3, 24, 24]),
    [SEED_INPUT]: new ort.Tensor('float32', seed, [1, 5]),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
  });
  await session.release();
  return { hooked, out };
}

/** Both Eigen maps of one layer ([c, side, side]) are finite and match the JavaScript reference. */
function expectEigenMaps(run: Awaited<ReturnType<typeof eigenRun>>, tensor: string, c: number, side: number): void {
  const { hooked, out } = run;
  const l = {
    channels: c,
    height: side,
    width: side,
    activation: out[tensor]?.data as Float32Array,
    gradient: out[hooked.gradients?.get(tensor as TensorName) as string]?.data as Float32Array,
  };
  const maps = hooked.maps.get(tensor as TensorName);
  const ours = (m: 'eigencam' | 'eigengradcam') => out[maps?.get(m) as string]?.data as Float32Array;
  for (const m of ['eigencam', 'eigengradcam'] as const) expect(ours(m).every(Number.isFinite), `${tensor} ${m}`).toBe(true);
  expect(pearson(ours('eigencam'), eigencam(l)), `${tensor} eigencam`).toBeGreaterThanOrEqual(0.999);
  const reference = GRADIENT_MAPS.eigengradcam?.(l, l.gradient) as Float32Array;
  expect(pearson(ours('eigengradcam'), reference), `${tensor} eigengradcam`).toBeGreaterThanOrEqual(0.999);
}

describe('Eigen maps computed in the graph', () => {
  // The GPU form squares Gram matrices up to side 512 (here every layer) instead of running Lanczos.
  it.each(['plain', 'gpu'] as const)('match the reference for squared Gram matrices and for Lanczos (%s form)', async (form) => {
    const run = await eigenRun(bytes, ['a', 'b', 'c'] as TensorName[], 2, form);
    expectEigenMaps(run, 'a', 144, 24);
    expectEigenMaps(run, 'b', 160, 12);
    expectEigenMaps(run, 'c', 200, 6);
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
    expectEigenMaps(await eigenRun(deficient, ['d' as TensorName], 1), 'd', 150, 24);
  });
});
