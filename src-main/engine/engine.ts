/**
 * The engine: everything the hosts expose, as plain Node (no Electron). Each host (Electron IPC, the
 * browser-mode server, the CLI) creates one Engine and forwards calls to it.
 */
import path from 'node:path';
import './inference/runtime-env';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import type {
  ActivationVolume,
  CallContext,
  CamRequestMessage,
  CamResponse,
  ClassScore,
  EngineApi,
  GraphAnalysisView,
  ImageData,
  ImageSource,
  ModelId,
  ExportedFile,
  ModelSummary,
  OpenedRun,
  ReportFormat,
  Prediction,
  Preprocess,
  StartupState,
  StatsRequestMessage,
  StatsResponse,
  TensorName,
} from '../../src-shared/api';
import type { LayerGroup, WeightStats } from '../../src-shared/graph';
import {
  toStoredSource,
  type CamRunParams,
  type PruneResult,
  type RunId,
  type RunList,
  type RunSummary,
  type StatsRunParams,
} from '../../src-shared/runs';
import { inputContentHash, modelContentHash, runKey } from './runs/content-hash';
import { decodeCam, decodeStats, encodeCam, encodeStats, type StoredCam, type StoredStats } from './runs/result-codec';
import { RunCache, type Codec, type RunInput } from './runs/run-cache';
import { RunStore } from './runs/run-store';
import { chromiumPrinter, type PrintToPdf } from '../report/chromium';
import { gatherRunsReport } from '../report/from-runs';
import { reportHtml } from '../report/report-html';
import type { CamResult } from '../../src-shared/cam';
import { CamRunner, type CamProgress, type CamRequest } from './cam/cam-runner';
import { HookedSessions } from './hooks/hooked-sessions';
import { runStats, type StatsRequest, type StatsResult } from './stats/stats-runner';
import { checkFiniteScores, softmax, topK } from './classify';
import type { InputTensor } from './input-tensor';
import type { PooledSession } from './inference/session-pool';
import { analyzeGraph, concreteInputShapes, type GraphAnalysis } from './graph/analyze-graph';
import { toChannelMajor } from './graph/feature-grid';
import { resolveLayers } from './graph/layers';
import { weightStats } from './graph/weight-stats';
import { LruCache } from './lru-cache';
import { EngineError, describeError, runtimeMessage } from './errors';
import { imageSize } from './image/image-to-tensor';
import { SessionPool, type DeviceChoice } from './inference/session-pool';
import { toInputTensor } from './input-tensor';
import { ModelRegistry, modelIdOfFile, type OpenModel } from './model-registry';
import { readRegularFile } from './regular-file';
import { loadSampleSet, type SampleSet } from './samples';
import { ENGINE_VERSION } from './version';
import type { TrustRequestMessage, TrustResponse } from '../../src-shared/trust';
import { evaluateTrust, TRUST_CODEC, type TrustHost } from './trust/trust-service';

/** Images are read whole into memory: refuse files that cannot be an image a model takes. */
const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;
/** The activation-volume view draws one box per value above a threshold: cap what it is sent. */
const MAX_VOLUME_VALUES = 4_000_000;
const BROWSER_IMAGE_FORMATS: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export interface EngineOptions {
  /** samples.json of the bundled demo; its model is opened at start. */
  demoSamples?: string | null;
  /** A model to open at start instead of the demo's. */
  initialModel?: string | null;
  device?: DeviceChoice;
  /** The run database file; null or absent: history off (answers are still remembered in memory). */
  database?: string | null;
  /** How reports become PDFs (default: an installed Chromium; the desktop app prints with its own). */
  printToPdf?: PrintToPdf;
}

const CAM_CODEC: Codec<StoredCam> = { encode: encodeCam, decode: decodeCam };
const STATS_CODEC: Codec<StoredStats> = { encode: encodeStats, decode: decodeStats };

export interface ResolvedImage {
  bytes: Uint8Array;
  name: string;
}

