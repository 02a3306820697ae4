import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { CamRunner } from '../../../../src-main/engine/cam/cam-runner';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import type { PooledSession } from '../../../../src-main/engine/inference/session-pool';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { randomTensor, rng } from '../../../helpers/gradcheck';
import { intAttr, intsAttr, node, opModel } from '../../../helpers/onnx-builder';

const r = rng(5);
const bytes = opModel(
  [
    node('Conv', ['x', 'W'], ['c'], '/features/conv/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
    node('Relu', ['c'], ['features'], '/features/relu/Relu'),
    node('GlobalAveragePool', ['features'], ['p'], '/pool'),
    node('Flatten', ['p'], ['f'], '/flatten'),
    node('Gemm', ['f', 'fcW'], ['y'], '/fc', [intAttr('transB', 1)]),
  ],
  [1, 3, 8, 8],
  { initializers: [randomTensor('W', [4, 3, 3, 3], r), randomTensor('fcW', [5, 4], r)] },
);

describe('a backward graph that loads but fails to run', () => {
  it('leaves the forward hooks and gradient-free methods working, says why, and is not tried again', async () => {
    const model = describeModel(bytes, 'm.onnx', null);
    const analysis = await analyzeGraph(model, new Map([['x' as TensorName, [1, 3, 8, 8]]]));
    let backwardRuns = 0;
    const runner = new CamRunner({
      analysis: async () => analysis,
      // As if onnxruntime accepted the hooked graph and failed inside it: every run of a graph with a backward
      // pass (its nodes are named layerlens/grad/…; CAM's class row seeds forward-only graphs too).
      session: async (_key, make): Promise<PooledSession> => {
        const bytes = make();
        const session = await ort.InferenceSession.create(bytes);
        const failing = Buffer.from(bytes).includes('layerlens/grad/');
        const run = session.run.bind(session);
        const wrapped = Object.assign(Object.create(session) as ort.InferenceSession, {
          run: (feeds: ort.InferenceSession.FeedsType) => {
            if (failing) {
              backwardRuns += 1;
              throw new Error('Reshape: requested shape mismatch');
            }
            return run(feeds);
          },
        });
        return { session: wrapped, provider: 'cpu' };
      },
    });
    const input = { name: 'x', data: Float32Array.from({ length: 192 }, (_, i) => Math.cos(i)), shape: [1, 3, 8, 8] };
    const request = {
      layers: ['features'],
      methods: ['gradcam', 'eigencam', 'cam'] as const,
      classIndex: 1,
      counterfactual: false,
    };
    for (let i = 0; i < 2; i++) {
      const result = await runner.run(model, input, { ...request, methods: [...request.methods] });
      const layer = result.layers[0];
      expect(layer?.unavailable.gradcam).toMatch(/refused the backward pass.*requested shape mismatch.*gradient-free methods/);
      expect(layer?.maps.eigencam?.data.length).toBe(64);
      expect(layer?.maps.cam?.data.length).toBe(64);
      expect(result.logits).toHaveLength(5);
    }
    expect(backwardRuns).toBe(1);
  });
});
