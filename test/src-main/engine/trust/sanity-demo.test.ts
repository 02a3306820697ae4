/**
 * The sanity check on the demo model can pass and can fail: Grad-CAM's last-stage maps lose their ranking
 * once the weights are randomised (Adebayo et al. found Grad-CAM sensitive to the weights), while a
 * control "method" that only detects the input's edges (a Sobel filter, defined here and nowhere in the
 * app) keeps it — and is judged to fail.
 */
import { graphFormFor } from '../../../../src-main/engine/inference/graph-form';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawMap } from '../../../../src-shared/cam';
import type { TrustResult } from '../../../../src-shared/trust';
import { Engine } from '../../../../src-main/engine/engine';
import { toInputTensor, type InputTensor } from '../../../../src-main/engine/input-tensor';
import type { SanityControl } from '../../../../src-main/engine/trust/sanity-check';
import { runTrust } from '../../../../src-main/engine/trust/trust-runner';

const HELDOUT = 'test/fixtures/demo-heldout';
const IMAGES = 3;

/** |∇I| of the channel-mean image by 3 × 3 Sobel kernels, edges replicated: a map with no model in it. */
function sobel(input: InputTensor): RawMap {
  const [, channels, height, width] = input.shape as [number, number, number, number];
  const plane = height * width;
  const gray = new Float32Array(plane);
  for (let c = 0; c < channels; c++)
    for (let p = 0; p < plane; p++) gray[p] = (gray[p] as number) + (input.data[c * plane + p] as number) / channels;
  const at = (x: number, y: number): number =>
    gray[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))] as number;
  const data = new Float32Array(plane);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      data[y * width + x] = Math.hypot(gx, gy);
    }
  return { width, height, data };
}

const SOBEL: SanityControl = { id: 'sobel', map: (input) => sobel(input) };

describe('sanity check on the demo model', () => {
  let engine: Engine;
  let result: TrustResult;

  beforeAll(async () => {
    engine = await Engine.create({});
    const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    const index = JSON.parse(readFileSync(`${HELDOUT}/index.json`, 'utf8')) as { images: { file: string }[] };
    const images = [];
    for (const item of index.images.slice(0, IMAGES)) {
      const image = await engine.resolveImage({ kind: 'path', path: `${HELDOUT}/${item.file}` });
      images.push({ name: item.file, input: await toInputTensor(model, image.bytes, image.name), box: null });
    }
    result = await runTrust(
      {
        analysis: (m, shape) => engine.analysis(m, shape),
        cam: (m, input, req, signal) => engine.camTensor(m, input, req, undefined, signal),
        plainSession: (m) => engine.plainSession(m),
        outputIsProbability: () => false,
        session: (key, bytes, m) => engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
        graphForm: () => graphFormFor('cpu'),
      },
      {
        model,
        images,
        layers: [],
        methods: ['gradcam', 'cam'],
        classIndex: 'top',
        settings: { steps: 20, baseline: { kind: 'blur', sigma: 5 }, seed: 0 },
        faithfulness: false,
        sanity: true,
        controls: [SOBEL],
      },
    );
  }, 180_000);

  afterAll(() => engine?.dispose());

  it('randomises the head, then each stage, then the stem', () => {
    expect(result.sanity?.modules.map((m) => m.label)).toEqual(['head', 'layer4', 'layer3', 'layer2', 'layer1', 'stem']);
  });

  it("Grad-CAM's last-stage maps fall below a mean rank correlation of 0.5 after full randomisation", () => {
    const last = result.sanity?.layers.at(-1);
    const gradcam = last?.methods.gradcam;
    expect(gradcam?.cascading.spearman).toHaveLength(6);
    expect(gradcam?.cascading.spearman.at(-1)).toBeLessThan(0.5);
    expect(gradcam?.verdict).toBe('pass');
    // Randomising the head alone already changes the map (the weights are fed, not baked in).
    expect(gradcam?.cascading.spearman[0]).toBeLessThan(0.99);
    // CAM reads the head's (randomised) weights too.
    expect(last?.methods.cam?.cascading.spearman.at(-1)).toBeLessThan(0.5);
  });

  it('the Sobel edge control stays above 0.9 and fails the check', () => {
    for (const layer of result.sanity?.layers ?? []) {
      const control = layer.methods.sobel;
      expect(control?.cascading.spearman.at(-1)).toBeGreaterThan(0.9);
      expect(control?.independent.spearman.every((s) => s > 0.9)).toBe(true);
      expect(control?.verdict).toBe('fail');
    }
    expect(result.sanity?.verdicts.sobel).toBe('fail');
    expect(result.sanity?.verdicts.gradcam).not.toBe('fail');
  });
});

/**
 * ScoreCAM and AblationCAM are checked like the in-graph methods: their perturbation passes go through the
 * plain model (or its tail) with the randomised weights fed as inputs. One image, the last stage: each
 * state costs ScoreCAM a forward pass per channel (128 here).
 */
describe('sanity check of the perturbation methods on the demo model', () => {
  let engine: Engine;
  let result: TrustResult;

  beforeAll(async () => {
    engine = await Engine.create({});
    const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    const index = JSON.parse(readFileSync(`${HELDOUT}/index.json`, 'utf8')) as { images: { file: string }[] };
    const item = index.images[0] as { file: string };
    const image = await engine.resolveImage({ kind: 'path', path: `${HELDOUT}/${item.file}` });
    result = await runTrust(
      {
        analysis: (m, shape) => engine.analysis(m, shape),
        cam: (m, input, req, signal) => engine.camTensor(m, input, req, undefined, signal),
        plainSession: (m) => engine.plainSession(m),
        outputIsProbability: () => false,
        session: (key, bytes, m) => engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
        graphForm: () => graphFormFor('cpu'),
      },
      {
        model,
        images: [{ name: item.file, input: await toInputTensor(model, image.bytes, image.name), box: null }],
        layers: ['layer4'],
        methods: ['scorecam', 'ablationcam'],
        classIndex: 'top',
        settings: { steps: 20, baseline: { kind: 'blur', sigma: 5 }, seed: 0 },
        faithfulness: false,
        sanity: true,
      },
    );
  }, 300_000);

  afterAll(() => engine?.dispose());

  it('their last-stage maps fall below a rank correlation of 0.5 after full randomisation', () => {
    const layer = result.sanity?.layers[0];
    expect(layer?.unavailable).toEqual({});
    for (const method of ['scorecam', 'ablationcam']) {
      const s = layer?.methods[method];
      expect(s?.cascading.spearman).toHaveLength(6);
      expect(s?.independent.spearman).toHaveLength(6);
      expect(s?.cascading.spearman.at(-1), method).toBeLessThan(0.5);
      expect(s?.verdict, method).toBe('pass');
      // Randomising layer4 alone (independent step 1) changes the map: the fed weights reach the passes.
      expect(s?.independent.spearman[1], method).toBeLessThan(0.9);
    }
  });
});