export class Engine implements EngineApi {
  readonly models = new ModelRegistry();
  readonly sessions = new SessionPool();
  private readonly device: DeviceChoice;
  /** Graph analyses (probe runs included) per model and stage override; bounded like every cache. */
  private readonly analyses = new LruCache<string, Promise<GraphAnalysis>>(4);
  private readonly stageOverrides = new LruCache<ModelId, string[]>(64);
  readonly cams = new CamRunner({
    analysis: (model, inputShape) => this.analysis(model, inputShape),
    session: (key, bytes, model) =>
      key === `${model.id}|plain`
        ? this.plainSession(model)
        : this.sessions.get(key, () => ({ bytes: bytes() }), this.device, model.summary.name),
    blockedLayout: () => this.blockedLayout(),
  });
  private readonly statsSessions = new HookedSessions(
    (key, bytes, model) => this.sessions.get(key, () => ({ bytes: bytes() }), this.device, model.summary.name),
    () => this.blockedLayout(),
  );

  /** onnxruntime keeps convolutions in a channel-blocked layout on x86 CPUs only (see vjp/blocked-layout.ts). */
  private blockedLayout(): boolean {
    return process.arch === 'x64' && this.sessions.runsOnCpu(this.device);
  }

  /** Activation statistics over image files (streamed one by one; cancelling keeps what was done). */
  async statsFiles(
    model: OpenModel,
    files: string[],
    req: StatsRequest,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<StatsResult> {
    const load = async (i: number): Promise<InputTensor> => {
      const image = await this.resolveImage({ kind: 'path', path: files[i] as string });
      return toInputTensor(model, image.bytes, image.name);
    };
    return runStats(
      { analysis: (m, shape) => this.analysis(m, shape), hooked: this.statsSessions },
      model,
      { count: files.length, load },
      req,
      onProgress,
      signal,
    );
  }

  async getActivation(req: { modelId: ModelId; image: ImageSource; layer: string }): Promise<ActivationVolume> {
    const model = this.models.get(req.modelId);
    const image = await this.resolveImage(req.image);
    const input = await toInputTensor(model, image.bytes, image.name);
    const analysis = await this.analysis(model, input.shape);
    const [layer] = resolveLayers(analysis, [req.layer], model.summary.name);
    if (!layer) throw new EngineError('bad-input', `No layer "${req.layer}".`);
    const { meta, pooled } = await this.statsSessions.get(
      model,
      analysis,
      [layer.tensor],
      false,
      { exposeActivations: true },
      input.shape,
    );
    const outputs = await pooled.session.run({ [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) }, [
      layer.tensor,
    ]);
    const t = outputs[layer.tensor] as ort.Tensor;
    const dims = t.dims.map(Number);
    // Channels × the grid of positions whatever the layout (channels-last, tokens); anything else as a column.
    const grid = analysis.gridOf(layer.tensor);
    const [c, h, w] = grid ? [grid.channels, grid.height, grid.width] : [dims.slice(1).reduce((a, b) => a * b, 1), 1, 1];
    const size = (c as number) * (h as number) * (w as number);
    if (size > MAX_VOLUME_VALUES) {
      throw new EngineError(
        'unsupported',
        `${layer.label} has ${size.toLocaleString('en-US')} values per image; the volume view shows up to ${MAX_VOLUME_VALUES.toLocaleString('en-US')}.`,
      );
    }
    const raw = t.data as Float32Array;
    const data = grid ? Float32Array.from(toChannelMajor(grid, raw)) : new Float32Array(raw.subarray(0, size));
    t.dispose();
    return { label: layer.label, tensor: layer.tensor, shape: [c as number, h as number, w as number], data };
  }

  async computeStats(req: StatsRequestMessage, ctx?: CallContext): Promise<StatsResponse> {
    const model = this.models.get(req.modelId);
    const params: StatsRunParams = {
      images: req.images.map(toStoredSource),
      layers: req.layers,
      includeParamless: req.includeParamless,
      bins: req.bins,
      range: req.range,
    };
    const inputs = await this.statsInputs(model, req.images, (done, total) =>
      ctx?.progress({ jobId: req.jobId, layer: 'reading', method: 'stats', done, total }),
    );
    const { images: _sources, ...settings } = params;
    const key = runKey('stats', { model: await modelContentHash(model), inputs: inputs.map((i) => i.hash), ...settings });
    const answer = await this.runs.getOrCompute({ kind: 'stats', key, model, params, inputs }, STATS_CODEC, () =>
      this.withJob(req.jobId, async (signal) => {
        const load = async (i: number): Promise<InputTensor> => {
          const image = await this.resolveImage(req.images[i] as ImageSource);
          return toInputTensor(model, image.bytes, image.name);
        };
        const result = await runStats(
          { analysis: (m, shape) => this.analysis(m, shape), hooked: this.statsSessions },
          model,
          { count: req.images.length, load },
          {
            layers: req.layers,
            includeParamless: req.includeParamless,
            bins: req.bins,
            range: req.range ? { kind: 'fixed', lo: req.range[0], hi: req.range[1] } : { kind: 'auto' },
          },
          (done, total) => ctx?.progress({ jobId: req.jobId, layer: 'images', method: 'stats', done, total }),
          signal,
        );
        return { value: statsView(result, req.bins), cancelled: result.cancelled, provider: result.provider };
      }),
    );
    return { ...answer.value, cached: answer.cached, run: answer.run };
  }

  /** Content addresses of a statistics run's inputs (unreadable ones too: they are skipped, with the reason, by the run). */
  private async statsInputs(
    model: OpenModel,
    sources: ImageSource[],
    onProgress: (done: number, total: number) => void,
  ): Promise<RunInput[]> {
    const inputs: RunInput[] = [];
    for (const [i, source] of sources.entries()) {
      // Hashing thousands of files takes a while: say so, coarsely.
      if (i % 50 === 0 && i > 0) onProgress(i, sources.length);
      const stored = toStoredSource(source);
      try {
        const image = await this.resolveImage(source);
        const hash = inputContentHash(image.bytes, model.summary.preprocess);
        inputs.push({ hash, name: image.name, source: stored, bytes: i === 0 ? image.bytes : null });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        const hash = createHash('sha256')
          .update(`unreadable\u0000${JSON.stringify(stored)}`)
          .digest('hex');
        inputs.push({ hash, name: JSON.stringify(stored), source: stored, bytes: null });
      }
    }
    return inputs;
  }

  /** Runs `work` as a cancellable job under the caller's id. */
  private async withJob<T>(jobId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.jobs.has(jobId)) throw new EngineError('invalid-request', `Job ${jobId} is already running.`);
    const controller = new AbortController();
    this.jobs.set(jobId, controller);
    try {
      return await work(controller.signal);
    } finally {
      this.jobs.delete(jobId);
    }
  }

