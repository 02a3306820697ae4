/**
 * The engine: everything the hosts expose, as plain Node (no Electron). Each host (Electron IPC, the
 * browser-mode server, the CLI) creates one Engine and forwards calls to it. The work is done by one
 * service per concern (services/): this class only builds them and routes each API call to its service,
 * so a new concern is a new service file and its lines here.
 */
import './inference/runtime-env';
import type {
  CallContext,
  DeviceChoice,
  DeviceState,
  CamRequestMessage,
  EngineApi,
  ExportedFile,
  ModelId,
  ReportFormat,
  StartupState,
  StatsRequestMessage,
} from '../../src-shared/api';
import type { RunId } from '../../src-shared/runs';
import type { TrustRequestMessage, TrustResponse } from '../../src-shared/trust';
import { EngineError } from './errors';
import { cacheBudget, cacheLimitFromEnv, historyLimitFromEnv } from './limits';
import { modelIdOfFile, type ModelRegistry } from './model-registry';
import { RunCache } from './runs/run-cache';
import { RunStore, type GivenLimit } from './runs/run-store';
import { loadSampleSet } from './samples';
import { CamRequests, modelViewImage } from './services/cam-requests';
import type { InterpretRequestMessage, InterpretResponse } from '../../src-shared/dataset';
import { computeInterpretation, type InterpretHost } from './dataset/interpret-run';
import { STATS_BINS } from './dataset/interpret';
import { toInputTensor } from './input-tensor';
import { Graphs } from './services/graphs';
import { History } from './services/history';
import { Images } from './services/images';
import { Jobs } from './services/jobs';
import { Models } from './services/models';
import { endsInSoftmax, Predictions } from './services/predictions';
import { Sessions } from './services/sessions';
import { Statistics } from './services/statistics';
import { evaluateTrust, type TrustHost } from './trust/trust-service';
import { ENGINE_VERSION } from './version';

export type { ResolvedImage } from './services/images';

/**
 * Writes a report of stored runs. Reports sit above the engine (src-main/report/ uses only `EngineApi`), so
 * the host that wants them hands the engine a writer; see report/export-report.ts.
 */
export type ReportWriter = (api: EngineApi, req: { runIds: RunId[]; format: ReportFormat }) => Promise<ExportedFile>;

export interface EngineOptions {
  /** samples.json of the bundled demo; its model is opened at start. */
  demoSamples?: string | null;
  /** A model to open at start instead of the demo's. */
  initialModel?: string | null;
  device?: DeviceChoice;
  /** The run database file; null or absent: history off (answers are still remembered in memory). */
  database?: string | null;
  /** In-memory caches' budget in bytes (default: LAYERLENS_CACHE_MB, else 1 GiB; see limits.ts). */
  cacheLimitBytes?: number;
  /** The run database's size limit in bytes (`--history-limit`; default: LAYERLENS_HISTORY_MB, else the limit
   * set in the studio and kept in the database, else 2 GiB). */
  historyLimitBytes?: number;
  /** How `exportReport` writes reports (absent: this engine refuses to). */
  reports?: ReportWriter;
}

export class Engine implements EngineApi {
  private readonly modelsService: Models;
  readonly models: ModelRegistry;
  private readonly sessionService: Sessions;
  /** Every CAM and statistics answer: from memory, else the run database, else computed and stored. */
  readonly runs: RunCache;
  private readonly jobs = new Jobs();
  private readonly images: Images;
  private readonly graphs: Graphs;
  private readonly predictions: Predictions;
  private readonly camRequests: CamRequests;
  private readonly statistics: Statistics;
  private readonly history: History;
  private readonly reports: ReportWriter | null;

