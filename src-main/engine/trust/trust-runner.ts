/**
 * "Can this map be trusted?" for a set of images: each image's maps (every requested layer and method, one
 * CAM run) go through the faithfulness metrics beside a random map per layer, and, when asked, the sanity
 * check recomputes them under randomised weights. Progress and cancellation as every long job.
 */
import type { GraphForm } from '../hooks/graph-builder';
import { performance } from 'node:perf_hooks';
import type { CamMethod, CamResult, RawMap } from '../../../src-shared/cam';
import {
  summariseFaithfulness,
  type Box,
  type ImageFaithfulness,
  type LayerFaithfulness,
  type TrustResult,
  type TrustSettings,
} from '../../../src-shared/trust';
import type { CamRequest } from '../cam/cam-runner';
import { throwIfCancelled } from '../cam/perturbation';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { baselineImage } from './baseline';
import { BatchScorer } from './batch-scorer';
import { boxShare } from './curves';
import { measureMaps } from './faithfulness';
import { imageLayout } from './image-layout';
import { randomMap, streamSeed } from './random';
import { SanityChecker, type SanityControl } from './sanity-check';

export interface TrustImage {
  name: string;
  input: InputTensor;
  /** The object box in the model's input pixels, or null. */
  box: Box | null;
}

export interface TrustJob {
  model: OpenModel;
  images: TrustImage[];
  layers: string[];
  methods: CamMethod[];
  classIndex: number | 'top';
  settings: TrustSettings;
  faithfulness: boolean;
  sanity: boolean;
  /** Extra maps for the sanity check (test controls). */
  controls?: SanityControl[];
  /** Images per forward batch (default TRUST_BATCH). */
  batch?: number;
}

export interface TrustDeps {
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  cam(model: OpenModel, input: InputTensor, req: CamRequest, signal?: AbortSignal): Promise<CamResult>;
  plainSession(model: OpenModel): Promise<PooledSession>;
  /** Whether the model's first output is already probabilities. */
  outputIsProbability(model: OpenModel): boolean;
  session(key: string, bytes: () => Uint8Array, model: OpenModel): Promise<PooledSession>;
  graphForm(): GraphForm;
}

export interface TrustProgress {
  (event: { phase: 'maps' | 'faithfulness' | 'sanity'; done: number; total: number }): void;
}

export async function runTrust(
  deps: TrustDeps,
  job: TrustJob,
  onProgress?: TrustProgress,
  signal?: AbortSignal,
): Promise<TrustResult> {
  const started = performance.now();
  const { model, images, settings } = job;
  if (images.length === 0) throw new EngineError('bad-input', 'Give at least one image to evaluate.');
  if (!Number.isInteger(settings.steps) || settings.steps < 2 || settings.steps > 1000)
    throw new EngineError('bad-input', `Curves need 2 to 1000 steps (got ${settings.steps}).`);
  const first = images[0] as TrustImage;
  const analysis = await deps.analysis(model, first.input.shape);
  const layers = resolveLayers(analysis, job.layers.length > 0 ? job.layers : ['stages'], model.summary.name);
  const plain = await deps.plainSession(model);
  const outputName = model.summary.outputs[0]?.name;
  if (!outputName) throw new EngineError('bad-model', `${model.summary.name} declares no output.`);
  const scorer = new BatchScorer(
    {
      session: plain.session,
      inputName: first.input.name,
      outputName,
      inputShape: first.input.shape,
      outputIsProbability: deps.outputIsProbability(model),
    },
    job.batch,
  );

  let camMs = 0;
  let faithfulnessMs = 0;
  const results: ImageFaithfulness[] = [];
  const classes: number[] = [];
  for (const [i, image] of images.entries()) {
    throwIfCancelled(signal);
    if (image.input.shape.join('x') !== first.input.shape.join('x'))
      throw new EngineError(
        'bad-input',
        `${image.name} has input shape [${image.input.shape.join(', ')}], the first image [${first.input.shape.join(', ')}]: evaluate images of one size together.`,
      );
    const t0 = performance.now();
    const cams = await deps.cam(
      model,
      image.input,
      { layers: layers.map((l) => l.label), methods: job.methods, classIndex: job.classIndex, counterfactual: false },
      signal,
    );
    camMs += performance.now() - t0;
    classes.push(cams.classIndex);
    onProgress?.({ phase: 'maps', done: i + 1, total: images.length });
    if (!job.faithfulness) continue;
    const t1 = performance.now();
    const layout = imageLayout(image.input.shape, analysis.channelsLast);
    const maps: RawMap[] = [];
    const slots: { layer: LayerFaithfulness; method: CamMethod | 'random' }[] = [];
    const layerResults: LayerFaithfulness[] = cams.layers.map((l, li) => {
      const entry: LayerFaithfulness = { label: l.label, methods: {}, random: null, unavailable: { ...l.unavailable } };
      for (const m of job.methods) {
        const map = l.maps[m];
        if (!map) continue;
        maps.push(map);
        slots.push({ layer: entry, method: m });
      }
      if (l.shape[1] > 0 && l.shape[2] > 0) {
        const [, height, width] = l.shape;
        maps.push({ width, height, data: randomMap(width, height, streamSeed(settings.seed, `${i}|${li}`)) });
        slots.push({ layer: entry, method: 'random' });
      }
      return entry;
    });
    const metrics = await measureMaps(
      {
        layout,
        x: image.input.data,
        baseline: baselineImage(layout, image.input.data, settings.baseline),
        classIndex: cams.classIndex,
        box: image.box,
        steps: settings.steps,
      },
      maps,
      scorer,
      signal,
    );
    metrics.forEach((m, k) => {
      const slot = slots[k] as (typeof slots)[number];
      if (slot.method === 'random') slot.layer.random = m;
      else slot.layer.methods[slot.method] = m;
    });
    const clean = metrics[0]?.deletion.probs[0] ?? NaN;
    results.push({
      name: image.name,
      classIndex: cams.classIndex,
      label: cams.label,
      prob: clean,
      box: image.box,
      pointingChance: image.box ? boxShare(image.box, layout.width, layout.height) : null,
      layers: layerResults,
    });
    faithfulnessMs += performance.now() - t1;
    onProgress?.({ phase: 'faithfulness', done: i + 1, total: images.length });
  }

  let sanity: TrustResult['sanity'] = null;
  if (job.sanity) {
    const checker = new SanityChecker({
      session: (key, bytes) => deps.session(key, bytes, model),
      graphForm: deps.graphForm(),
      analysis: (shape) => deps.analysis(model, shape),
    });
    sanity = await checker.run(
      {
        model,
        analysis,
        layers,
        methods: job.methods,
        images: images.map((image, i) => ({ input: image.input, classIndex: classes[i] as number })),
        seed: settings.seed,
        ...(job.controls ? { controls: job.controls } : {}),
      },
      (done, total) => onProgress?.({ phase: 'sanity', done, total }),
      signal,
    );
  }
  return {
    settings,
    methods: job.methods,
    images: results,
    summary: summariseFaithfulness(results, job.methods),
    sanity,
    provider: plain.provider,
    timings: {
      totalMs: performance.now() - started,
      camMs,
      faithfulnessMs,
      forwardPasses: scorer.forwardPasses,
      sanityMs: sanity?.ms ?? 0,
    },
  };
}