  /** Every CAM and statistics answer: from memory, else the run database, else computed and stored. */
  readonly runs: RunCache;
  private readonly jobs = new Map<string, AbortController>();
  private samples: SampleSet | null = null;
  private recent: { name: string; path: string }[] = [];
  private initial: OpenModel | null = null;

  private readonly printToPdf: PrintToPdf;

  private constructor(options: EngineOptions) {
    this.device = options.device ?? 'auto';
    this.printToPdf = options.printToPdf ?? chromiumPrinter();
    this.runs = new RunCache(options.database ? RunStore.open(options.database) : null);
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const engine = new Engine(options);
    if (options.demoSamples) engine.samples = await loadSampleSet(options.demoSamples);
    const first = options.initialModel ?? engine.samples?.modelPath ?? null;
    if (first) {
      engine.initial = await engine.models.openPath(first);
      engine.recent = [{ name: engine.initial.summary.name, path: first }];
    }
    return engine;
  }

  async getStartupState(): Promise<StartupState> {
    const samplesModel = this.samples ? await modelIdOfFile(this.samples.modelPath).catch(() => null) : null;
    return { version: ENGINE_VERSION, model: this.initial?.summary ?? null, samples: this.samples?.samples ?? [], samplesModel };
  }

  async openModelPath(req: { path: string }): Promise<ModelSummary> {
    const model = await this.models.openPath(req.path);
    this.recent = [{ name: model.summary.name, path: req.path }, ...this.recent.filter((r) => r.path !== req.path)].slice(0, 10);
    return model.summary;
  }

  async recentModels(): Promise<{ name: string; path: string }[]> {
    return this.recent;
  }

  async setPreprocess(req: { modelId: ModelId; preprocess: Omit<Preprocess, 'source'> | null }): Promise<ModelSummary> {
    const model = this.models.get(req.modelId);
    model.summary = {
      ...model.summary,
      preprocess: req.preprocess ? { ...req.preprocess, source: 'user' } : model.originalPreprocess,
    };
    return model.summary;
  }

