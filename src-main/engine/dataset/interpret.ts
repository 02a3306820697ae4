/**
 * A model interpreted over a labelled data set: the streamed prediction pass, the metrics derived from it,
 * then the top losses' maps through the same CAM engine a single image uses (so each equals the
 * single-image run's), for the predicted and, where it differs, the actual class. The pass keeps the
 * decoded inputs of the highest losses so far (at most K), so no top loss is decoded twice; asked for, it
 * also sums each image's map for its actual class per class (class-maps.ts), and a statistics pass gives
 * the activation statistics per actual class.
 */
import { performance } from 'node:perf_hooks';
import type { ImageData } from '../../../src-shared/api';
import type { CamMethod, CamResult } from '../../../src-shared/cam';
import {
  toColumns,
  type ClassStats,
  type DatasetPrediction,
  type Interpretation,
  type TopLoss,
} from '../../../src-shared/dataset';
import { CamItemsRunner, type CamItemsRequest, type ImageClasses } from '../cam/cam-items';
import type { CamRequest } from '../cam/cam-runner';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import type { StatsResult } from '../stats/stats-runner';
import { layerStatsViews } from '../services/statistics';
import { ClassMapSums } from './class-maps';
import type { LabelledFile, LabelledImages } from './labelled-images';
import { accuracy, confusionMatrix, meanLoss, mostConfused, perClassMetrics, topLossIndices } from './metrics';
import { predictImages } from './prediction-pass';

export interface InterpretDeps {
  load(model: OpenModel, file: string): Promise<InputTensor>;
  plainSession(model: OpenModel): Promise<PooledSession>;
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  cam(model: OpenModel, input: InputTensor, req: CamRequest, signal?: AbortSignal): Promise<CamResult>;
  /** Several images' maps for several classes each in one forked hooked run (cam/cam-items.ts), or null. */
  camItems(model: OpenModel, images: ImageClasses[], req: CamItemsRequest, signal?: AbortSignal): Promise<CamResult[][] | null>;
  modelView(input: InputTensor): Promise<ImageData>;
  outputsProbabilities(model: OpenModel): boolean;
  /** The statistics engine's default figures over `files`, and per group (StatsResult.groups). */
  statsFiles(
    model: OpenModel,
    files: string[],
    group: (i: number) => number,
    onProgress: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<StatsResult>;
}

export interface InterpretOptions {
  topLosses: number;
  layer: string | null;
  methods: CamMethod[];
  classMaps?: boolean;
  classStats?: boolean;
}

/** The statistics engine's default histogram (fastai's histc(40, 0, 10)), as `layerlens stats` gives it. */
export const STATS_BINS = 40;

export type InterpretPhase = 'images' | 'maps' | 'class statistics';

/** The decoded inputs of the `k` highest losses so far (ties: the earlier image), as topLossIndices ranks them. */
class TopInputs {
  private readonly kept: { index: number; loss: number; input: InputTensor }[] = [];

  constructor(private readonly k: number) {}

  offer(index: number, loss: number, input: InputTensor): void {
    if (this.k === 0) return;
    const last = this.kept.at(-1);
    if (this.kept.length === this.k && last && !(loss > last.loss)) return;
    this.kept.push({ index, loss, input });
    this.kept.sort((a, b) => b.loss - a.loss || a.index - b.index);
    if (this.kept.length > this.k) this.kept.pop();
  }

