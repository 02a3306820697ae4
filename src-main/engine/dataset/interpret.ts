/**
 * A model interpreted over a labelled data set: the streamed prediction pass, the metrics derived from it,
 * then the top losses' maps through the same CAM engine a single image uses (so each equals the
 * single-image run's), for the predicted and, where it differs, the actual class.
 */
import { performance } from 'node:perf_hooks';
import type { ImageData } from '../../../src-shared/api';
import type { CamMethod, CamResult } from '../../../src-shared/cam';
import { toColumns, type DatasetPrediction, type Interpretation, type TopLoss } from '../../../src-shared/dataset';
import type { CamRequest } from '../cam/cam-runner';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import type { LabelledImages } from './labelled-images';
import { accuracy, confusionMatrix, meanLoss, mostConfused, perClassMetrics, topLossIndices } from './metrics';
import { predictImages } from './prediction-pass';

export interface InterpretDeps {
  load(model: OpenModel, file: string): Promise<InputTensor>;
  plainSession(model: OpenModel): Promise<PooledSession>;
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  cam(model: OpenModel, input: InputTensor, req: CamRequest, signal?: AbortSignal): Promise<CamResult>;
  modelView(input: InputTensor): Promise<ImageData>;
  outputsProbabilities(model: OpenModel): boolean;
}

export interface InterpretOptions {
  topLosses: number;
  layer: string | null;
  methods: CamMethod[];
}

export type InterpretPhase = 'images' | 'maps';

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
  const pass = await predictImages(
    { session, load: (file) => deps.load(model, file), outputsProbabilities: deps.outputsProbabilities(model) },
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
    layer: null,
    methods: options.methods,
    topLosses: [],
    provider: session.provider,
    batch: pass.batch,
    predictMs: pass.ms,
    mapsMs: 0,
  };
  const chosen = topLossIndices(pass.images, options.topLosses);
  if (pass.cancelled || chosen.length === 0 || options.methods.length === 0) return base;
  const mapsStarted = performance.now();
  const topLosses: TopLoss[] = [];
  let layer: string | null = null;
  const partial = (): Interpretation => ({ ...base, cancelled: true, layer, topLosses, mapsMs: performance.now() - mapsStarted });
  for (const [done, index] of chosen.entries()) {
    if (signal?.aborted) return partial();
    const image = pass.images[index] as DatasetPrediction;
    try {
      const input = await deps.load(model, image.path);
      layer ??= options.layer ?? lastStage(await deps.analysis(model, input.shape), model);
      const req = (classIndex: number): CamRequest => ({
        layers: [layer as string],
        methods: options.methods,
        classIndex,
        counterfactual: false,
      });
      const predicted = await deps.cam(model, input, req(image.predicted), signal);
      const actual = image.actual === image.predicted ? null : await deps.cam(model, input, req(image.actual), signal);
      topLosses.push({ index, predicted, actual, modelView: await deps.modelView(input) });
    } catch (error) {
      // Cancelled inside a long method (ScoreCAM): the maps finished so far are kept.
      if (signal?.aborted) return partial();
      throw error;
    }
    onProgress?.('maps', done + 1, chosen.length);
  }
  return { ...base, layer, topLosses, mapsMs: performance.now() - mapsStarted };
}

/** The last detected (or user-set) stage: where fastai's book draws its Grad-CAM. */
function lastStage(analysis: GraphAnalysis, model: OpenModel): string {
  const stages = resolveLayers(analysis, ['stages'], model.summary.name);
  return (stages.at(-1) as (typeof stages)[number]).label;
}