  async setLabels(req: { modelId: ModelId; labels: string[] | null }): Promise<ModelSummary> {
    const model = this.models.get(req.modelId);
    model.summary = {
      ...model.summary,
      labels: req.labels ?? model.originalLabels,
      labelSource: req.labels ? 'user' : model.originalLabelSource,
    };
    return model.summary;
  }

  async openModelBytes(req: { name: string; bytes: Uint8Array }): Promise<ModelSummary> {
    return (await this.models.openBytes(req.name, req.bytes)).summary;
  }

  async resolveImage(source: ImageSource): Promise<ResolvedImage> {
    if (source.kind === 'bytes') return { bytes: source.bytes, name: source.name || 'image' };
    const file = source.kind === 'sample' ? this.samples?.files.get(source.id) : path.resolve(source.path);
    if (!file) throw new EngineError('not-found', `There is no sample image "${source.kind === 'sample' ? source.id : ''}".`);
    const name = path.basename(file);
    const bytes = await readRegularFile(file, {
      what: 'image',
      maxBytes: MAX_IMAGE_FILE_BYTES,
      code: 'bad-image',
      displayName: source.kind === 'sample' ? name : file,
    });
    return { bytes, name };
  }

  async getImage(req: { source: ImageSource }): Promise<ImageData> {
    const { bytes, name } = await this.resolveImage(req.source);
    const { width, height, format } = await imageSize(bytes, name);
    const mime = BROWSER_IMAGE_FORMATS[format];
    if (mime) return { mime, bytes, width, height };
    // TIFF, HEIF and friends: convert so any renderer can show them.
    const png = await sharp(bytes).rotate().png().toBuffer();
    return { mime: 'image/png', bytes: png, width, height };
  }

  async predict(req: { modelId: ModelId; image: ImageSource; topK?: number }): Promise<Prediction> {
    const model = this.models.get(req.modelId);
    const image = await this.resolveImage(req.image);
    return this.predictTensor(model, image, req.topK ?? 5);
  }

  async predictTensor(model: OpenModel, image: ResolvedImage, k: number): Promise<Prediction> {
    const input = await toInputTensor(model, image.bytes, image.name);
    const { session, provider } = await this.plainSession(model);
    const outputName = model.summary.outputs[0]?.name;
    if (!outputName) throw new EngineError('bad-model', `${model.summary.name} declares no output.`);
    const started = performance.now();
    let output: ort.Tensor;
    try {
      const results = await session.run({ [input.name]: new ort.Tensor('float32', input.data, input.shape) }, [outputName]);
      output = results[outputName] as ort.Tensor;
    } catch (error) {
      throw new EngineError('inference-failed', `Running ${model.summary.name} failed: ${runtimeMessage(error)}`);
    }
    const inferenceMs = performance.now() - started;
    if (output.type !== 'float32') {
      throw new EngineError(
        'unsupported',
        `${model.summary.name}'s output ${outputName} is ${output.type}, not float32 class scores.`,
      );
    }
    const logits = new Float32Array(output.data as Float32Array);
    checkFiniteScores(logits, model.summary.name);
    const nonUnit = output.dims.filter((d) => d !== 1).length;
    if (nonUnit > 1) {
      throw new EngineError(
        'unsupported',
        `${model.summary.name}'s output ${outputName} has shape [${output.dims.join(', ')}], not one row of class scores.`,
      );
    }
    return { top: topClasses(model, logits, k), logits, provider, inferenceMs, inputShape: input.shape };
  }

  /** The unmodified model's session (predictions, ScoreCAM's masked inputs). */
  plainSession(model: OpenModel): Promise<PooledSession> {
    const source = model.path ? { path: model.path } : { bytes: model.bytes };
    return this.sessions.get(model.id, source, this.device, model.summary.name);
  }

  /** CAM maps for one input: one hooked run for every layer and gradient method, plus any perturbation methods. */
  async camTensor(
    model: OpenModel,
    input: InputTensor,
    req: CamRequest,
    onProgress?: CamProgress,
    signal?: AbortSignal,
  ): Promise<CamResult> {
    return this.cams.run(model, input, req, onProgress, signal);
  }