  get(index: number): InputTensor | null {
    return this.kept.find((t) => t.index === index)?.input ?? null;
  }
}

export async function interpretDataset(
  deps: InterpretDeps,
  model: OpenModel,
  dataset: string,
  set: LabelledImages,
  options: InterpretOptions,
  onProgress?: (phase: InterpretPhase, done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Interpretation> {
  const session = await deps.plainSession(model);
  const top = new TopInputs(options.methods.length > 0 ? options.topLosses : 0);
  let layer: string | null = options.layer;
  const layerFor = async (input: InputTensor): Promise<string> =>
    (layer ??= lastStage(await deps.analysis(model, input.shape), model));
  const classMaps = options.classMaps && options.methods.length > 0 ? new ClassMapSums(options.methods) : null;
  let classMapsMs = 0;
  const pass = await predictImages(
    {
      session,
      load: (file) => deps.load(model, file),
      outputsProbabilities: deps.outputsProbabilities(model),
      visit: async (index, image, input) => {
        top.offer(index, image.loss, input);
        if (!classMaps || signal?.aborted) return;
        const started = performance.now();
        const at = await layerFor(input);
        // The map explaining the image's own class: the same request a single-image run makes.
        const req: CamRequest = { layers: [at], methods: options.methods, classIndex: image.actual, counterfactual: false };
        try {
          classMaps.add(image.actual, await deps.cam(model, input, req, signal));
        } catch (error) {
          if (!signal?.aborted) throw error;
        }
        classMapsMs += performance.now() - started;
      },
    },
    model,
    set.files,
    (done, total) => onProgress?.('images', done, total),
    signal,
  );
  const labelCount = pass.images.reduce((n, i) => Math.max(n, i.actual + 1, i.predicted + 1), model.summary.labels?.length ?? 0);
  const labels = Array.from({ length: labelCount }, (_, c) => model.summary.labels?.[c] ?? `class ${c}`);
  const matrix = confusionMatrix(pass.images, [...new Set(set.files.map((f) => f.actual))]);
  const base: Interpretation = {
    dataset,
    layout: set.layout,
    labels,
    total: set.files.length + set.missing.length,
    images: toColumns(pass.images),
    skipped: [...set.missing, ...pass.skipped],
    cancelled: pass.cancelled,
    accuracy: accuracy(pass.images),
    meanLoss: meanLoss(pass.images),
    confusion: matrix,
    perClass: perClassMetrics(matrix, labels),
    mostConfused: mostConfused(matrix),
    layer: classMaps ? layer : null,
    methods: options.methods,
    topLosses: [],
    classMaps: classMaps ? classMaps.result() : null,
    classStats: null,
    provider: session.provider,
    batch: pass.batch,
    // The per-class maps are computed in the pass but are not the prediction's cost.
    predictMs: pass.ms - classMapsMs,
    mapsMs: 0,
    ...(classMaps ? { classMapsMs } : {}),
  };
  if (options.classStats && !pass.cancelled) {
    const started = performance.now();
    const stats = await deps.statsFiles(
      model,
      set.files.map((f) => f.path),
      (i) => (set.files[i] as LabelledFile).actual,
      (done, total) => onProgress?.('class statistics', done, total),
      signal,
    );
    base.classStats = [...(stats.groups ?? [])]
      .sort(([a], [b]) => a - b)
      .map(([cls, g]): ClassStats => ({
        class: cls,
        images: g.images,
        bins: STATS_BINS,
        layers: layerStatsViews(g.layers, STATS_BINS),
      }));
    base.classStatsMs = performance.now() - started;
    if (stats.cancelled) base.cancelled = true;
  }
  const chosen = topLossIndices(pass.images, options.topLosses);
  if (base.cancelled || chosen.length === 0 || options.methods.length === 0) return base;
  const mapsStarted = performance.now();
  const topLosses: TopLoss[] = [];
  const partial = (): Interpretation => ({ ...base, cancelled: true, layer, topLosses, mapsMs: performance.now() - mapsStarted });
  const batched = CamItemsRunner.handles(options.methods);
  for (const chunk of chunks(chosen, MAX_FORKED_IMAGES)) {
    if (signal?.aborted) return partial();
    try {
      const images = chunk.map((index) => pass.images[index] as DatasetPrediction);
      const inputs: InputTensor[] = [];
      for (const [k, index] of chunk.entries())
        inputs.push(top.get(index) ?? (await deps.load(model, (images[k] as DatasetPrediction).path)));
      const at = await layerFor(inputs[0] as InputTensor);
      const classes = images.map((image) =>
        image.actual === image.predicted ? [image.predicted] : [image.predicted, image.actual],
      );
      // Predicted and actual class of every image of the chunk in one run, where the model allows; where its
      // batch is fixed at 1 (or fails batched), each image forked on its own; else single runs.
      const items = inputs.map((input, k) => ({ input, classes: classes[k] as number[] }));
      const forked = (images: ImageClasses[]) =>
        deps.camItems(model, images, { layer: at, methods: options.methods, perImage: 2 }, signal);
      let together: (CamResult[] | null)[] = (batched ? await forked(items) : null) ?? items.map(() => null);
      if (batched && items.length > 1 && together.every((r) => r === null)) {
        together = [];
        for (const item of items) together.push((await forked([item]))?.[0] ?? null);
      }
      for (const [k, index] of chunk.entries()) {
        if (signal?.aborted) return partial();
        const input = inputs[k] as InputTensor;
        let maps = together[k];
        if (!maps) {
          maps = [];
          for (const classIndex of classes[k] as number[])
            maps.push(
              await deps.cam(model, input, { layers: [at], methods: options.methods, classIndex, counterfactual: false }, signal),
            );
        }
        const [predicted, actual] = maps as [CamResult, CamResult | undefined];
        topLosses.push({ index, predicted, actual: actual ?? null, modelView: await deps.modelView(input) });
        onProgress?.('maps', topLosses.length, chosen.length);
      }
    } catch (error) {
      // Cancelled inside a long method (ScoreCAM): the maps finished so far are kept.
      if (signal?.aborted) return partial();
      throw error;
    }
  }
  return { ...base, layer, topLosses, mapsMs: performance.now() - mapsStarted };
}

/**
 * The most top losses forked into one hooked run. Nine images per run took ~0.7× the time of nine runs of
 * one on the demo model; on ResNet-50 three per run gained nothing over one (the forward pass is the cost
 * either way). Each image count is a graph (and a session) of its own, so the runs are near-equal.
 */
export const MAX_FORKED_IMAGES = 16;

/** `xs` in near-equal runs of at most `max` (18 → 9 + 9, not 16 + 2). */
function chunks<T>(xs: readonly T[], max: number): T[][] {
  const count = Math.ceil(xs.length / max);
  const size = Math.ceil(xs.length / Math.max(1, count));
  return Array.from({ length: count }, (_, i) => xs.slice(i * size, (i + 1) * size));
}

/** The last detected stage (unless the request names a layer): where fastai's book draws its Grad-CAM. */
function lastStage(analysis: GraphAnalysis, model: OpenModel): string {
  const stages = resolveLayers(analysis, ['stages'], model.summary.name);
  return (stages.at(-1) as (typeof stages)[number]).label;
}
