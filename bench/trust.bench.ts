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
import { cpus, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { CAM_METHOD_LABELS, GRADIENT_METHODS, type CamMethod } from '../src-shared/cam';
import { DEFAULT_BASELINE, DEFAULT_TRUST_STEPS, type TrustResult } from '../src-shared/trust';
import { Engine } from '../src-main/engine/engine';
import { toInputTensor } from '../src-main/engine/input-tensor';
import type { OpenModel } from '../src-main/engine/model-registry';
import { runTrust, type TrustDeps, type TrustImage } from '../src-main/engine/trust/trust-runner';
import type { Figure } from './run';

const HELDOUT = 'test/fixtures/demo-heldout';
/** Held-out images evaluated (of 200): each costs ~1,100 forward passes. TRUST_BENCH_IMAGES changes it. */
const IMAGES = Number(process.env.TRUST_BENCH_IMAGES ?? 12);
const SANITY_IMAGES = 2;
/** Timed rounds; each pairs a measurement with the one it is compared with, taken right after it. */
const ROUNDS = Number(process.env.TRUST_BENCH_ROUNDS ?? 3);
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
    const passes = evaluated.timings.forwardPasses / images.length;
    const first = images[0] as TrustImage;
    // The images the evaluation defines: the clean and the baseline image, and per map (each stage's
    // methods and random map) 19 deletion steps, 19 insertion steps and the masked image.
    const maps = evaluated.images.reduce(
      (n, im) => n + im.layers.reduce((k, l) => k + Object.keys(l.methods).length + (l.random ? 1 : 0), 0),
      0,
    );
    const nominal = 2 + (maps / images.length) * (2 * (DEFAULT_TRUST_STEPS - 1) + 1);

    // Plain batched inference over as many images, at the best batch size (picked once), measured right
    // after each evaluation it is compared with: the machine is shared, and its load changes by the minute.
    const plain = await engine.plainSession(model);
    const size = first.input.data.length;
    const plainMs = async (
      count: number,
      batch: number,
      session: { run: (feeds: Record<string, ort.Tensor>) => Promise<unknown> } = plain.session,
    ): Promise<number> => {
      const data = new Float32Array(batch * size);
      for (let i = 0; i < batch; i++) data.set(images[i % images.length]?.input.data as Float32Array, i * size);
      const tensor = new ort.Tensor('float32', data, [batch, ...first.input.shape.slice(1)]);
      await session.run({ [first.input.name]: tensor });
      const t0 = performance.now();
      let done = 0;
      while (done < count) {
        await session.run({ [first.input.name]: tensor });
        done += batch;
      }
      return ((performance.now() - t0) / done) * count;
    };
    let bestBatch = 0;
    let bestMs = Infinity;
    for (const b of BATCHES) {
      const ms = await plainMs(nominal, b);
      if (ms < bestMs) [bestMs, bestBatch] = [ms, b];
    }
    const rounds: { evalMs: number; plainMs: number; plainRunMs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const one = await runTrust(deps, {
        ...job,
        images: [images[r % images.length] as TrustImage],
        faithfulness: true,
        sanity: false,
      });
      rounds.push({
        evalMs: one.timings.faithfulnessMs,
        plainMs: await plainMs(nominal, bestBatch),
        plainRunMs: await plainMs(one.timings.forwardPasses, bestBatch),
      });
    }
    // What onnxruntime's threading costs on a shared machine: the same inference with one intra-op thread,
    // and with two that sleep instead of spinning between ops (sessions made here, not the engine's).
    const optionMs: Record<string, number[]> = { default: [], 'one thread': [], 'no spinning': [] };
    const variants = {
      'one thread': { intraOpNumThreads: 1 },
      'no spinning': { extra: { session: { 'intra_op.allow_spinning': '0' } } },
    };
    const optionSessions = Object.fromEntries(
      await Promise.all(
        Object.entries(variants).map(
          async ([k, v]) =>
            [
              k,
              await ort.InferenceSession.create(model.bytes, { graphOptimizationLevel: 'all', logSeverityLevel: 3, ...v }),
            ] as const,
        ),
      ),
    );
    for (let r = 0; r < ROUNDS; r++) {
      optionMs.default?.push(await plainMs(nominal, bestBatch));
      for (const [k, session] of Object.entries(optionSessions)) optionMs[k]?.push(await plainMs(nominal, bestBatch, session));
    }
    await Promise.all(Object.values(optionSessions).map((session) => session.release()));
    const perImageMs = median(rounds.map((r) => r.evalMs));
    const plainNominalMs = median(rounds.map((r) => r.plainMs));
    const ratio = median(rounds.map((r) => r.evalMs / r.plainMs));
    const ratioRun = median(rounds.map((r) => r.evalMs / r.plainRunMs));

    // The sanity check against one CAM run of the same methods, in turns for the same reason.
    // How long onnxruntime spends in the check's runs (they overlap the comparisons, which run meanwhile).
    let runMs = 0;
    const timed: TrustDeps = {
      ...deps,
      session: async (key, bytes, m) => {
        const pooled = await deps.session(key, bytes, m);
        return {
          ...pooled,
          session: {
            run: async (feeds, fetches) => {
              const t0 = performance.now();
              const out = await pooled.session.run(feeds, fetches);
              runMs += performance.now() - t0;
              return out;
            },
            release: () => pooled.session.release(),
          },
        };
      },
    };
    const sanityRounds: { camMs: number; sanityMs: number; runMs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const image = images[r % SANITY_IMAGES] as TrustImage;
      const camMs = await camRunMs(engine, model, image, methods, ['stages']);
      runMs = 0;
      const sanity = await runTrust(timed, { ...job, images: [image], faithfulness: false, sanity: true });
      sanityRounds.push({ camMs, sanityMs: sanity.sanity?.ms ?? NaN, runMs });
    }
    const camMs = median(sanityRounds.map((r) => r.camMs));
    const sanityMs = median(sanityRounds.map((r) => r.sanityMs));
    const sanityRatio = median(sanityRounds.map((r) => r.sanityMs / r.camMs));

    // ScoreCAM and AblationCAM at the last stage: their passes run with the randomised weights fed too.
    const perturbation: CamMethod[] = ['scorecam', 'ablationcam'];
    const lastStage = evaluated.summary.at(-1)?.label ?? 'layer4';
    const pertCamMs = await camRunMs(engine, model, first, perturbation, [lastStage]);
    const pert = await runTrust(deps, {
      ...job,
      methods: perturbation,
      layers: [lastStage],
      images: [first],
      faithfulness: false,
      sanity: true,
    });
    const pertMs = pert.sanity?.ms ?? NaN;

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
    const last = (r: TrustResult | null) => r?.sanity?.layers.at(-1);
    const sanity = await runTrust(deps, { ...job, images: images.slice(0, SANITY_IMAGES), faithfulness: false, sanity: true });
    console.log(`verdicts of the sanity check (${SANITY_IMAGES} images): ${JSON.stringify(sanity.sanity?.verdicts)}`);
    for (const [label, result] of [
      ['', sanity],
      ['1 image, ', pert],
    ] as const)
      for (const [m, s] of Object.entries(last(result)?.methods ?? {}))
        console.log(
          `  ${(last(result)?.label ?? '').padEnd(7)} ${m.padEnd(18)} cascading Spearman ${s?.cascading.spearman.map((v) => v.toFixed(2)).join(' ')}  independent ${s?.independent.spearman.map((v) => v.toFixed(2)).join(' ')}  (${label}${s?.verdict})`,
        );
    console.log(
      `timings in ${ROUNDS} rounds, each an evaluation or a sanity check followed by the plain inference or CAM run it is compared with (medians): load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores\n`,
    );

    return [
      { name: 'images the evaluation defines, per image', value: nominal, unit: 'images' },
      { name: 'of them scored (shared images once)', value: passes, unit: 'images' },
      { name: 'full evaluation of one image', value: perImageMs, unit: 'ms', target: { max: 2000 } },
      { name: `plain inference of ${Math.round(nominal)} images (batch ${bestBatch})`, value: plainNominalMs, unit: 'ms' },
      { name: 'evaluation / plain inference of as many', value: ratio, unit: '×', target: { max: 1.3 } },
      { name: 'evaluation / plain inference of the scored', value: ratioRun, unit: '×' },
      ...Object.entries(optionMs).map(([k, ms]) => ({
        name: `  plain inference of as many, ${k}`,
        value: median(ms),
        unit: 'ms',
      })),
      { name: 'one CAM run (gradient methods, 4 stages)', value: camMs, unit: 'ms' },
      { name: 'sanity check of one image', value: sanityMs, unit: 'ms' },
      { name: 'sanity check / one CAM run', value: sanityRatio, unit: '×', target: { max: 10 } },
      { name: '  its hooked run (one batch of 12 states)', value: median(sanityRounds.map((r) => r.runMs)), unit: 'ms' },
      { name: '  its hooked run / one CAM run', value: median(sanityRounds.map((r) => r.runMs / r.camMs)), unit: '×' },
      { name: `one CAM run (ScoreCAM + AblationCAM, ${lastStage})`, value: pertCamMs, unit: 'ms' },
      { name: 'their sanity check of one image', value: pertMs, unit: 'ms' },
      { name: 'their sanity check / their CAM run', value: pertMs / pertCamMs, unit: '×' },
    ];
  } finally {
    engine.dispose();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median of three CAM runs of `methods` at `layers` (one run: the hooked pass and any perturbation passes). */
async function camRunMs(
  engine: Engine,
  model: OpenModel,
  image: TrustImage,
  methods: CamMethod[],
  layers: string[],
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await engine.camTensor(model, image.input, { layers, methods, classIndex: 'top', counterfactual: false });
    times.push(performance.now() - t0);
  }
  return median(times);
}
