/**
 * The sanity check runs every state of an image as one batch with constant weights (state-batch.ts); where
 * that cannot apply it feeds the weights as inputs, one run per state. Both must give the same figures:
 * the batch's maps differ from the fed runs' only by float rounding (other kernels, other summation order).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRADIENT_METHODS, type CamMethod } from '../../../../src-shared/cam';
import type { SanityResult } from '../../../../src-shared/trust';
import { Engine } from '../../../../src-main/engine/engine';
import { resolveLayers } from '../../../../src-main/engine/graph/layers';
import { graphFormFor } from '../../../../src-main/engine/inference/graph-form';
import { toInputTensor } from '../../../../src-main/engine/input-tensor';
import type { OpenModel } from '../../../../src-main/engine/model-registry';
import { SanityChecker, type SanityImage } from '../../../../src-main/engine/trust/sanity-check';

const HELDOUT = 'test/fixtures/demo-heldout';

describe('sanity check: the batch of states against the fed weights', () => {
  let engine: Engine;
  let model: OpenModel;
  const runs: Record<string, number> = {};
  const results: Record<'batched' | 'fed' | 'refused' | 'failing' | 'remembered', SanityResult> = {} as never;
  const batchAttempts: Record<string, number> = {};

  beforeAll(async () => {
    engine = await Engine.create({});
    model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    const index = JSON.parse(readFileSync(`${HELDOUT}/index.json`, 'utf8')) as { images: { file: string }[] };
    const analysis = await engine.analysis(model, [1, 3, 96, 96]);
    const images: SanityImage[] = [];
    for (const [i, item] of index.images.slice(0, 2).entries()) {
      const image = await engine.resolveImage({ kind: 'path', path: `${HELDOUT}/${item.file}` });
      // One image explains its top class, the other another class.
      images.push({ input: await toInputTensor(model, image.bytes, image.name), classIndex: i === 0 ? 0 : 4 });
    }
    const methods: CamMethod[] = [...GRADIENT_METHODS];
    // 'failing' (last: the refusal is remembered for this analysis): the batched run throws; 'remembered'
    // then does not try it again.
    for (const path of ['batched', 'fed', 'refused', 'failing', 'remembered'] as const) {
      batchAttempts[path] = 0;
      runs[path] = 0;
      const checker = new SanityChecker({
        session: async (key, bytes) => {
          const pooled = await engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', model.summary.name);
          return {
            ...pooled,
            session: {
              run: (feeds, fetches) => {
                runs[path] = (runs[path] as number) + 1;
                if (key.includes('sanity-states')) {
                  batchAttempts[path] = (batchAttempts[path] as number) + 1;
                  if (path === 'failing' || path === 'remembered') return Promise.reject(new Error('out of memory'));
                }
                return pooled.session.run(feeds, fetches);
              },
              release: () => pooled.session.release(),
            },
          };
        },
        graphForm: graphFormFor('cpu'),
        // 'refused': the batch cannot be analysed (as for a model whose batch is fixed at 1).
        analysis: (shape) => (path === 'refused' ? Promise.reject(new Error('fixed batch')) : engine.analysis(model, shape)),
        fedWeights: path === 'fed',
      });
      results[path] = await checker.run({
        model,
        // A refusal is remembered per analysis: 'refused' gets its own copy, so as not to answer for 'failing'.
        analysis: path === 'refused' ? { ...analysis } : analysis,
        layers: resolveLayers(analysis, ['stages'], model.summary.name),
        methods,
        images,
        seed: 3,
      });
    }
  }, 240_000);

  afterAll(() => engine?.dispose());

  it('runs each image once as a batch, or each state of it once with fed weights', () => {
    expect(runs.batched).toBe(2);
    expect(runs.fed).toBe(2 * 12);
  });

  it('falls back to the fed weights when the batched run fails, and remembers it', () => {
    expect(batchAttempts.failing).toBe(1);
    expect(runs.failing).toBe(1 + 2 * 12);
    expect(results.failing.layers).toEqual(results.fed.layers);
    expect(batchAttempts.remembered).toBe(0);
    expect(results.remembered.layers).toEqual(results.fed.layers);
  });

  it('falls back to the fed weights where the batch cannot be built, with the same figures', () => {
    expect(runs.refused).toBe(2 * 12);
    expect(results.refused.layers).toEqual(results.fed.layers);
  });

  it('gives the same similarity figures by both paths', () => {
    const { batched, fed } = results;
    expect(batched.modules).toEqual(fed.modules);
    expect(batched.verdicts).toEqual(fed.verdicts);
    let compared = 0;
    let worst = 0;
    for (const [l, layer] of fed.layers.entries()) {
      const other = batched.layers[l];
      expect(other?.unavailable).toEqual(layer.unavailable);
      expect(Object.keys(other?.methods ?? {}).sort()).toEqual(Object.keys(layer.methods).sort());
      for (const [method, s] of Object.entries(layer.methods)) {
        if (!s) continue;
        const t = other?.methods[method];
        expect(t?.verdict, `${layer.label} ${method}`).toBe(s.verdict);
        for (const kind of ['cascading', 'independent'] as const)
          for (const figure of ['spearman', 'ssim'] as const)
            s[kind][figure].forEach((v, i) => {
              const d = Math.abs(v - (t?.[kind][figure][i] as number));
              worst = Math.max(worst, d);
              compared++;
              expect(d, `${layer.label} ${method} ${kind} ${figure} ${i}`).toBeLessThan(1e-4);
            });
      }
    }
    // 4 stages × 7 methods × (6 cascading + 6 independent) × 2 figures: every gradient method but FinerCAM,
    // whose score needs a hooked run of its own (unavailable by both paths, checked above).
    expect(compared).toBe(4 * (methods().length - 1) * 24);
    expect(fed.layers[0]?.unavailable.finercam).toBeDefined();
    console.log(`largest difference between the paths: ${worst.toExponential(2)}`);
  });
});

function methods(): CamMethod[] {
  return [...GRADIENT_METHODS];
}
