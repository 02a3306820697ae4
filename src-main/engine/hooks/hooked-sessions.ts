/**
 * Sessions of hooked models, one per (model, hooked tensors, input shape, options). The descriptions are
 * kept in a bounded LRU; the sessions themselves live in the engine's bounded session pool under the same
 * key, so a second analysis of another image costs one run.
 */
import type { TensorName } from '../../../src-shared/api';
import type { GraphAnalysis } from '../graph/analyze-graph';
import type { PooledSession } from '../inference/session-pool';
import { LruCache } from '../lru-cache';
import type { OpenModel } from '../model-registry';
import { buildHookedModel, type HookedModel, type HookOptions } from './hooked-model';

export type HookedMeta = Omit<HookedModel, 'bytes'>;

export type SessionSource = (key: string, bytes: () => Uint8Array, model: OpenModel) => Promise<PooledSession>;

export class HookedSessions {
  private readonly hooked = new LruCache<string, HookedMeta>(16);

  /** `blockedLayout`: whether the sessions will run where the blocked forms pay (HookOptions.blockedLayout). */
  constructor(
    private readonly session: SessionSource,
    private readonly blockedLayout: () => boolean = () => false,
  ) {}

  async get(
    model: OpenModel,
    analysis: GraphAnalysis,
    tensors: TensorName[],
    gradients: boolean,
    options: HookOptions,
    inputShape: number[],
  ): Promise<{ meta: HookedMeta; pooled: PooledSession }> {
    options = { ...options, blockedLayout: options.blockedLayout ?? this.blockedLayout() };
    const key = JSON.stringify([model.id, 'hooks', inputShape, gradients, options, [...tensors].sort()]);
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
