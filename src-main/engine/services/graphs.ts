/**
 * Graph analyses of open models (layers, shapes from a probe run, detected stages) and weight statistics.
 * No stage choice is kept here: a request that wants other stages than the detected ones names them.
 */
import type { GraphAnalysisView, ModelId, TensorName } from '../../../src-shared/api';
import type { GraphView, LayerGroup, WeightStats } from '../../../src-shared/graph';
import { EngineError } from '../errors';
import { analyzeGraph, concreteInputShapes, type GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import { weightStats } from '../graph/weight-stats';
import { LruCache } from '../lru-cache';
import type { ModelRegistry, OpenModel } from '../model-registry';
import { modelContentHash } from '../runs/content-hash';

export class Graphs {
  /** Graph analyses (probe runs included) per model and input shape; bounded like every cache. */
  private readonly analyses: LruCache<string, Promise<GraphAnalysis>>;

  /** `maxBytes`: the analyses' share of the cache limit; each holds a runnable copy of its model. */
  constructor(
    private readonly models: ModelRegistry,
    maxBytes = 256 * 1024 * 1024,
  ) {
    this.analyses = new LruCache(4, () => {}, { maxBytes });
  }

  /** The graph analysis of an open model at an input shape, computed once (with its probe run) and cached. */
  analysis(model: OpenModel, inputShape?: number[]): Promise<GraphAnalysis> {
    const shapes = concreteInputShapes(model);
    const first = model.summary.inputs[0]?.name;
    if (inputShape && first) shapes.set(first, inputShape);
    const key = `${model.id}|${[...shapes.values()].map((s) => s.join('x')).join(',')}`;
    const cached = this.analyses.get(key);
    if (cached) return cached;
    const pending = analyzeGraph(model, shapes);
    this.analyses.set(key, pending, model.summary.sizeBytes);
    pending.catch(() => this.analyses.delete(key));
    return pending;
  }

  async getGraph(req: { modelId: ModelId; stages?: string[] | null }): Promise<GraphAnalysisView> {
    const model = this.models.get(req.modelId);
    const analysis = await this.analysis(model);
    return {
      graph: req.stages && req.stages.length > 0 ? withStages(analysis, req.stages, model.summary.name) : analysis.view,
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
}

/** The graph with `stages` in place of the detected ones: resolved now, so a typo is reported, not stored. */
function withStages(analysis: GraphAnalysis, stages: string[], modelName: string): GraphView {
  const groups: LayerGroup[] = resolveLayers(analysis, stages, modelName).map((l) => ({
    module: l.module ?? ('' as LayerGroup['module']),
    tensor: l.tensor,
    shape: l.shape,
  }));
  return { ...analysis.view, stages: groups, stagesSource: 'user' };
}
