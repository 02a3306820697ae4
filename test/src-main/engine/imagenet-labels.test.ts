import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../src-main/engine/engine';
import { IMAGENET_LABELS } from '../../../src-main/engine/imagenet-labels';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe('ImageNet-1k class names', () => {
  it('are the 1000 standard names in torchvision’s order', () => {
    expect(IMAGENET_LABELS).toHaveLength(1000);
    expect([IMAGENET_LABELS[0], IMAGENET_LABELS[1], IMAGENET_LABELS[713], IMAGENET_LABELS[999]]).toEqual([
      'tench',
      'goldfish',
      'photocopier',
      'toilet tissue',
    ]);
  });

  it('name a 1000-class model without labels, say so, and give way to the user’s labels', async () => {
    const model = await engine.openModelPath({ path: 'test/fixtures/graph/thin-resnet50.onnx' });
    expect(model.labelSource).toBe('imagenet');
    expect(model.labels?.[713]).toBe('photocopier');
    const mine = Array.from({ length: 1000 }, (_, i) => `mine ${i}`);
    expect((await engine.setLabels({ modelId: model.id, labels: mine })).labelSource).toBe('user');
    const back = await engine.setLabels({ modelId: model.id, labels: null });
    expect([back.labelSource, back.labels?.[0]]).toEqual(['imagenet', 'tench']);
  });

  it('are not assumed for other class counts, and a model’s own labels win', async () => {
    const demo = await engine.openModelPath({ path: 'resources/demo/layerlens-demo.onnx' });
    expect([demo.labelSource, demo.labels?.[0]]).toEqual(['model', 'circle']);
    const vit = await engine.openModelPath({ path: 'test/fixtures/torch/vit/model.onnx' });
    expect([vit.labelSource, vit.labels]).toEqual([null, null]);
  });
});
