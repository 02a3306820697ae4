/** onnxruntime sessions of open models on the chosen device: the plain model's and hooked rewrites'. */
import { SessionPool, type DeviceChoice, type PooledSession } from '../inference/session-pool';
import type { GraphForm } from '../hooks/graph-builder';
import { graphFormFor } from '../inference/graph-form';
import type { OpenModel } from '../model-registry';
import type { DeviceState } from '../../../src-shared/primitives';

export class Sessions {
  readonly pool: SessionPool;

  /** `maxBytes`: the sessions' share of the cache limit (see limits.ts). */
  constructor(
    public device: DeviceChoice,
    maxBytes?: number,
  ) {
    this.pool = new SessionPool(8, maxBytes);
  }

  /** The device asked for and the provider new sessions get (a GPU session that failed says so itself). */
  state(): DeviceState {
    const { provider, why } = this.pool.expected(this.device);
    return { choice: this.device, provider, why };
  }

  /** Later sessions use `device`; those made before stay pooled under their own device until evicted. */
  switchTo(device: DeviceChoice): DeviceState {
    this.device = device;
    return this.state();
  }

  /** The unmodified model's session (predictions, ScoreCAM's masked inputs). */
  plain(model: OpenModel): Promise<PooledSession> {
    const source = model.path ? { path: model.path } : { bytes: model.bytes };
    return this.pool.get(model.id, source, this.device, model.summary.name);
  }

  /** A session of a rewritten model (hooks), built from its bytes the first time `key` is asked for. */
  rewritten(key: string, bytes: () => Uint8Array, model: OpenModel): Promise<PooledSession> {
    return this.pool.get(key, () => ({ bytes: bytes() }), this.device, model.summary.name);
  }

  /** The forms hooked graphs are written in for the provider they will run on (HookOptions.form). */
  graphForm(): GraphForm {
    return graphFormFor(this.pool.expected(this.device).provider);
  }
}
