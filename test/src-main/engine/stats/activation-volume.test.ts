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

  it('names an unknown layer', async () => {
    const model = await engine.openModelPath({ path: 'test/fixtures/torch/resnet/model.onnx' });
    const input = await readFile('test/fixtures/torch/resnet/input.npy');
    await expect(
      engine.getActivation({ modelId: model.id, image: { kind: 'bytes', name: 'i.npy', bytes: input }, layer: 'nope' }),
    ).rejects.toThrow(/no module or tensor named "nope"/);
  });
});
