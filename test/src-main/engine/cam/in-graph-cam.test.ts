/**
 * CAM is computed in the hooked graph: the class's weight row (the one-hot class row times the head's
 * weights, either layout) is one more row of the map product, so asking for CAM exposes no activation.
 * Checked against Σ_k w_ck·A_k computed here from the activation, for a Gemm (transB) and a MatMul head,
 * for a given class, the top class and the counterfactual.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { CamRunner } from '../../../../src-main/engine/cam/cam-runner';
import { weightedSum } from '../../../../src-main/engine/cam/layer-tensors';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import type { PooledSession } from '../../../../src-main/engine/inference/session-pool';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { randomArray, randomTensor, rng } from '../../../helpers/gradcheck';
import { maxAbsDiff } from '../../../helpers/map-compare';
import { floatTensor, intAttr, intsAttr, node, opModel } from '../../../helpers/onnx-builder';

const r = rng(23);
const [C, CLASSES] = [4, 5];
const kernel = randomTensor('W', [C, 3, 3, 3], r);
const fc = randomArray(C * CLASSES, r);
const body = [
  node('Conv', ['x', 'W'], ['c'], '/features/conv/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
  node('Relu', ['c'], ['features'], '/features/relu/Relu'),
  node('GlobalAveragePool', ['features'], ['p'], '/pool'),
  node('Flatten', ['p'], ['f'], '/flatten'),
];
const upToFeatures = opModel(body.slice(0, 2), [1, 3, 8, 8], { initializers: [kernel], output: 'features' });
const heads = {
  // Gemm with transB: weights [classes, C].
  gemm: opModel([...body, node('Gemm', ['f', 'fc'], ['y'], '/fc', [intAttr('transB', 1)])], [1, 3, 8, 8], {
    initializers: [kernel, floatTensor('fc', [CLASSES, C], Array.from(fc))],
  }),
  // MatMul: weights [C, classes].
  matmul: opModel([...body, node('MatMul', ['f', 'fc'], ['y'], '/fc/MatMul')], [1, 3, 8, 8], {
    initializers: [kernel, floatTensor('fc', [C, CLASSES], Array.from(fc))],
  }),
};

describe('CAM in the graph', () => {
  for (const [kind, bytes] of Object.entries(heads)) {
    it(`matches the class's weighted sum of the activation (${kind} head), without exposing the activation`, async () => {
      const model = describeModel(bytes, 'm.onnx', null);
      const analysis = await analyzeGraph(model, new Map([['x' as TensorName, [1, 3, 8, 8]]]));
      const outputs: string[][] = [];
      const runner = new CamRunner({
        analysis: async () => analysis,
        session: async (_key, make): Promise<PooledSession> => {
          const session = await ort.InferenceSession.create(make());
          outputs.push([...session.outputNames]);
          return { session, provider: 'cpu' };
        },
      });
      const input = { name: 'x', data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i * 0.7)), shape: [1, 3, 8, 8] };
      // The activation itself, from the model cut at the layer.
      const plain = await ort.InferenceSession.create(upToFeatures);
      const activation = (await plain.run({ x: new ort.Tensor('float32', input.data, input.shape) }, ['features'])).features
        ?.data as Float32Array;
      const l = { channels: C, height: 8, width: 8, activation, gradient: null };
      const row = (k: number): Float32Array =>
        Float32Array.from({ length: C }, (_, c) => (kind === 'gemm' ? fc[k * C + c] : fc[c * CLASSES + k]) as number);
      outputs.length = 0;
      for (const [classIndex, counterfactual] of [
        [3, false],
        ['top', false],
        [2, true],
      ] as const) {
        const result = await runner.run(model, input, {
          layers: ['features'],
          methods: ['cam', 'gradcam'],
          classIndex,
          counterfactual,
        });
        const sign = counterfactual ? -1 : 1;
        const expected = weightedSum(
          l,
          row(result.classIndex).map((w) => sign * w),
        );
        expect(
          maxAbsDiff(result.layers[0]?.maps.cam?.data as Float32Array, expected),
          `${classIndex} ${counterfactual}`,
        ).toBeLessThan(1e-5);
      }
      // Maps and logits leave the run; the [1, C, 8, 8] activation does not.
      expect(outputs.flat()).not.toContain('features');
      expect(outputs.flat().some((n) => n.startsWith('layerlens/map/cam/'))).toBe(true);
    });
  }
});