  /** The graph analysis of an open model at an input shape, computed once (with its probe run) and cached. */
  analysis(model: OpenModel, inputShape?: number[]): Promise<GraphAnalysis> {
    const override = this.stageOverrides.get(model.id) ?? null;
    const shapes = concreteInputShapes(model);
    const first = model.summary.inputs[0]?.name;
    if (inputShape && first) shapes.set(first, inputShape);
    const key = `${model.id}|${[...shapes.values()].map((s) => s.join('x')).join(',')}|${override?.join('\u0000') ?? ''}`;
    const cached = this.analyses.get(key);
    if (cached) return cached;
    const pending = (async () => {
      const detected = await analyzeGraph(model, shapes);
      if (!override) return detected;
      const groups: LayerGroup[] = resolveLayers(detected, override, model.summary.name).map((l) => ({
        module: l.module ?? ('' as LayerGroup['module']),
        tensor: l.tensor,
        shape: l.shape,
      }));
      return { ...detected, view: { ...detected.view, stages: groups, stagesSource: 'user' as const } };
    })();
    this.analyses.set(key, pending);
    pending.catch(() => this.analyses.delete(key));
    return pending;
  }

  async getGraph(req: { modelId: ModelId }): Promise<GraphAnalysisView> {
    const model = this.models.get(req.modelId);
    const analysis = await this.analysis(model);
    return { graph: analysis.view, warnings: [...model.warnings, ...analysis.warnings] };
  }

  async getWeightStats(req: { modelId: ModelId; tensor: TensorName }): Promise<WeightStats | null> {
    const model = this.models.get(req.modelId);
    const analysis = await this.analysis(model);
    const t = analysis.runnable.graph?.initializer.find((i) => i.name === req.tensor);
    if (!t) throw new EngineError('not-found', `${model.summary.name} has no weight tensor "${req.tensor}".`);
    return weightStats(t);
  }

  async setStages(req: { modelId: ModelId; layers: string[] | null }): Promise<GraphAnalysisView> {
    const model = this.models.get(req.modelId);
    if (req.layers && req.layers.length > 0) {
      // Validate before storing, so a typo is reported and the previous stages stay.
      resolveLayers(await this.analysis(model), req.layers, model.summary.name);
      this.stageOverrides.set(model.id, req.layers);
    } else {
      this.stageOverrides.delete(model.id);
    }
    return this.getGraph(req);
  }

  async computeCam(req: CamRequestMessage, ctx?: CallContext): Promise<CamResponse> {
    const model = this.models.get(req.modelId);
    const image = await this.resolveImage(req.image);
    const params: CamRunParams = {
      image: toStoredSource(req.image),
      layers: req.layers && req.layers.length > 0 ? req.layers : ['stages'],
      methods: [...req.methods].sort(),
      classIndex: req.classIndex,
      counterfactual: req.counterfactual,
    };
    const input: RunInput = {
      hash: inputContentHash(image.bytes, model.summary.preprocess),
      name: image.name,
      source: params.image,
      bytes: image.bytes,
    };
    const { image: _source, ...settings } = params;
    const key = runKey('cam', {
      model: await modelContentHash(model),
      input: input.hash,
      ...settings,
      // Labels name the class in the answer; a stage override changes what "stages" means.
      labels: model.summary.labels,
      stages: this.stageOverrides.get(model.id) ?? null,
    });
    const answer = await this.runs.getOrCompute({ kind: 'cam', key, model, params, inputs: [input] }, CAM_CODEC, () =>
      this.withJob(req.jobId, async (signal) => {
        const tensor = await toInputTensor(model, image.bytes, image.name);
        const result = await this.camTensor(
          model,
          tensor,
          { layers: params.layers, methods: req.methods, classIndex: req.classIndex, counterfactual: req.counterfactual },
          (p) => ctx?.progress({ jobId: req.jobId, ...p }),
          signal,
        );
        return { value: { result, modelView: await modelViewImage(tensor) }, cancelled: false, provider: result.provider };
      }),
    );
    return { ...answer.value, cached: answer.cached, run: answer.run };
  }

  /** Faithfulness metrics and sanity checks (trust/): a job kept in the run history. */
  async evaluateTrust(req: TrustRequestMessage, ctx?: CallContext): Promise<TrustResponse> {
    return evaluateTrust(this.trustHost(), req, ctx);
  }

