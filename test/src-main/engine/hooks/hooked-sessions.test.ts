import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { EngineError } from '../../../../src-main/engine/errors';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { HookedSessions } from '../../../../src-main/engine/hooks/hooked-sessions';
import type { PooledSession } from '../../../../src-main/engine/inference/session-pool';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { intAttr, node, opModel } from '../../../helpers/onnx-builder';
import { randomTensor, rng } from '../../../helpers/gradcheck';

describe('hooked sessions', () => {
  it('fall back to forward hooks when onnxruntime refuses the backward graph, and say why', async () => {
    const bytes = opModel(
      [node('Relu', ['x'], ['r'], 'relu'), node('Gemm', ['r', 'W'], ['y'], 'fc', [intAttr('transB', 1)])],
      [1, 4],
      { initializers: [randomTensor('W', [3, 4], rng(1))] },
    );
    const model = describeModel(bytes, 'tiny.onnx', null);
    const analysis = await analyzeGraph(model, new Map([['x' as TensorName, [1, 4]]]));
    const loaded: boolean[] = [];
    const fake = { session: {}, provider: 'cpu' } as unknown as PooledSession;
    const sessions = new HookedSessions(async (key) => {
      const gradients = JSON.parse(key)[3] as boolean;
      loaded.push(gradients);
      // As onnxruntime answers a graph it rejects (see SessionPool).
      if (gradients) throw new EngineError('bad-model', 'onnxruntime cannot load tiny.onnx: invalid Gemm');
      return fake;
    });
    const tensors = ['r' as TensorName];
    const first = await sessions.get(model, analysis, tensors, true, {}, [1, 4]);
    expect(first.pooled).toBe(fake);
    expect(first.meta.gradients).toBeNull();
    expect(first.meta.gradientError).toMatch(/refused the backward pass.*invalid Gemm.*gradient-free methods/);
    // The refusal is remembered: the rejected graph is not built and loaded again.
    const second = await sessions.get(model, analysis, tensors, true, {}, [1, 4]);
    expect(second.meta.gradientError).toBe(first.meta.gradientError);
    expect(loaded).toEqual([true, false, false]);
  });

  it('let other errors through', async () => {
    const bytes = opModel([node('Relu', ['x'], ['y'], 'relu')], [1, 4]);
    const model = describeModel(bytes, 'tiny.onnx', null);
    const analysis = await analyzeGraph(model, new Map([['x' as TensorName, [1, 4]]]));
    const sessions = new HookedSessions(async () => {
      throw new EngineError('cancelled', 'stopped');
    });
    await expect(sessions.get(model, analysis, ['x' as TensorName], true, {}, [1, 4])).rejects.toThrow('stopped');
  });
});
