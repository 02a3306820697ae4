/** The run history: listing, reopening, editing, pruning and resuming stored CAM and statistics runs. */
import type {
  CallContext,
  CamRequestMessage,
  CamResponse,
  ImageSource,
  OpenedRun,
  StatsRequestMessage,
  StatsResponse,
} from '../../../src-shared/api';
import type { HistorySettings, PruneResult, RunId, RunList, RunSummary } from '../../../src-shared/runs';
import type { TrustRequestMessage, TrustResponse } from '../../../src-shared/trust';
import type { InterpretRequestMessage, InterpretResponse } from '../../../src-shared/dataset';
import { INTERPRET_CODEC } from '../dataset/interpret-run';
import { EngineError, describeError } from '../errors';
import type { ModelRegistry, OpenModel } from '../model-registry';
import { modelContentHash } from '../runs/content-hash';
import type { RunCache } from '../runs/run-cache';
import { DEFAULT_MAX_DATABASE_BYTES, type GivenLimit, type RunStore } from '../runs/run-store';
import { CAM_CODEC, upgradeStoredCam } from './cam-requests';
import { topClasses } from './predictions';
import { STATS_CODEC } from './statistics';
import { TRUST_CODEC } from '../trust/trust-service';

export interface HistoryDeps {
  models: ModelRegistry;
  runs: RunCache;
  /** The limit this process was started with (flag or environment), for an engine without history. */
  givenLimit: GivenLimit | null;
  /** How a resumed run is computed again: the same calls a new one goes through. */
  computeCam(req: CamRequestMessage, ctx?: CallContext): Promise<CamResponse>;
  computeStats(req: StatsRequestMessage, ctx?: CallContext): Promise<StatsResponse>;
  evaluateTrust(req: TrustRequestMessage, ctx?: CallContext): Promise<TrustResponse>;
  interpretDataset(req: InterpretRequestMessage, ctx?: CallContext): Promise<InterpretResponse>;
}

export class History {
  constructor(private readonly deps: HistoryDeps) {}

  async listRuns(req: { modelHash: string | null }): Promise<RunList> {
    const store = this.deps.runs.store;
    if (!store) return { runs: [], total: 0, diskBytes: 0, database: null, models: [] };
    return store.list({ modelHash: req.modelHash });
  }

  async getHistorySettings(): Promise<HistorySettings> {
    const store = this.deps.runs.store;
    if (!store) {
      const given = this.deps.givenLimit;
      return {
        database: null,
        limitBytes: given?.bytes ?? DEFAULT_MAX_DATABASE_BYTES,
        limitSource: given?.source ?? 'default',
        usedBytes: 0,
      };
    }
    return { database: store.file, limitBytes: store.maxBytes, limitSource: store.limitSource, usedBytes: store.usedBytes() };
  }

