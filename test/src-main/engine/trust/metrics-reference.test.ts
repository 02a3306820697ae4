/**
 * Every faithfulness metric and similarity measure against references written in Python from the papers'
 * definitions (tools/trust-fixtures/make_trust_fixtures.py: PyTorch in float64), within 1e-6.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../../../../src-shared/trust';
import { gaussianBlur } from '../../../../src-main/engine/trust/baseline';
import { BatchScorer } from '../../../../src-main/engine/trust/batch-scorer';
import { measureMaps } from '../../../../src-main/engine/trust/faithfulness';
import { imageLayout } from '../../../../src-main/engine/trust/image-layout';
import { randomMap, streamSeed } from '../../../../src-main/engine/trust/random';
import { spearman, ssim } from '../../../../src-main/engine/trust/similarity';

interface Case {
  baseline: 'blur' | 'zero';
  map: string;
  deletion: number[];
  insertion: number[];
  deletion_auc: number;
  insertion_auc: number;
  drop: number;
  increase: boolean;
  pointing: boolean;
}
interface Reference {
  shape: number[];
  steps: number;
  box: Box;
  class: number;
  prob: number;
  x: number[];
  maps: Record<string, { width: number; height: number; data: number[] }>;
  random_map_seed: [number, string];
  blur_sigma: number;
  blurred: number[];
  cases: Case[];
  similarity: { name: string; width: number; height: number; a: number[]; b: number[]; spearman: number; ssim: number }[];
}

const DIR = 'test/fixtures/trust';
const ref = JSON.parse(readFileSync(`${DIR}/reference.json`, 'utf8')) as Reference;
const layout = imageLayout(ref.shape, false);
const x = Float32Array.from(ref.x);
const TOLERANCE = 1e-6;

function close(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThan(TOLERANCE);
}

describe('trust metrics against the Python references', () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(`${DIR}/tiny.onnx`);
  });

  it('the blurred baseline is the separable Gaussian of the definition', () => {
    close(gaussianBlur(layout, x, ref.blur_sigma), ref.blurred);
  });

  it('the random-map baseline reproduces the seeded stream (mulberry32) exactly', () => {
    const { width, height, data } = ref.maps.random as { width: number; height: number; data: number[] };
    const [seed, name] = ref.random_map_seed;
    expect(Array.from(randomMap(width, height, streamSeed(seed, name)))).toEqual(data);
  });

  for (const baseline of ['blur', 'zero'] as const) {
    it(`deletion, insertion, average drop, increase and pointing with the ${baseline} baseline`, async () => {
      const cases = ref.cases.filter((c) => c.baseline === baseline);
      const maps = cases.map((c) => {
        const m = ref.maps[c.map] as { width: number; height: number; data: number[] };
        return { width: m.width, height: m.height, data: Float32Array.from(m.data) };
      });
      // A batch of 5 splits the 2 + 3 × 15 images across batches: batching must not change a value.
      const scorer = new BatchScorer(
        { session, inputName: 'input', outputName: 'logits', inputShape: ref.shape, outputIsProbability: false },
        5,
      );
      const metrics = await measureMaps(
        {
          layout,
          x,
          baseline: baseline === 'zero' ? new Float32Array(x.length) : Float32Array.from(ref.blurred),
          classIndex: ref.class,
          box: ref.box,
          steps: ref.steps,
        },
        maps,
        scorer,
      );
      cases.forEach((c, i) => {
        const m = metrics[i];
        if (!m) throw new Error('missing metrics');
        close(m.deletion.probs, c.deletion);
        close(m.insertion.probs, c.insertion);
        expect(Math.abs(m.deletion.auc - c.deletion_auc)).toBeLessThan(TOLERANCE);
        expect(Math.abs(m.insertion.auc - c.insertion_auc)).toBeLessThan(TOLERANCE);
        expect(Math.abs(m.drop - c.drop)).toBeLessThan(TOLERANCE);
        expect(m.increase).toBe(c.increase);
        expect(m.pointing).toBe(c.pointing);
      });
      // Deletion's first point is the image itself.
      expect(Math.abs((metrics[0]?.deletion.probs[0] as number) - ref.prob)).toBeLessThan(TOLERANCE);
      expect(scorer.forwardPasses).toBe(2 + maps.length * (2 * (ref.steps - 1) + 1));
    });
  }

  it('scores an image several maps share once, with the same metrics as alone', async () => {
    const cases = ref.cases.filter((c) => c.baseline === 'zero');
    const m = ref.maps[(cases[0] as Case).map] as { width: number; height: number; data: number[] };
    const map = { width: m.width, height: m.height, data: Float32Array.from(m.data) };
    // The same order of pixels with other values: every curve image is shared, the masked image is not.
    const stretched = { ...map, data: map.data.map((v) => 2 * v + 1) };
    const scorer = new BatchScorer(
      { session, inputName: 'input', outputName: 'logits', inputShape: ref.shape, outputIsProbability: false },
      5,
    );
    const image = {
      layout,
      x,
      baseline: new Float32Array(x.length),
      classIndex: ref.class,
      box: ref.box,
      steps: ref.steps,
    };
    const [alone, twin, same] = await measureMaps(image, [map, map, stretched], scorer);
    const curve = 2 * (ref.steps - 1);
    expect(scorer.forwardPasses).toBe(2 + curve + 1 + 1);
    for (const other of [twin, same]) {
      close(other?.deletion.probs ?? [], Array.from(alone?.deletion.probs ?? []));
      close(other?.insertion.probs ?? [], Array.from(alone?.insertion.probs ?? []));
    }
    expect(twin?.drop).toBe(alone?.drop);
    close(alone?.deletion.probs ?? [], (cases[0] as Case).deletion);
  });

  it('Spearman rank correlation (average ranks for ties) and SSIM', () => {
    for (const pair of ref.similarity) {
      const a = Float32Array.from(pair.a);
      const b = Float32Array.from(pair.b);
      expect(Math.abs(spearman(a, b) - pair.spearman), pair.name).toBeLessThan(TOLERANCE);
      // float32 maps are ranked by one packed sort, other numbers by binary searches: both against the reference.
      expect(Math.abs(spearman(Array.from(a), Array.from(b)) - pair.spearman), pair.name).toBeLessThan(TOLERANCE);
      expect(Math.abs(ssim(a, b, pair.width, pair.height) - pair.ssim), pair.name).toBeLessThan(TOLERANCE);
    }
  });
});