  private trustHost(): TrustHost {
    return {
      model: (id) => this.models.get(id as ModelId),
      resolveImage: (source) => this.resolveImage(source),
      analysis: (model, shape) => this.analysis(model, shape),
      cam: (model, input, req, signal) => this.camTensor(model, input, req, undefined, signal),
      plainSession: (model) => this.plainSession(model),
      outputIsProbability: (model) => {
        const output = model.summary.outputs[0]?.name;
        return output !== undefined && endsInSoftmax(model, output);
      },
      session: (key, bytes, model) => this.sessions.get(key, () => ({ bytes: bytes() }), this.device, model.summary.name),
      blockedLayout: () => this.blockedLayout(),
      stages: (model) => this.stageOverrides.get(model.id) ?? null,
      runs: this.runs,
      withJob: (jobId, work) => this.withJob(jobId, work),
    };
  }

  async listRuns(req: { modelHash: string | null }): Promise<RunList> {
    const store = this.runs.store;
    if (!store) return { runs: [], total: 0, diskBytes: 0, database: null, models: [] };
    return store.list({ modelHash: req.modelHash });
  }

  async openRun(req: { id: RunId }): Promise<OpenedRun> {
    const store = this.requireStore();
    const summary = store.summary(req.id);
    const { model, problem } = await this.reopenModel(summary);
    const opened: OpenedRun = {
      summary,
      model: model?.summary ?? null,
      modelProblem: problem,
      cam: null,
      prediction: null,
      stats: null,
    };
    if (summary.kind === 'cam') {
      const stored = this.runs.result(summary.id, CAM_CODEC);
      if (stored) {
        opened.cam = { ...stored, cached: true, run: summary.id };
        const { logits, provider, inputShape } = stored.result;
        opened.prediction = { top: topClasses(model, logits, 5), logits, provider, inferenceMs: 0, inputShape };
      }
    } else if (summary.kind === 'trust') {
      const stored = this.runs.result(summary.id, TRUST_CODEC);
      if (stored) opened.trust = { result: stored, cached: true, run: summary.id };
    } else {
      const stored = this.runs.result(summary.id, STATS_CODEC);
      if (stored) opened.stats = { ...stored, cached: true, run: summary.id };
    }
    return opened;
  }

  async updateRun(req: { id: RunId; name?: string | null; pinned?: boolean }): Promise<RunSummary> {
    return this.requireStore().update(req.id, req);
  }

  async deleteRuns(req: { ids: RunId[] }): Promise<PruneResult> {
    const result = this.requireStore().delete(req.ids);
    this.runs.forget();
    return result;
  }

  async pruneRuns(req: { olderThanDays: number | null; unfinished: boolean; all: boolean }): Promise<PruneResult> {
    const result = this.requireStore().prune(req);
    this.runs.forget();
    return result;
  }

  async resumeRun(req: { id: RunId; jobId: string }, ctx?: CallContext): Promise<OpenedRun> {
    const store = this.requireStore();
    const summary = store.summary(req.id);
    if (summary.status === 'complete' || summary.status === 'running') {
      throw new EngineError('invalid-request', `Run ${summary.id} is ${summary.status}: there is nothing to resume.`);
    }
    const { model, problem } = await this.reopenModel(summary);
    if (!model) throw new EngineError('not-found', `Run ${summary.id} cannot be resumed: ${problem}`);
    const sources = summary.kind === 'cam' ? [summary.params.image] : summary.params.images;
    const uploaded = sources.find((s) => s.kind === 'bytes');
    if (uploaded) {
      throw new EngineError(
        'unsupported',
        `Run ${summary.id} used an uploaded image (${uploaded.kind === 'bytes' ? uploaded.name : ''}) whose bytes were not kept: open it again and run the analysis.`,
      );
    }
    const asSource = (s: (typeof sources)[number]): ImageSource => s as ImageSource;
    const rerun =
      summary.kind === 'trust'
        ? (
            await this.evaluateTrust(
              { modelId: model.id, ...summary.params, images: summary.params.images.map(asSource), jobId: req.jobId },
              ctx,
            )
          ).run
        : summary.kind === 'cam'
          ? (
              await this.computeCam(
                { modelId: model.id, ...summary.params, image: asSource(summary.params.image), jobId: req.jobId },
                ctx,
              )
            ).run
          : (
              await this.computeStats(
                { modelId: model.id, ...summary.params, images: summary.params.images.map(asSource), jobId: req.jobId },
                ctx,
              )
            ).run;
    if (rerun !== null && rerun !== summary.id) store.delete([summary.id]);
    return this.openRun({ id: rerun ?? summary.id });
  }

