/**
 * The bundled demo model, measured with LayerLens's own engine on the committed held-out images:
 * accuracy ≥ 95%, and the last stage's Grad-CAM points inside the object's box on ≥ 90% of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax, resizeMap } from '../../../src-shared/heatmap';
import { Engine } from '../../../src-main/engine/engine';
import { toInputTensor } from '../../../src-main/engine/input-tensor';
import { loadLabelledSet, measureAccuracy, type LabelledImage } from '../../../src-main/engine/labelled-set';
import type { OpenModel } from '../../../src-main/engine/model-registry';

let engine: Engine;
let model: OpenModel;
let images: LabelledImage[];

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu', demoSamples: 'resources/demo/samples.json' });
  model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
  images = await loadLabelledSet('test/fixtures/demo-heldout/index.json');
});
afterAll(() => engine.dispose());

describe('demo model', () => {
  it('carries its labels and preprocessing in metadata_props', () => {
    expect(model.summary.labels?.length).toBeGreaterThanOrEqual(4);
    expect(model.summary.preprocess.source).toBe('metadata');
  });

  it('is at least 95% accurate on the held-out images', async () => {
    expect(images.length).toBeGreaterThanOrEqual(100);
    const report = await measureAccuracy(engine, model, images);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('predicts every bundled sample correctly', async () => {
    const { samples } = await engine.getStartupState();
    expect(samples.length).toBeGreaterThanOrEqual(6);
    for (const s of samples) {
      const p = await engine.predict({ modelId: model.id, image: { kind: 'sample', id: s.id } });
      expect(p.top[0]?.class, s.file).toBe(s.classIndex);
    }
  });

  it('last-stage Grad-CAM equals CAM up to a positive factor', async () => {
    const image = await engine.resolveImage({ kind: 'path', path: images[0]?.file as string });
    const input = await toInputTensor(model, image.bytes, image.name);
    const r = await engine.camTensor(model, input, {
      layers: ['stages'],
      methods: ['cam', 'gradcam'],
      classIndex: 'top',
      counterfactual: false,
    });
    const last = r.layers.at(-1);
    const cam = last?.maps.cam?.data as Float32Array;
    const grad = last?.maps.gradcam?.data as Float32Array;
    const factor = (last?.shape[1] ?? 0) * (last?.shape[2] ?? 0);
    for (let i = 0; i < cam.length; i++) expect(cam[i]).toBeCloseTo((grad[i] as number) * factor, 3);
  });

  it('pointing game: the hottest point of last-stage Grad-CAM is inside the object box on ≥ 90% of held-out images', async () => {
    let hits = 0;
    for (const item of images) {
      const image = await engine.resolveImage({ kind: 'path', path: item.file });
      const input = await toInputTensor(model, image.bytes, image.name);
      const r = await engine.camTensor(model, input, {
        layers: ['stages'],
        methods: ['gradcam'],
        classIndex: item.classIndex,
        counterfactual: false,
      });
      const map = r.layers.at(-1)?.maps.gradcam;
      if (!map || !item.box || !input.rgb) continue;
      const { width, height } = input.rgb;
      const best = argmax(resizeMap(map, width, height, 'bilinear'));
      const [x, y] = [best % width, Math.floor(best / width)];
      const [x0, y0, x1, y1] = item.box;
      if (x >= x0 && x < x1 && y >= y0 && y < y1) hits++; // boxes are [x0, y0, x1, y1), as PIL crops
    }
    expect(hits / images.length).toBeGreaterThanOrEqual(0.9);
  });
});
