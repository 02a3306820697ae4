import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { buildModel, intAttr, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';
import { randomTensor, rng } from '../../../helpers/gradcheck';

const r = rng(3);
const w = (name: string, dims: number[]) => randomTensor(name, dims, r);

/** conv → relu → Sin (no gradient rule) → GAP → linear. */
const model = buildModel({
  inputs: [valueInfo('input', [1, 3, 8, 8])],
  outputs: [{ name: 'logits' }],
  initializers: [w('W', [4, 3, 3, 3]), w('fcW', [5, 4]), w('fcB', [5])],
  nodes: [
    node('Conv', ['input', 'W'], ['c'], '/features/conv/Conv', [intsAttr('pads', [1, 1, 1, 1])]),
    node('Relu', ['c'], ['features'], '/features/relu/Relu'),
    node('Sin', ['features'], ['e'], '/head/sin/Sin'),
    node('GlobalAveragePool', ['e'], ['p'], '/head/pool/GlobalAveragePool'),
    node('Flatten', ['p'], ['f'], '/head/Flatten'),
    node('Gemm', ['f', 'fcW', 'fcB'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]),
  ],
});

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe('when gradients are impossible', () => {
  it('names the node and op, and the gradient-free methods still work', async () => {
    const opened = await engine.openModelBytes({ name: 'sin.onnx', bytes: model });
    const m = engine.models.get(opened.id);
    const input = { name: 'input', data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)), shape: [1, 3, 8, 8] };
    const result = await engine.camTensor(m, input, {
      layers: ['features'],
      methods: ['gradcam', 'hirescam', 'eigencam', 'scorecam', 'ablationcam'],
      classIndex: 2,
      counterfactual: false,
    });
    const layer = result.layers[0];
    expect(layer?.unavailable.gradcam).toMatch(/node "\/head\/sin\/Sin" \(Sin\)/);
    expect(layer?.unavailable.hirescam).toMatch(/gradient-free methods/);
    for (const m of ['eigencam', 'scorecam', 'ablationcam'] as const) expect(layer?.maps[m]?.data.length, m).toBe(64);
    expect(result.logits).toHaveLength(5);
  });
});