  private constructor(options: EngineOptions, images: Images) {
    const budget = cacheBudget(options.cacheLimitBytes ?? cacheLimitFromEnv());
    this.modelsService = new Models(budget.models);
    this.models = this.modelsService.registry;
    this.graphs = new Graphs(this.models, budget.analyses);
    this.sessionService = new Sessions(options.device ?? 'auto', budget.sessions);
    const fromEnv = historyLimitFromEnv();
    const givenLimit: GivenLimit | null =
      options.historyLimitBytes !== undefined
        ? { bytes: options.historyLimitBytes, source: 'flag' }
        : fromEnv !== null
          ? { bytes: fromEnv, source: 'environment' }
          : null;
    const store = options.database ? RunStore.open(options.database, givenLimit ? { given: givenLimit } : {}) : null;
    this.runs = new RunCache(store, budget.answers);
    this.reports = options.reports ?? null;
    this.images = images;
    const shared = {
      models: this.models,
      images,
      sessions: this.sessionService,
      graphs: this.graphs,
      runs: this.runs,
      jobs: this.jobs,
    };
    this.predictions = new Predictions(this.models, images, this.sessionService);
    this.camRequests = new CamRequests(shared);
    this.statistics = new Statistics(shared);
    this.history = new History({
      models: this.models,
      runs: this.runs,
      givenLimit,
      computeCam: (req, ctx) => this.computeCam(req, ctx),
      computeStats: (req, ctx) => this.computeStats(req, ctx),
      evaluateTrust: (req, ctx) => this.evaluateTrust(req, ctx),
      interpretDataset: (req, ctx) => this.interpretDataset(req, ctx),
    });
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const samples = options.demoSamples ? await loadSampleSet(options.demoSamples) : null;
    const budget = cacheBudget(options.cacheLimitBytes ?? cacheLimitFromEnv());
    const engine = new Engine(options, new Images(samples, budget.uploads));
    const first = options.initialModel ?? samples?.modelPath ?? null;
    if (first) await engine.modelsService.openInitial(first);
    return engine;
  }

  get sessions() {
    return this.sessionService.pool;
  }
  get cams() {
    return this.camRequests.runner;
  }

  async getDevice(): Promise<DeviceState> {
    return this.sessionService.state();
  }

  async setDevice(req: { device: DeviceChoice }): Promise<DeviceState> {
    return this.sessionService.switchTo(req.device);
  }

  async getStartupState(): Promise<StartupState> {
    const initial = this.modelsService.initial;
    const samples = this.images.samples;
    const samplesModel = samples ? await modelIdOfFile(samples.modelPath).catch(() => null) : null;
    return { version: ENGINE_VERSION, model: initial?.summary ?? null, samples: samples?.samples ?? [], samplesModel };
  }

  // Models and images.
  readonly openModelPath: Models['openModelPath'] = (...args) => this.modelsService.openModelPath(...args);
  readonly openModelBytes: Models['openModelBytes'] = (...args) => this.modelsService.openModelBytes(...args);
  readonly recentModels: Models['recentModels'] = (...args) => this.modelsService.recentModels(...args);
  readonly setPreprocess: Models['setPreprocess'] = (...args) => this.modelsService.setPreprocess(...args);
  readonly setLabels: Models['setLabels'] = (...args) => this.modelsService.setLabels(...args);
  readonly resolveImage: Images['resolve'] = (source) => this.images.resolve(source);
  readonly getImage: Images['getImage'] = (req) => this.images.getImage(req);
  readonly uploadImage: Images['upload'] = (req) => this.images.upload(req);

  // Predictions and the graph.
  readonly predict: Predictions['predict'] = (req) => this.predictions.predict(req);
  readonly predictTensor: Predictions['predictTensor'] = (model, image, k) => this.predictions.predictTensor(model, image, k);
  readonly plainSession: Sessions['plain'] = (model) => this.sessionService.plain(model);
  readonly analysis: Graphs['analysis'] = (model, inputShape) => this.graphs.analysis(model, inputShape);
  readonly getGraph: Graphs['getGraph'] = (...args) => this.graphs.getGraph(...args);
  readonly getWeightStats: Graphs['getWeightStats'] = (...args) => this.graphs.getWeightStats(...args);

  // CAM and statistics.
  readonly camTensor: CamRequests['camTensor'] = (...args) => this.camRequests.camTensor(...args);
  computeCam(req: CamRequestMessage, ctx?: CallContext): ReturnType<CamRequests['computeCam']> {
    return this.camRequests.computeCam(req, ctx);
  }
  readonly statsFiles: Statistics['statsFiles'] = (...args) => this.statistics.statsFiles(...args);
  readonly getActivation: Statistics['getActivation'] = (req) => this.statistics.getActivation(req);
  computeStats(req: StatsRequestMessage, ctx?: CallContext): ReturnType<Statistics['computeStats']> {
    return this.statistics.computeStats(req, ctx);
  }

