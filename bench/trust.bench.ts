/**
 * Issue 19's targets, on the demo model and its held-out images:
 * - a full evaluation of one image (all gradient methods × the four stages × deletion + insertion, 20 steps,
 *   plus the random maps and average drop: ~1,100 perturbed images) ≤ 1.3× plain batched inference over as
 *   many images at the best batch size, and ≤ 2 s;
 * - the sanity check of one image (the head, each stage and the stem randomised, cascading and independent)
 *   ≤ 10× one CAM run of the same methods;
 * and the methods ranked by mean deletion AUC (lower: the map finds what the model uses sooner).
 */
import { graphFormFor } from '../src-main/engine/inference/graph-form';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { CAM_METHOD_LABELS, GRADIENT_METHODS, type CamMethod } from '../src-shared/cam';
import { DEFAULT_BASELINE, DEFAULT_TRUST_STEPS, type TrustResult } from '../src-shared/trust';
import { Engine } from '../src-main/engine/engine';
import { toInputTensor } from '../src-main/engine/input-tensor';
import { runTrust, type TrustDeps, type TrustImage } from '../src-main/engine/trust/trust-runner';
import type { Figure } from './run';

const HELDOUT = 'test/fixtures/demo-heldout';
/** Held-out images evaluated (of 200): each costs ~1,100 forward passes. TRUST_BENCH_IMAGES changes it. */
const IMAGES = Number(process.env.TRUST_BENCH_IMAGES ?? 12);
const SANITY_IMAGES = 2;
const BATCHES = [8, 16, 32, 64, 128];

export async function trustBenchmark(): Promise<Figure[]> {
  const engine = await Engine.create({ device: 'cpu' });
  try {
    const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    const index = JSON.parse(readFileSync(`${HELDOUT}/index.json`, 'utf8')) as {
      images: { file: string; box: [number, number, number, number] }[];
    };
    const images: TrustImage[] = [];
    for (const item of index.images.slice(0, IMAGES)) {
      const image = await engine.resolveImage({ kind: 'path', path: `${HELDOUT}/${item.file}` });
      images.push({ name: item.file, input: await toInputTensor(model, image.bytes, image.name), box: item.box });
    }
    const deps: TrustDeps = {
      analysis: (m, shape) => engine.analysis(m, shape),
      cam: (m, input, req, signal) => engine.camTensor(m, input, req, undefined, signal),
      plainSession: (m) => engine.plainSession(m),
      outputIsProbability: () => false,
      session: (key, bytes, m) => engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
      graphForm: () => graphFormFor('cpu'),
    };
    const methods: CamMethod[] = [...GRADIENT_METHODS];
    const settings = { steps: DEFAULT_TRUST_STEPS, baseline: DEFAULT_BASELINE, seed: 0 };
    const job = { model, layers: [], methods, classIndex: 'top' as const, settings };
    // Warm up every session (probe, rewrite, session creation are one-time costs).
    await runTrust(deps, { ...job, images: images.slice(0, 1), faithfulness: true, sanity: true });

    const evaluated: TrustResult = await runTrust(deps, { ...job, images, faithfulness: true, sanity: false });
    const perImageMs = evaluated.timings.faithfulnessMs / images.length;
    const passes = evaluated.timings.forwardPasses / images.length;

    // Plain batched inference over as many images, at the best batch size.
    const plain = await engine.plainSession(model);
    const first = images[0] as TrustImage;
    const size = first.input.data.length;
    let bestMs = Infinity;
    let bestBatch = 0;
    for (const b of BATCHES) {
      const data = new Float32Array(b * size);
      for (let i = 0; i < b; i++) data.set(images[i % images.length]?.input.data as Float32Array, i * size);
      const tensor = new ort.Tensor('float32', data, [b, ...first.input.shape.slice(1)]);
      await plain.session.run({ [first.input.name]: tensor });
      const t0 = performance.now();
      let done = 0;
      while (done < passes) {
        await plain.session.run({ [first.input.name]: tensor });
        done += b;
      }
      const ms = ((performance.now() - t0) / done) * passes;
      if (ms < bestMs) [bestMs, bestBatch] = [ms, b];
    }

    // The sanity check against one CAM run of the same methods.
    const sanityImages = images.slice(0, SANITY_IMAGES);
    const camTimes: number[] = [];
    for (const image of sanityImages) {
      const t0 = performance.now();
      await engine.camTensor(model, image.input, { layers: ['stages'], methods, classIndex: 'top', counterfactual: false });
      camTimes.push(performance.now() - t0);
    }
    const camMs = camTimes.reduce((a, b) => a + b, 0) / camTimes.length;
    const sanity = await runTrust(deps, { ...job, images: sanityImages, faithfulness: false, sanity: true });
    const sanityMs = (sanity.sanity?.ms ?? NaN) / sanityImages.length;

    console.log(
      `\nmethods by mean deletion AUC on ${images.length} of ${index.images.length} held-out images (lower is better):`,
    );
    const ranking = evaluated.summary
      .flatMap((l) => Object.entries(l.methods).map(([m, s]) => ({ layer: l.label, method: m as CamMethod, s })))
      .sort((a, b) => a.s.deletionAuc - b.s.deletionAuc);
    for (const [i, r] of ranking.entries())
      console.log(
        `  ${String(i + 1).padStart(2)}. ${r.layer.padEnd(8)} ${CAM_METHOD_LABELS[r.method].padEnd(22)} deletion ${r.s.deletionAuc.toFixed(3)}  insertion ${r.s.insertionAuc.toFixed(3)}  avg drop ${r.s.averageDrop.toFixed(1)}%  pointing ${r.s.pointing?.toFixed(0) ?? '–'}%`,
      );
    for (const l of evaluated.summary)
      if (l.random)
        console.log(
          `      ${l.label.padEnd(8)} random map             deletion ${l.random.deletionAuc.toFixed(3)}  insertion ${l.random.insertionAuc.toFixed(3)}`,
        );
    console.log(`verdicts of the sanity check: ${JSON.stringify(sanity.sanity?.verdicts)}\n`);

    return [
      { name: 'scored images per evaluated image', value: passes, unit: 'images' },
      { name: 'full evaluation of one image', value: perImageMs, unit: 'ms', target: { max: 2000 } },
      { name: `plain inference of as many (best batch ${bestBatch})`, value: bestMs, unit: 'ms' },
      { name: 'evaluation / plain batched inference', value: perImageMs / bestMs, unit: '×', target: { max: 1.3 } },
      { name: 'one CAM run (gradient methods, 4 stages)', value: camMs, unit: 'ms' },
      { name: 'sanity check of one image', value: sanityMs, unit: 'ms' },
      { name: 'sanity check / one CAM run', value: sanityMs / camMs, unit: '×', target: { max: 10 } },
    ];
  } finally {
    engine.dispose();
  }
}
