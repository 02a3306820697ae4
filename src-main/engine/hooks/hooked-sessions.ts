/**
 * Sessions of hooked models, one per (model, hooked tensors, input shape, options). The descriptions are
 * kept in a bounded LRU; the sessions themselves live in the engine's bounded session pool under the same
 * key, so a second analysis of another image costs one run.
 */
import type { TensorName } from '../../../src-shared/api';
import { GRADIENT_FREE_METHODS, methodLabels } from '../../../src-shared/cam';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import type { PooledSession } from '../inference/session-pool';
import { LruCache } from '../lru-cache';
import type { OpenModel } from '../model-registry';
import type { GraphForm } from './graph-builder';
import { buildHookedModel, type HookedModel, type HookOptions } from './hooked-model';

export type HookedMeta = Omit<HookedModel, 'bytes'>;

export type SessionSource = (key: string, bytes: () => Uint8Array, model: OpenModel) => Promise<PooledSession>;

export class HookedSessions {
  private readonly hooked = new LruCache<string, HookedMeta>(16);
  /** Why onnxruntime refused a model's backward pass, by key: those analyses run without gradients. */
  private readonly refused = new LruCache<string, string>(16);

  /** `form`: the provider the sessions will run on, as HookOptions.form names it. */
  constructor(
    private readonly session: SessionSource,
    private readonly form: () => GraphForm = () => 'plain',
  ) {}

  async get(
    model: OpenModel,
    analysis: GraphAnalysis,
    tensors: TensorName[],
    gradients: boolean,
    options: HookOptions,
    inputShape: number[],
  ): Promise<{ meta: HookedMeta; pooled: PooledSession }> {
    options = { ...options, form: options.form ?? this.form() };
    const key = JSON.stringify([model.id, 'hooks', inputShape, gradients, options, [...tensors].sort()]);
    const refusal = gradients ? this.refused.get(this.refusalKey(model, tensors, inputShape)) : undefined;
    if (refusal) return this.withoutGradients(model, analysis, tensors, options, inputShape, refusal);
    try {
      return await this.load(key, model, analysis, tensors, gradients, options);
    } catch (error) {
      // A backward graph onnxruntime will not load is LayerLens's bug, not the model's: the forward hooks
      // and the gradient-free methods must still work, and the reason must reach the user.
      if (!gradients || !(error instanceof EngineError) || error.code !== 'bad-model') throw error;
      this.hooked.delete(key);
      const reason = this.refuse(model, tensors, inputShape, error.message);
      return this.withoutGradients(model, analysis, tensors, options, inputShape, reason);
    }
  }

  /**
   * Records that onnxruntime would not load or run the backward pass for these layers (whatever maps were
   * asked for: they do not change the backward pass) and returns the reason every gradient method gives.
   */
  refuse(model: OpenModel, tensors: TensorName[], inputShape: number[], failure: string): string {
    const reason = `onnxruntime refused the backward pass LayerLens wrote for this model (${failure}); please report it. The gradient-free methods (${methodLabels(GRADIENT_FREE_METHODS)}) still work.`;
    this.refused.set(this.refusalKey(model, tensors, inputShape), reason);
    return reason;
  }

  private refusalKey(model: OpenModel, tensors: TensorName[], inputShape: number[]): string {
    return JSON.stringify([model.id, inputShape, [...tensors].sort()]);
  }

  private async withoutGradients(
    model: OpenModel,
    analysis: GraphAnalysis,
    tensors: TensorName[],
    options: HookOptions,
    inputShape: number[],
    reason: string,
  ): Promise<{ meta: HookedMeta; pooled: PooledSession }> {
    const { meta, pooled } = await this.get(model, analysis, tensors, false, options, inputShape);
    return { meta: { ...meta, gradients: null, gradientError: reason }, pooled };
  }

  private async load(
    key: string,
    model: OpenModel,
    analysis: GraphAnalysis,
    tensors: TensorName[],
    gradients: boolean,
    options: HookOptions,
  ): Promise<{ meta: HookedMeta; pooled: PooledSession }> {
    let meta = this.hooked.get(key);
    let fresh: Uint8Array | null = null;
    const build = () => buildHookedModel(analysis, tensors, gradients, options);
    if (!meta) {
      // Keep the description, not the (large) bytes: once the session exists they are not needed.
      const { bytes, ...description } = build();
      fresh = bytes;
      meta = description;
      this.hooked.set(key, meta);
    }
    // The session may have been evicted while the description stayed: rebuild the bytes only then.
    const pooled = await this.session(key, () => fresh ?? build().bytes, model);
    return { meta, pooled };
  }
}
