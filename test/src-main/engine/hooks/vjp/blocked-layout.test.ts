/**
 * The blocked-layout forms must equal what they replace bit for bit, as onnxruntime runs them after its
 * layout pass and Conv+activation fusion (optimisation level "all", as the engine's sessions), and must
 * actually keep the backward pass in the blocked layout where onnxruntime has one (x86).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../../src-shared/api';
import { analyzeGraph } from '../../../../../src-main/engine/graph/analyze-graph';
import { GraphBuilder } from '../../../../../src-main/engine/hooks/graph-builder';
import { buildHookedModel } from '../../../../../src-main/engine/hooks/hooked-model';
import { intoBlocked, positiveMask } from '../../../../../src-main/engine/hooks/vjp/blocked-layout';
import { describeModel } from '../../../../../src-main/engine/model-registry';
import { decodeModel } from '../../../../../src-main/engine/onnx/decode-model';
import { randomTensor, rng } from '../../../../helpers/gradcheck';
import { buildModel, floatTensor, intAttr, intsAttr, node, opModel, valueInfo } from '../../../../helpers/onnx-builder';

const CHANNELS = 16;
// ±0, the smallest subnormal, other subnormals, the smallest normal, ordinary values, the largest float, +∞.
// (NaN is left out: the mask is NaN there, where Greater gives 0; see positiveMask.)
const EDGES = [
  0,
  -0,
  Infinity,
  2 ** -149,
  2 ** -140,
  2 ** -127,
  2 ** -126,
  1e-30,
  1e-7,
  0.5,
  1,
  3,
  1e10,
  1e30,
  3.4028234663852886e38,
];

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

  const SHAPE = [1, 16, 8, 8];
  // Two residual blocks, the second strided with a 1×1 downsample: ReLU masks, fan-out sums, both strided
  // adjoints (phases + DepthToSpace, 1×1 + MaxUnpool) and the pooling spread.
  const r = rng(7);
  const residualModel = opModel(
    [
      node('Conv', ['x', 'W1'], ['c1'], 'c1', [intsAttr('pads', [1, 1, 1, 1])]),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'W2'], ['c2'], 'c2', [intsAttr('pads', [1, 1, 1, 1])]),
      node('Add', ['c2', 'x'], ['s1']),
      node('Relu', ['s1'], ['r2']),
      node('Conv', ['r2', 'W3'], ['c3'], 'c3', [intsAttr('pads', [1, 1, 1, 1]), intsAttr('strides', [2, 2])]),
      node('Relu', ['c3'], ['r3']),
      node('Conv', ['r3', 'W4'], ['c4'], 'c4', [intsAttr('pads', [1, 1, 1, 1])]),
      node('Conv', ['r2', 'Wd'], ['d'], 'down', [intsAttr('strides', [2, 2])]),
      node('Add', ['c4', 'd'], ['s2']),
      node('Relu', ['s2'], ['r4']),
      node('GlobalAveragePool', ['r4'], ['p']),
      node('Flatten', ['p'], ['f']),
      node('Gemm', ['f', 'Wf', 'Bf'], ['y'], 'fc', [intAttr('transB', 1)]),
    ],
    SHAPE,
    {
      initializers: [
        randomTensor('W1', [16, 16, 3, 3], r, 0.1),
        randomTensor('W2', [16, 16, 3, 3], r, 0.1),
        randomTensor('W3', [32, 16, 3, 3], r, 0.1),
        randomTensor('W4', [32, 32, 3, 3], r, 0.1),
        randomTensor('Wd', [32, 16, 1, 1], r, 0.1),
        randomTensor('Wf', [5, 32], r, 0.1),
        floatTensor('Bf', [5], [0, 0, 0, 0, 0]),
      ],
    },
  );

  /** onnxruntime's optimised graph of the hooked model (gradient at the input), as op types. */
  async function optimisedOps(blockedLayout: boolean): Promise<string[]> {
    const model = describeModel(residualModel, 'residual.onnx', null);
    const input = model.summary.inputs[0]?.name as TensorName;
    const analysis = await analyzeGraph(model, new Map([[input, SHAPE]]));
    const hooked = buildHookedModel(analysis, [input], true, { form: blockedLayout ? 'blocked' : 'plain' });
    const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-nchwc-'));
    try {
      const file = path.join(dir, 'optimised.onnx');
      const session = await ort.InferenceSession.create(hooked.bytes, {
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        optimizedModelFilePath: file,
      });
      await session.release();
      const optimised = decodeModel(await readFile(file), 'optimised.onnx');
      return (optimised.graph?.node ?? []).map((n) => {
        const activation = n.attribute.find((a) => a.name === 'activation');
        return `${n.domain}:${n.opType}${activation ? `+${new TextDecoder().decode(activation.s)}` : ''}`;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it.runIf(process.arch === 'x64')(
    'keeps the backward pass blocked: masks fused into convolutions, sums into adjoints',
    async () => {
      const plain = await optimisedOps(false);
      const blocked = await optimisedOps(true);
      const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
      // Four ReLU masks, each one blocked convolution with its HardSigmoid fused, where the plain forms compare.
      expect(count(blocked, 'com.microsoft.nchwc:Conv+HardSigmoid')).toBe(4);
      expect(count(blocked, ':Greater')).toBe(0);
      expect(count(plain, ':Greater')).toBe(4);
      // The two fan-out sums fused into the adjoint convolutions.
      expect(count(plain, ':Sum')).toBe(2);
      expect(count(blocked, ':Sum')).toBe(0);
      // Out of the layout only where an op has no blocked kernel: the strided adjoint's interleaving (its four
      // phases each leave the layout: a quarter of the volume each), MaxUnpool, the pooling and the input's
      // gradient (8 here), where the plain forms also leave it around every mask and sum (10).
      const out = (ops: string[]) => count(ops, 'com.microsoft.nchwc:ReorderOutput');
      expect(count(blocked, ':ConvTranspose')).toBe(1);
      expect(out(blocked) - 3).toBeLessThanOrEqual(out(plain) / 2);
    },
  );
});