  async exportReport(req: { runIds: RunId[]; format: ReportFormat }): Promise<ExportedFile> {
    const data = await gatherRunsReport(this, req.runIds);
    const html = await reportHtml(data);
    const base = `${data.model.name.replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '_')}-report`;
    if (req.format === 'html') return { name: `${base}.html`, mime: 'text/html', bytes: new TextEncoder().encode(html) };
    return { name: `${base}.pdf`, mime: 'application/pdf', bytes: await this.printToPdf(html) };
  }

  private requireStore(): RunStore {
    const store = this.runs.store;
    if (!store)
      throw new EngineError('unsupported', 'Run history is off for this LayerLens (it was started without a database).');
    return store;
  }

  /** The run's model, opened again from its file if it is not open, and only if its bytes are unchanged. */
  private async reopenModel(summary: RunSummary): Promise<{ model: OpenModel | null; problem: string | null }> {
    for (const open of this.models.values()) {
      if ((await modelContentHash(open)) === summary.model.hash) return { model: open, problem: null };
    }
    const file = summary.model.path;
    if (!file) return { model: null, problem: `${summary.model.name} was sent as bytes, not opened from a file: open it again.` };
    try {
      const model = await this.models.openPath(file);
      if ((await modelContentHash(model)) === summary.model.hash) return { model, problem: null };
      return { model: null, problem: `${file} has changed since this run was made.` };
    } catch (error) {
      return { model: null, problem: describeError(error) };
    }
  }

  async cancelJob(req: { jobId: string }): Promise<boolean> {
    const job = this.jobs.get(req.jobId);
    job?.abort();
    return job !== undefined;
  }

  dispose(): void {
    this.sessions.clear();
    this.runs.store?.close();
  }
}

/** The image as the model saw it (after resizing/cropping), so overlays line up exactly. */
async function modelViewImage(input: InputTensor): Promise<ImageData> {
  const view = input.rgb ?? null;
  if (!view) return { mime: 'image/png', bytes: new Uint8Array(0), width: input.shape[3] ?? 0, height: input.shape[2] ?? 0 };
  const png = await sharp(Buffer.from(view.data.buffer, view.data.byteOffset, view.data.byteLength), {
    raw: { width: view.width, height: view.height, channels: 3 },
  })
    .png()
    .toBuffer();
  return { mime: 'image/png', bytes: png, width: view.width, height: view.height };
}

function statsView(result: StatsResult, bins: number): StoredStats {
  return {
    images: result.images,
    skipped: result.skipped,
    total: result.total,
    cancelled: result.cancelled,
    bins,
    provider: result.provider as StatsResponse['provider'],
    ms: result.ms,
    layers: result.layers.map((l) => {
      const s = l.stats;
      const imageHists = new Float32Array(s.imageHists.length * bins);
      s.imageHists.forEach((h, i) => imageHists.set(h, i * bins));
      return {
        label: l.label,
        tensor: l.tensor,
        mean: s.mean,
        std: s.std,
        nearZero: s.nearZero,
        range: s.range,
        hist: Float64Array.from(s.hist),
        outside: s.outside,
        perImage: s.perImage,
        imageHists,
        channelMean: Float64Array.from(s.channelMean),
        channelNearZero: Float64Array.from(s.channelNearZero),
        deadChannels: s.deadChannels,
      };
    }),
  };
}

/** The k best classes of `logits` from the model's first output (softmaxed unless the model did it already). */
function topClasses(model: OpenModel | null, logits: Float32Array, k: number): ClassScore[] {
  const outputName = model?.summary.outputs[0]?.name;
  const probs = model && outputName && endsInSoftmax(model, outputName) ? logits : softmax(logits);
  return topK(probs, k, model?.summary.labels ?? null, logits);
}

/** A model that already outputs probabilities must not be softmaxed again. */
function endsInSoftmax(model: OpenModel, outputName: string): boolean {
  const producer = model.proto.graph?.node.find((n) => n.output.includes(outputName));
  return producer?.opType === 'Softmax' && (producer.domain === '' || producer.domain === 'ai.onnx');
}
