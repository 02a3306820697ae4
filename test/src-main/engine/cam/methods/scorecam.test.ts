/**
 * ScoreCAM masks the input inside the model (masked-score-model.ts), a batch of channels per run: its maps
 * must equal ScoreCAM written out directly — one plain forward per channel, masks made in JavaScript —
 * whether the layer is upsampled by a whole or a fractional factor, and for a model whose graph only
 * runs at batch 1.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../../src-main/engine/engine';
import { scoreCamReference } from '../../../../helpers/cam-reference/scorecam';
import { randomTensor, rng } from '../../../../helpers/gradcheck';
import { maxAbsDiff, pearson } from '../../../../helpers/map-compare';
import { buildModel, int64Tensor, intAttr, intsAttr, node, valueInfo } from '../../../../helpers/onnx-builder';

const r = rng(29);
const CHANNELS = 40; // three CPU batches of up to 16
const CLASSES = 5;
const weights = [randomTensor('W', [CHANNELS, 3, 3, 3], r), randomTensor('fcW', [CLASSES, CHANNELS], r)];

/** 20×20 image → a 3×3 convolution of stride `stride` → ReLU ("feat") → average → linear. */
function model(stride: number, fixedBatch: boolean, upToFeat = false): Uint8Array {
  const body = [
    node('Conv', ['input', 'W'], ['c'], '/features/conv/Conv', [intsAttr('strides', [stride, stride])]),
    node('Relu', ['c'], ['feat'], '/features/relu/Relu'),
  ];
  return buildModel({
    inputs: [valueInfo('input', [fixedBatch ? 1 : 'batch', 3, 20, 20])],
    outputs: [{ name: upToFeat ? 'feat' : 'logits' }],
    initializers: [...weights, int64Tensor('flat', [1, CHANNELS])],
    nodes: upToFeat
      ? body
      : [
          ...body,
          node('GlobalAveragePool', ['feat'], ['p'], '/head/pool/GlobalAveragePool'),
          // A fixed-batch export: the head reshapes to [1, C], so only batches of one run.
          fixedBatch ? node('Reshape', ['p', 'flat'], ['f'], '/head/Reshape') : node('Flatten', ['p'], ['f'], '/head/Flatten'),
          node('Gemm', ['f', 'fcW'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]),
        ],
  });
}

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

const input = {
  name: 'input',
  data: Float32Array.from({ length: 3 * 400 }, (_, i) => Math.sin(i * 0.37) + 0.2),
  shape: [1, 3, 20, 20],
};

async function activation(stride: number): Promise<{ activation: Float32Array; height: number; width: number }> {
  const s = await ort.InferenceSession.create(model(stride, false, true));
  const out = (await s.run({ input: new ort.Tensor('float32', input.data, input.shape) })).feat as ort.Tensor;
  await s.release();
  return { activation: out.data as Float32Array, height: out.dims[2] as number, width: out.dims[3] as number };
}

describe('ScoreCAM with the mask in the graph', () => {
  it.each([
    ['upsampled ×2 (9×9 → 20×20 is not whole: 18/9)', 2, false],
    ['upsampled by 20/6', 3, false],
    ['a model that runs at batch 1 only', 3, true],
  ])('equals ScoreCAM written out directly: %s', async (_, stride, fixedBatch) => {
    const bytes = model(stride as number, fixedBatch as boolean);
    const opened = await engine.openModelBytes({ name: `score-${stride}-${fixedBatch}.onnx`, bytes });
    const result = await engine.camTensor(engine.models.get(opened.id), input, {
      layers: ['feat'],
      methods: ['scorecam'],
      classIndex: 2,
      counterfactual: false,
    });
    const layer = result.layers[0];
    expect(layer?.unavailable).toEqual({});
    const map = layer?.maps.scorecam?.data as Float32Array;
    const { activation: a, height, width } = await activation(stride as number);
    expect([layer?.maps.scorecam?.height, layer?.maps.scorecam?.width]).toEqual([height, width]);
    const reference = await scoreCamReference(bytes, input, { activation: a, channels: CHANNELS, height, width }, 2);
    expect(pearson(map, reference)).toBeGreaterThan(0.99999);
    const scale = Math.max(...reference.map(Math.abs));
    expect(maxAbsDiff(map, reference) / scale).toBeLessThan(1e-4);
  });
});
