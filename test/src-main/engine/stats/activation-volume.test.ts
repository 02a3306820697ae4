import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { readNpy } from '../../../../src-main/engine/npy';
import { maxAbsDiff } from '../../../helpers/map-compare';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe('activation volume', () => {
  it('returns a layer’s activation for one input, equal to PyTorch’s', async () => {
    const dir = 'test/fixtures/torch/resnet';
    const model = await engine.openModelPath({ path: `${dir}/model.onnx` });
    const input = await readFile(`${dir}/input.npy`);
    const volume = await engine.getActivation({
      modelId: model.id,
      image: { kind: 'bytes', name: 'input.npy', bytes: input },
      layer: 'layer1',
    });
    expect(volume.shape).toEqual([8, 16, 16]);
    const reference = readNpy(await readFile(`${dir}/stage0_act.npy`), 'stage0_act.npy');
    expect(maxAbsDiff(volume.data, reference.data)).toBeLessThan(1e-4);
  });

  it.each([
    ['swin', 'features.3', 1, [32, 8, 8]],
    ['vit', 'encoder.layers.encoder_layer_1', 0, [32, 8, 8]],
  ] as const)('reads %s’s %s (channels-last / tokens) as channels × its grid', async (name, layer, stage, shape) => {
    const dir = `test/fixtures/torch/${name}`;
    const model = await engine.openModelPath({ path: `${dir}/model.onnx` });
    const input = await readFile(`${dir}/input.npy`);
    const volume = await engine.getActivation({
      modelId: model.id,
      image: { kind: 'bytes', name: 'input.npy', bytes: input },
      layer,
    });
    expect(volume.shape).toEqual(shape);
    const [c, h, w] = shape;
    const native = readNpy(await readFile(`${dir}/stage${stage}_act.npy`), 'act.npy').data;
    // [H·W (after one class token for ViT), C] → [C, H·W]
    const skip = native.length - h * w * c;
    const expected = Float32Array.from(
      { length: c * h * w },
      (_, i) => native[skip + (i % (h * w)) * c + Math.floor(i / (h * w))] as number,
    );
    expect(maxAbsDiff(volume.data, expected)).toBeLessThan(1e-4);
    // Per-channel statistics over the same grid.
    const opened = await engine.models.openPath(`${dir}/model.onnx`);
    const stats = await engine.statsFiles(opened, [`${dir}/input.npy`], {
      layers: [layer],
      includeParamless: false,
      bins: 40,
      range: { kind: 'auto' },
    });
    const channelMean = stats.layers[0]?.stats.channelMean as number[];
    expect(channelMean).toHaveLength(c);
    for (let k = 0; k < c; k++) {
      let sum = 0;
      for (let i = 0; i < h * w; i++) sum += expected[k * h * w + i] as number;
      expect(channelMean[k]).toBeCloseTo(sum / (h * w), 4);
    }
  });

  it('names an unknown layer', async () => {
    const model = await engine.openModelPath({ path: 'test/fixtures/torch/resnet/model.onnx' });
    const input = await readFile('test/fixtures/torch/resnet/input.npy');
    await expect(
      engine.getActivation({ modelId: model.id, image: { kind: 'bytes', name: 'i.npy', bytes: input }, layer: 'nope' }),
    ).rejects.toThrow(/no module or tensor named "nope"/);
  });
});