  async setHistoryLimit(req: { limitMb: number | null }): Promise<HistorySettings> {
    const store = this.deps.runs.store;
    if (!store)
      throw new EngineError(
        'unsupported',
        'The run history is off (--no-history): nothing is kept, so there is no limit to set.',
      );
    store.setLimit(req.limitMb === null ? null : Math.round(req.limitMb * 1024 * 1024));
    return this.getHistorySettings();
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
      const found = this.deps.runs.result(summary.id, CAM_CODEC);
      if (found) {
        const stored = await upgradeStoredCam(found);
        const { logits, provider, inputShape } = stored.result;
        const top = topClasses(model, logits, 5);
        opened.cam = { ...stored, cached: true, run: summary.id, key: summary.key, top };
        opened.prediction = { top, logits, provider, inferenceMs: 0, inputShape };
      }
    } else if (summary.kind === 'trust') {
      const stored = this.deps.runs.result(summary.id, TRUST_CODEC);
      if (stored) opened.trust = { result: stored, cached: true, run: summary.id };
    } else if (summary.kind === 'interpret') {
      const stored = this.deps.runs.result(summary.id, INTERPRET_CODEC);
      if (stored) opened.interpret = { ...stored, cached: true, run: summary.id };
    } else {
      const stored = this.deps.runs.result(summary.id, STATS_CODEC);
      if (stored) opened.stats = { ...stored, cached: true, run: summary.id };
    }
    return opened;
  }

  async updateRun(req: { id: RunId; name?: string | null; pinned?: boolean }): Promise<RunSummary> {
    return this.requireStore().update(req.id, req);
  }

  async deleteRuns(req: { ids: RunId[] }): Promise<PruneResult> {
    const result = this.requireStore().delete(req.ids);
    this.deps.runs.forget();
    return result;
  }

  async pruneRuns(req: { olderThanDays: number | null; unfinished: boolean; all: boolean }): Promise<PruneResult> {
    const result = this.requireStore().prune(req);
    this.deps.runs.forget();
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
    if (summary.kind === 'interpret') {
      const { run } = await this.deps.interpretDataset({ modelId: model.id, ...summary.params, jobId: req.jobId }, ctx);
      if (run !== null && run !== summary.id) store.delete([summary.id]);
      return this.openRun({ id: run ?? summary.id });
    }
    const sources = summary.kind === 'cam' ? [summary.params.image] : summary.params.images;
    const uploaded = sources.find((s) => s.kind === 'bytes');
    if (uploaded) {
      throw new EngineError(
        'unsupported',
        `Run ${summary.id} used an uploaded image (${uploaded.kind === 'bytes' ? uploaded.name : ''}) whose bytes were not kept: open it again and run the analysis.`,
      );
    }
    const asSource = (s: (typeof sources)[number]): ImageSource => s as ImageSource;
    if (summary.kind === 'cam') return this.resumeCam(summary, model, req.jobId, ctx);
    const rerun =
      summary.kind === 'trust'
        ? (
            await this.deps.evaluateTrust(
              { modelId: model.id, ...summary.params, images: summary.params.images.map(asSource), jobId: req.jobId },
              ctx,
            )
          ).run
        : (
            await this.deps.computeStats(
              { modelId: model.id, ...summary.params, images: summary.params.images.map(asSource), jobId: req.jobId },
              ctx,
            )
          ).run;
    if (rerun !== null && rerun !== summary.id) store.delete([summary.id]);
    return this.openRun({ id: rerun ?? summary.id });
  }

  /**
   * A CAM run is its first answer and the parts added to it: the first answer is computed again if it was
   * lost, then every part the run does not hold yet, each added to the run as the studio added it.
   */
  private async resumeCam(
    summary: Extract<RunSummary, { kind: 'cam' }>,
    model: OpenModel,
    jobId: string,
    ctx?: CallContext,
  ): Promise<OpenedRun> {
    const { added = [], explained: _explained, ...params } = summary.params;
    const image = params.image as ImageSource;
    const request = { modelId: model.id, image, classIndex: params.classIndex, counterfactual: params.counterfactual, jobId };
    const kept = this.deps.runs.result(summary.id, CAM_CODEC) !== null;
    const run = kept
      ? summary.id
      : (await this.deps.computeCam({ ...request, layers: params.layers, methods: params.methods }, ctx)).run;
    if (run !== null) {
      for (const part of added) {
        if (run === summary.id && part.status === 'complete') continue;
        await this.deps.computeCam({ ...request, layers: part.layers, methods: part.methods, addToRun: run }, ctx);
      }
      if (run !== summary.id) this.requireStore().delete([summary.id]);
    }
    return this.openRun({ id: run ?? summary.id });
  }

  private requireStore(): RunStore {
    const store = this.deps.runs.store;
    if (!store)
      throw new EngineError('unsupported', 'Run history is off for this LayerLens (it was started without a database).');
    return store;
  }

  /** The run's model, opened again from its file if it is not open, and only if its bytes are unchanged. */
  private async reopenModel(summary: RunSummary): Promise<{ model: OpenModel | null; problem: string | null }> {
    const { models } = this.deps;
    for (const open of models.values()) {
      if ((await modelContentHash(open)) === summary.model.hash) return { model: open, problem: null };
    }
    const file = summary.model.path;
    if (!file) return { model: null, problem: `${summary.model.name} was sent as bytes, not opened from a file: open it again.` };
    try {
      const model = await models.openPath(file);
      if ((await modelContentHash(model)) === summary.model.hash) return { model, problem: null };
      return { model: null, problem: `${file} has changed since this run was made.` };
    } catch (error) {
      return { model: null, problem: describeError(error) };
    }
  }
}
