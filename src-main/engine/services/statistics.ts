/** Activation statistics over image sets (fastai's ActivationStats) and one layer's activation volume. */
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type {
  ActivationVolume,
  CallContext,
  ImageSource,
  LayerStatsView,
  ModelId,
  StatsRequestMessage,
  StatsResponse,
} from '../../../src-shared/api';
import { toStoredSource, type StatsRunParams } from '../../../src-shared/runs';
import { EngineError } from '../errors';
import { toChannelMajor } from '../graph/feature-grid';
import { resolveLayers } from '../graph/layers';
import { HookedSessions } from '../hooks/hooked-sessions';
import { toInputTensor, type InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { inputContentHash, modelContentHash, runKey } from '../runs/content-hash';
import { decodeStats, encodeStats, type StoredStats } from '../runs/result-codec';
import { keptNote, type Codec, type RunInput } from '../runs/run-cache';
import { runStats, type StatsDeps, type StatsRequest, type StatsResult } from '../stats/stats-runner';
import type { EngineServices } from './shared';

/** The activation-volume view draws one box per value above a threshold: cap what it is sent. */
const MAX_VOLUME_VALUES = 4_000_000;

export const STATS_CODEC: Codec<StoredStats> = { encode: encodeStats, decode: decodeStats };

export class Statistics {
  private readonly hooked: HookedSessions;

  constructor(private readonly deps: EngineServices) {
    const { sessions } = deps;
    this.hooked = new HookedSessions(
      (key, bytes, model) => sessions.rewritten(key, bytes, model),
      () => sessions.graphForm(),
    );
  }

  /** What a stats run needs: its graph form runs where the device is not the CPU (stats-runner.ts). */
  private runDeps(): StatsDeps {
    const { sessions, graphs } = this.deps;
    return {
      analysis: (m, shape) => graphs.analysis(m, shape),
      hooked: this.hooked,
      session: (key, bytes, model) => sessions.rewritten(key, bytes, model),
      onCpu: () => sessions.pool.runsOnCpu(sessions.device),
    };
  }

  /**
   * Activation statistics over image files (streamed one by one; cancelling keeps what was done); with
   * `group`, also per group of files (StatsResult.groups).
   */
  async statsFiles(
    model: OpenModel,
    files: string[],
    req: StatsRequest,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
    group?: (i: number) => number,
  ): Promise<StatsResult> {
    return runStats(
      this.runDeps(),
      model,
      {
        count: files.length,
        load: (i) => this.load(model, { kind: 'path', path: files[i] as string }),
        ...(group ? { group } : {}),
      },
      req,
      onProgress,
      signal,
    );
  }

  private async load(model: OpenModel, source: ImageSource): Promise<InputTensor> {
    const image = await this.deps.images.resolve(source);
    return toInputTensor(model, image.bytes, image.name);
  }

  async getActivation(req: { modelId: ModelId; image: ImageSource; layer: string }): Promise<ActivationVolume> {
    const model = this.deps.models.get(req.modelId);
    const input = await this.load(model, req.image);
    const analysis = await this.deps.graphs.analysis(model, input.shape);
    const [layer] = resolveLayers(analysis, [req.layer], model.summary.name);
    if (!layer) throw new EngineError('bad-input', `No layer "${req.layer}".`);
    const { meta, pooled } = await this.hooked.get(
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
    const { models, runs, jobs } = this.deps;
    const model = models.get(req.modelId);
    const params: StatsRunParams = {
      images: req.images.map(toStoredSource),
      layers: req.layers,
      ...(req.stages ? { stages: req.stages } : {}),
      includeParamless: req.includeParamless,
      bins: req.bins,
      range: req.range,
    };
    const inputs = await this.statsInputs(model, req.images, (done, total) =>
      ctx?.progress({ jobId: req.jobId, layer: 'reading', method: 'stats', done, total }),
    );
    const { images: _sources, ...settings } = params;
    const key = runKey('stats', { model: await modelContentHash(model), inputs: inputs.map((i) => i.hash), ...settings });
    const answer = await runs.getOrCompute({ kind: 'stats', key, model, params, inputs }, STATS_CODEC, () =>
      jobs.run(req.jobId, async (signal) => {
        const result = await runStats(
          this.runDeps(),
          model,
          { count: req.images.length, load: (i) => this.load(model, req.images[i] as ImageSource) },
          {
            layers: req.layers,
            ...(req.stages ? { stages: req.stages } : {}),
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
    return { ...answer.value, cached: answer.cached, run: answer.run, ...keptNote(answer) };
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
        const image = await this.deps.images.resolve(source);
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
    layers: layerStatsViews(result.layers, bins),
  };
}

/** A run's (or a group's) layers as the statistics view draws them. */
export function layerStatsViews(layers: StatsResult['layers'], bins: number): LayerStatsView[] {
  return layers.map((l) => {
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
  });
}
