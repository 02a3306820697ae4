/**
 * The blocked-layout forms must equal what they replace bit for bit, as onnxruntime runs them after its
 * layout pass and Conv+activation fusion (optimisation level "all", as the engine's sessions).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../../src-main/engine/hooks/graph-builder';
import { intoBlocked, positiveMask } from '../../../../../src-main/engine/hooks/vjp/blocked-layout';
import { buildModel, valueInfo } from '../../../../helpers/onnx-builder';

const CHANNELS = 16;
// Zero, the smallest subnormal, other subnormals, the smallest normal, ordinary values, the largest float.
const EDGES = [0, 2 ** -149, 2 ** -140, 2 ** -127, 2 ** -126, 1e-30, 1e-7, 0.5, 1, 3, 1e10, 1e30, 3.4028234663852886e38];

async function run(make: (b: GraphBuilder, x: string) => string, values: Float32Array): Promise<Float32Array> {
  const b = new GraphBuilder(13, 'test');
  const out = make(b, 'x');
  const shape = [1, CHANNELS, 1, values.length / CHANNELS];
  const session = await ort.InferenceSession.create(
    buildModel({
      nodes: [...b.nodes, { opType: 'Identity', input: [out], output: ['y'], name: 'out' }],
      inputs: [valueInfo('x', shape)],
      outputs: [{ name: 'y' }],
      initializers: b.initializers,
    }),
    { graphOptimizationLevel: 'all', logSeverityLevel: 3 },
  );
  try {
    const result = await session.run({ x: new ort.Tensor('float32', values, shape) });
    return result.y?.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('blocked layout', () => {
  it('positiveMask is exactly [y > 0] for every kind of non-negative float, subnormals included', async () => {
    const values = new Float32Array(CHANNELS * EDGES.length);
    for (let c = 0; c < CHANNELS; c++)
      for (let i = 0; i < EDGES.length; i++) values[c * EDGES.length + i] = EDGES[(i + c) % EDGES.length] as number;
    expect(values.some((v) => v > 0 && v < 2 ** -126)).toBe(true);
    const mask = await run((b, x) => positiveMask(b, x, CHANNELS), values);
    expect(Array.from(mask)).toEqual(Array.from(values, (v) => (v > 0 ? 1 : 0)));
  });

  it('intoBlocked passes values through unchanged', async () => {
    const values = Float32Array.from({ length: CHANNELS * 6 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    expect(Array.from(await run((b, x) => intoBlocked(b, x, CHANNELS), values))).toEqual(Array.from(values));
  });
});
