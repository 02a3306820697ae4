/** Opened models as the user sees them: opening, the recent list, and the user's preprocessing and labels. */
import type { ModelId, ModelSummary, Preprocess } from '../../../src-shared/api';
import { ModelRegistry, type OpenModel } from '../model-registry';

export class Models {
  readonly registry: ModelRegistry;
  private recent: { name: string; path: string }[] = [];
  /** The model opened at start (the demo's, or the one named on the command line). */
  initial: OpenModel | null = null;

  /** `maxBytes`: the open models' share of the cache limit (see limits.ts). */
  constructor(maxBytes?: number) {
    this.registry = new ModelRegistry(4, maxBytes);
  }

  async openInitial(file: string): Promise<void> {
    this.initial = await this.registry.openPath(file);
    this.recent = [{ name: this.initial.summary.name, path: file }];
  }

  async openModelPath(req: { path: string }): Promise<ModelSummary> {
    const model = await this.registry.openPath(req.path);
    this.recent = [{ name: model.summary.name, path: req.path }, ...this.recent.filter((r) => r.path !== req.path)].slice(0, 10);
    return model.summary;
  }

  async openModelBytes(req: { name: string; bytes: Uint8Array }): Promise<ModelSummary> {
    return (await this.registry.openBytes(req.name, req.bytes)).summary;
  }

  async recentModels(): Promise<{ name: string; path: string }[]> {
    return this.recent;
  }

  async setPreprocess(req: { modelId: ModelId; preprocess: Omit<Preprocess, 'source'> | null }): Promise<ModelSummary> {
    const model = this.registry.get(req.modelId);
    model.summary = {
      ...model.summary,
      preprocess: req.preprocess ? { ...req.preprocess, source: 'user' } : model.originalPreprocess,
    };
    return model.summary;
  }

  async setLabels(req: { modelId: ModelId; labels: string[] | null }): Promise<ModelSummary> {
    const model = this.registry.get(req.modelId);
    model.summary = {
      ...model.summary,
      labels: req.labels ?? model.originalLabels,
      labelSource: req.labels ? 'user' : model.originalLabelSource,
    };
    return model.summary;
  }
}