  /** Faithfulness metrics and sanity checks (trust/): a job kept in the run history. */
  async evaluateTrust(req: TrustRequestMessage, ctx?: CallContext): Promise<TrustResponse> {
    return evaluateTrust(this.trustHost(), req, ctx);
  }

  private trustHost(): TrustHost {
    const sessions = this.sessionService;
    return {
      model: (id) => this.models.get(id as ModelId),
      resolveImage: (source) => this.images.resolve(source),
      analysis: (model, shape) => this.graphs.analysis(model, shape),
      cam: (model, input, req, signal) => this.camRequests.camTensor(model, input, req, undefined, signal),
      plainSession: (model) => sessions.plain(model),
      outputIsProbability: (model) => {
        const output = model.summary.outputs[0]?.name;
        return output !== undefined && endsInSoftmax(model, output);
      },
      session: (key, bytes, model) => sessions.rewritten(key, bytes, model),
      graphForm: () => sessions.graphForm(),
      runs: this.runs,
      withJob: (jobId, work) => this.jobs.run(jobId, work),
    };
  }

  /** fastai's ClassificationInterpretation over a labelled folder or CSV (dataset/): a job kept in the history. */
  async interpretDataset(req: InterpretRequestMessage, ctx?: CallContext): Promise<InterpretResponse> {
    return computeInterpretation(this.interpretHost(), req, ctx);
  }

  private interpretHost(): InterpretHost {
    return {
      model: (id) => this.models.get(id),
      runs: this.runs,
      readBytes: async (source) => (await this.images.resolve(source)).bytes,
      job: (jobId, work) => this.jobs.run(jobId, work),
      analysisAt: (model) => this.graphs.analysis(model),
      load: async (model, file) => {
        const image = await this.images.resolve({ kind: 'path', path: file });
        return toInputTensor(model, image.bytes, image.name);
      },
      plainSession: (model) => this.sessionService.plain(model),
      analysis: (model, shape) => this.graphs.analysis(model, shape),
      cam: (model, input, req, signal) => this.camRequests.camTensor(model, input, req, undefined, signal),
      camItems: (model, images, req, signal) => this.camRequests.runner.runItems(model, images, req, signal),
      modelView: (input) => modelViewImage(input),
      outputsProbabilities: (model) => {
        const output = model.summary.outputs[0]?.name;
        return output !== undefined && endsInSoftmax(model, output);
      },
      statsFiles: (model, files, group, onProgress, signal) =>
        this.statistics.statsFiles(
          model,
          files,
          { layers: null, includeParamless: false, bins: STATS_BINS, range: { kind: 'fixed', lo: 0, hi: 10 } },
          onProgress,
          signal,
          group,
        ),
    };
  }

  // The run history and reports.
  readonly listRuns: History['listRuns'] = (...args) => this.history.listRuns(...args);
  readonly openRun: History['openRun'] = (...args) => this.history.openRun(...args);
  readonly updateRun: History['updateRun'] = (...args) => this.history.updateRun(...args);
  readonly deleteRuns: History['deleteRuns'] = (...args) => this.history.deleteRuns(...args);
  readonly pruneRuns: History['pruneRuns'] = (...args) => this.history.pruneRuns(...args);
  readonly getHistorySettings: History['getHistorySettings'] = () => this.history.getHistorySettings();
  readonly setHistoryLimit: History['setHistoryLimit'] = (req) => this.history.setHistoryLimit(req);
  readonly resumeRun: History['resumeRun'] = (...args) => this.history.resumeRun(...args);

  async exportReport(req: { runIds: RunId[]; format: ReportFormat }): Promise<ExportedFile> {
    if (!this.reports) throw new EngineError('unsupported', 'This LayerLens was started without a report writer.');
    return this.reports(this, req);
  }

  async cancelJob(req: { jobId: string }): Promise<boolean> {
    return this.jobs.cancel(req.jobId);
  }

  dispose(): void {
    this.sessionService.pool.clear();
    this.runs.store?.close();
  }
}
