/**
 * A TensorFlow-style model: NHWC input, transposed around its convolution, a channels-last feature map,
 * and a head that averages over H and W. Every method must read the map as [C, H, W] and every
 * perturbation must be applied in the layouts the model uses; checked against direct computations.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { buildModel, floatTensor, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';
import { randomArray, randomTensor, rng } from '../../../helpers/gradcheck';
import { maxAbsDiff, pearson } from '../../../helpers/map-compare';

const r = rng(17);
const [H, W, C, CLASSES] = [8, 8, 4, 5];
const fc = randomArray(C * CLASSES, r);
const kernel = randomTensor('k', [C, 3, 3, 3], r);
const body = [
  node('Transpose', ['image'], ['nchw'], '/to_nchw', [intsAttr('perm', [0, 3, 1, 2])]),
  node('Conv', ['nchw', 'k'], ['c'], '/block/conv/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
  node('Relu', ['c'], ['r'], '/block/relu/Relu'),
  node('Transpose', ['r'], ['feat'], '/block/to_nhwc', [intsAttr('perm', [0, 2, 3, 1])]),
];
const model = buildModel({
  inputs: [valueInfo('image', [1, H, W, 3])],
  outputs: [{ name: 'logits' }],
  initializers: [kernel, floatTensor('fc', [C, CLASSES], Array.from(fc))],
  nodes: [
    ...body,
    node('ReduceMean', ['feat'], ['pooled'], '/head/mean', [intsAttr('axes', [1, 2]), intAttr('keepdims', 0)]),
    node('MatMul', ['pooled', 'fc'], ['logits'], '/head/fc/MatMul'),
  ],
  opset: 13,
});
/** The same graph up to "feat" (NHWC), to read the activation directly. */
const upToFeat = buildModel({
  inputs: [valueInfo('image', [1, H, W, 3])],
  outputs: [{ name: 'feat' }],
  initializers: [kernel],
  nodes: body,
  opset: 13,
});

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe('a channels-last model (NHWC input and feature map)', () => {
  it('CAM, Grad-CAM, ScoreCAM and AblationCAM read and perturb it in its own layout', async () => {
    const opened = await engine.openModelBytes({ name: 'nhwc.onnx', bytes: model });
    const m = engine.models.get(opened.id);
    const image = randomArray(H * W * 3, r);
    const classIndex = 1;
    const result = await engine.camTensor(
      m,
      { name: 'image', data: image, shape: [1, H, W, 3] },
      { layers: ['feat'], methods: ['cam', 'gradcam', 'scorecam', 'ablationcam'], classIndex, counterfactual: false },
    );
    const layer = result.layers[0];
    expect(layer?.shape).toEqual([C, H, W]);

    // The activation as [C, H·W], straight from the model.
    const session = await ort.InferenceSession.create(model);
    const run = async (x: Float32Array) =>
      (await session.run({ image: new ort.Tensor('float32', x, [1, H, W, 3]) })).logits?.data as Float32Array;
    const z = H * W;
    // CAM on this head: map = Σ_k fc[k, class] A_k, A_k from a forward of the same graph up to "feat".
    const feat = await featureMap(image);
    const a = (k: number, i: number): number => feat[i * C + k] as number; // NHWC
    const camRef = Float64Array.from({ length: z }, (_, i) => {
      let s = 0;
      for (let k = 0; k < C; k++) s += (fc[k * CLASSES + classIndex] as number) * a(k, i);
      return s;
    });
    expect(maxAbsDiff(layer?.maps.cam?.data as Float32Array, camRef)).toBeLessThan(1e-5);
    // Grad-CAM = CAM / (H·W) here (the gradient is fc[k, class] / Z everywhere).
    expect(
      maxAbsDiff(
        layer?.maps.gradcam?.data as Float32Array,
        camRef.map((v) => v / z),
      ),
    ).toBeLessThan(1e-6);

    // AblationCAM: zeroing channel k lowers the logit by fc[k, class]·mean(A_k) (a linear head).
    const logits = await run(image);
    const y = logits[classIndex] as number;
    const ablationRef = Float64Array.from({ length: z }, (_, i) => {
      let s = 0;
      for (let k = 0; k < C; k++) {
        let mean = 0;
        for (let j = 0; j < z; j++) mean += a(k, j) / z;
        s += (((fc[k * CLASSES + classIndex] as number) * mean) / y) * a(k, i);
      }
      return s;
    });
    expect(maxAbsDiff(layer?.maps.ablationcam?.data as Float32Array, ablationRef)).toBeLessThan(1e-4);

    // ScoreCAM: the feature map has the image's size, so each channel min-max scaled masks every input
    // channel at its own pixel (NHWC).
    const scores: number[] = [];
    for (let k = 0; k < C; k++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < z; i++) [lo, hi] = [Math.min(lo, a(k, i)), Math.max(hi, a(k, i))];
      const masked = image.map((v, j) => v * (hi > lo ? (a(k, Math.floor(j / 3)) - lo) / (hi - lo) : 0));
      scores.push((await run(masked))[classIndex] as number);
    }
    const top = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - top));
    const total = e.reduce((p, q) => p + q, 0);
    const scoreRef = Float64Array.from({ length: z }, (_, i) => e.reduce((s, ek, k) => s + (ek / total) * a(k, i), 0));
    expect(pearson(layer?.maps.scorecam?.data as Float32Array, scoreRef)).toBeGreaterThan(0.9999);
    expect(maxAbsDiff(layer?.maps.scorecam?.data as Float32Array, scoreRef)).toBeLessThan(1e-4);
    await session.release();
  });
});

/** "feat" for one image, [H, W, C]. */
async function featureMap(image: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(upToFeat);
  const out = (await s.run({ image: new ort.Tensor('float32', image, [1, H, W, 3]) })).feat?.data as Float32Array;
  await s.release();
  return out;
}
