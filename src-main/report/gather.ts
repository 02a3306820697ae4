/**
 * Gathering a report's data from a fresh analysis with the engine: the model summary and graph, then per
 * image (up to the cap) its top-5 and its CAM grid, then optionally activation statistics over every image.
 * Goes through the engine's public API, so answers come from (and go to) the run history like any other.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EngineApi, ExecutionProvider, ImageSource, ModelId, ModelSummary, StatsResponse } from '../../src-shared/api';
import type { CamMethod } from '../../src-shared/cam';
import { EngineError, type EngineErrorCode } from '../engine/errors';
import { ENGINE_VERSION } from '../engine/version';
import {
  DEFAULT_DISPLAY,
  type EncodedImage,
  type HeatmapDisplay,
  type ReportData,
  type ReportImage,
  type ReportModel,
} from './report-data';
import { DEFAULT_BASELINE, DEFAULT_TRUST_STEPS } from '../../src-shared/trust';
import { fromResults, type ReportTrust } from './trust-section';

/** Images beyond this are left out of a report (with a note): a report of a large run stays readable and small. */
export const DEFAULT_MAX_IMAGES = 24;

export interface ReportRequest {
  modelPath: string;
  /** Image files or .npy tensors (folders already expanded), in order. */
  images: string[];
  methods: CamMethod[];
  /** Module paths or tensor names; ["stages"] for the detected stages. */
  layers: string[];
  classIndex: number | 'top';
  counterfactual: boolean;
  /**
   * Faithfulness metrics over the shown images and the sanity check over the first SANITY_IMAGES of them
   * (trust-section.ts); false: none.
   */
  trust?: boolean;
  /** Activation statistics over every image (fastai's defaults: 40 bins on [0, 10]); null: none. */
  stats: { bins: number; range: [number, number] | null } | null;
  maxImages: number;
  /** How maps are drawn (default: the studio's defaults). */
  display?: HeatmapDisplay;
  /** As the user chose it (auto, cpu, cuda), for the record. */
  device: string;
  title?: string;
}

export interface GatherOptions {
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

async function modelSection(engine: EngineApi, modelPath: string): Promise<ReportModel> {
  return modelSectionOf(engine, await engine.openModelPath({ path: modelPath }));
}

/** The report's model section for a model the engine has open. */
export async function modelSectionOf(engine: EngineApi, summary: ModelSummary): Promise<ReportModel> {
  const { graph, warnings, modelHash } = await engine.getGraph({ modelId: summary.id });
  const root = graph.modules.find((m) => m.path === '');
  return {
    name: summary.name,
    id: summary.id,
    sha256: modelHash,
    irVersion: summary.irVersion,
    producer: summary.producer,
    opsets: summary.opsets,
    inputs: summary.inputs,
    outputs: summary.outputs,
    nodeCount: graph.nodes.length,
    parameterCount: root ? root.parameterCount : null,
    sizeBytes: summary.sizeBytes,
    stages: graph.stages.map((s) => ({ module: s.module, tensor: s.tensor, shape: s.shape })),
    stagesSource: graph.stagesSource,
    classCount: summary.labels?.length ?? null,
    preprocess: summary.preprocess,
    warnings,
  };
}

/** Input problems that leave one image out of a report rather than failing it. */
const UNUSABLE_INPUT = new Set<EngineErrorCode>(['bad-image', 'bad-input', 'not-found']);

const isTensorFile = (file: string): boolean => path.extname(file).toLowerCase() === '.npy';

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'The report was cancelled.');
}

