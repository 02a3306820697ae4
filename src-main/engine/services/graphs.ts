/** Graph analyses of open models (layers, shapes from a probe run, stages), the user's stage choice, weights. */
import type { GraphAnalysisView, ModelId, TensorName } from '../../../src-shared/api';
import type { LayerGroup, WeightStats } from '../../../src-shared/graph';
import { EngineError } from '../errors';
import { analyzeGraph, concreteInputShapes, type GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import { weightStats } from '../graph/weight-stats';
import { LruCache } from '../lru-cache';
import type { ModelRegistry, OpenModel } from '../model-registry';
import { modelContentHash } from '../runs/content-hash';

export class Graphs {
  /** Graph analyses (probe runs included) per model, input shape and stage override; bounded like every cache. */
  private readonly analyses: LruCache<string, Promise<GraphAnalysis>>;
  private readonly stageOverrides = new LruCache<ModelId, string[]>(64);

  /** `maxBytes`: the analyses' share of the cache limit; each holds a runnable copy of its model. */
  constructor(
    private readonly models: ModelRegistry,
    maxBytes = 256 * 1024 * 1024,
  ) {
    this.analyses = new LruCache(4, () => {}, { maxBytes });
  }

  /** The user's stages for a model, or null for the detected ones. */
  stageOverride(model: OpenModel): string[] | null {
    return this.stageOverrides.get(model.id) ?? null;
  }

  /** The graph analysis of an open model at an input shape, computed once (with its probe run) and cached. */
  analysis(model: OpenModel, inputShape?: number[]): Promise<GraphAnalysis> {
    const override = this.stageOverride(model);
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
    this.analyses.set(key, pending, model.summary.sizeBytes);
    pending.catch(() => this.analyses.delete(key));
    return pending;
  }

  async getGraph(req: { modelId: ModelId }): Promise<GraphAnalysisView> {
    const model = this.models.get(req.modelId);
    const analysis = await this.analysis(model);
    return {
      graph: analysis.view,
      warnings: [...model.warnings, ...analysis.warnings],
      modelHash: await modelContentHash(model),
    };
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
}