async function imageSection(
  engine: EngineApi,
  modelId: ModelId,
  file: string,
  index: number,
  request: ReportRequest,
  signal: AbortSignal | undefined,
): Promise<ReportImage> {
  const source: ImageSource = { kind: 'path', path: file };
  const original: EncodedImage | null = isTensorFile(file) ? null : await engine.getImage({ source });
  const prediction = await engine.predict({ modelId, image: source, topK: 5 });
  const jobId = `report-cam-${index}`;
  const cancel = (): void => void engine.cancelJob({ jobId });
  signal?.addEventListener('abort', cancel);
  try {
    const answer = await engine.computeCam({
      modelId,
      image: source,
      layers: request.layers,
      methods: request.methods,
      classIndex: request.classIndex,
      counterfactual: request.counterfactual,
      jobId,
    });
    return {
      name: path.basename(file),
      original,
      modelView: answer.modelView,
      top: prediction.top,
      cam: answer.result,
      run: answer.run,
      cached: answer.cached,
      predictMs: prediction.inferenceMs,
    };
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

async function statsSection(
  engine: EngineApi,
  modelId: ModelId,
  request: ReportRequest,
  signal: AbortSignal | undefined,
): Promise<StatsResponse | null> {
  if (!request.stats) return null;
  const jobId = 'report-stats';
  const cancel = (): void => void engine.cancelJob({ jobId });
  signal?.addEventListener('abort', cancel);
  try {
    return await engine.computeStats({
      modelId,
      images: request.images.map((file) => ({ kind: 'path', path: file })),
      layers: null,
      includeParamless: false,
      bins: request.stats.bins,
      range: request.stats.range,
      jobId,
    });
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/** Images the report's sanity check runs on: each costs a dozen runs of the model with hooks. */
export const SANITY_IMAGES = 4;

async function trustSection(
  engine: EngineApi,
  modelId: ModelId,
  request: ReportRequest,
  images: ReportImage[],
  signal: AbortSignal | undefined,
): Promise<ReportTrust> {
  const files = request.images.filter((f) => images.some((i) => i.name === path.basename(f)));
  const sources: ImageSource[] = files.map((file) => ({ kind: 'path', path: file }));
  const ask = async (faithfulness: boolean, count: number) => {
    const jobId = `report-trust-${faithfulness ? 'metrics' : 'sanity'}`;
    const cancel = (): void => void engine.cancelJob({ jobId });
    signal?.addEventListener('abort', cancel);
    try {
      return await engine.evaluateTrust({
        modelId,
        images: sources.slice(0, count),
        boxes: null,
        layers: request.layers,
        methods: request.methods,
        classIndex: request.classIndex,
        settings: { steps: DEFAULT_TRUST_STEPS, baseline: DEFAULT_BASELINE, seed: 0 },
        faithfulness,
        sanity: !faithfulness,
        jobId,
      });
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  };
  const metrics = await ask(true, sources.length);
  checkCancelled(signal);
  const sanity = await ask(false, SANITY_IMAGES);
  return fromResults(metrics.result, metrics.run, sanity.result, sanity.run);
}

export async function gatherReport(engine: EngineApi, request: ReportRequest, options: GatherOptions = {}): Promise<ReportData> {
  const { progress, signal } = options;
  if (request.images.length === 0) throw new EngineError('bad-input', 'A report needs at least one image.');
  const timings: ReportData['timings'] = [];
  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    timings.push({ label, ms: performance.now() - started });
    return result;
  };

  const model = await timed('open the model and analyse its graph', () => modelSection(engine, request.modelPath));
  const cap = Math.max(1, request.maxImages);
  const skipped: ReportData['skipped'] = [];
  const images = await timed('predict and CAM', async () => {
    const out: ReportImage[] = [];
    // Up to the cap of usable images, in order: an unreadable file or one of another shape is listed with
    // its reason (as a statistics run does) instead of losing the whole report.
    for (const [i, file] of request.images.entries()) {
      if (out.length >= cap) break;
      checkCancelled(signal);
      progress?.(`image ${out.length + 1}/${Math.min(cap, request.images.length)}: ${path.basename(file)}`);
      try {
        out.push(await imageSection(engine, model.id, file, i, request, signal));
      } catch (error) {
        if (!(error instanceof EngineError) || !UNUSABLE_INPUT.has(error.code)) throw error;
        skipped.push({ name: path.basename(file), reason: error.message });
      }
    }
    if (out.length === 0) throw new EngineError('bad-input', `No image could be used: ${skipped[0]?.reason ?? 'none given'}`);
    return out;
  });
  const phase = timings[timings.length - 1];
  if (phase) phase.label = `predict and CAM (${images.length} image${images.length === 1 ? '' : 's'})`;
  checkCancelled(signal);
  if (request.stats) progress?.(`activation statistics over ${request.images.length} images`);
  const stats = request.stats
    ? await timed(`activation statistics (${request.images.length} images)`, () =>
        statsSection(engine, model.id, request, signal),
      )
    : null;
  if (stats?.cancelled) throw new EngineError('cancelled', 'The report was cancelled.');
  checkCancelled(signal);
  if (request.trust) progress?.('faithfulness metrics and sanity check');
  const trust = request.trust
    ? await timed('faithfulness metrics and sanity check', () => trustSection(engine, model.id, request, images, signal))
    : null;
  const provider: ExecutionProvider = images[0]?.cam.provider ?? stats?.provider ?? 'cpu';
  return {
    title: request.title ?? model.name,
    generatedAt: new Date().toISOString(),
    engineVersion: ENGINE_VERSION,
    provider,
    model,
    images,
    totalImages: request.images.length,
    skipped,
    run: {
      methods: request.methods,
      layers: request.layers,
      classChoice: request.classIndex,
      counterfactual: request.counterfactual,
      device: request.device,
      stats: request.stats ? { ...request.stats, layers: null } : null,
    },
    display: request.display ?? DEFAULT_DISPLAY,
    stats,
    trust,
    timings,
  };
}
