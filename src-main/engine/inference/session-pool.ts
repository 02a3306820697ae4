/**
 * onnxruntime sessions, created once per (model, device) and kept in a bounded LRU so that a studio open
 * all day does not accumulate native memory. The device choice resolves to a provider here:
 * - `cpu`: the CPU provider;
 * - `cuda`: onnxruntime's CUDA provider, or an error saying why it is missing;
 * - `webgpu`: onnxruntime-node's bundled WebGPU provider (Vulkan, D3D12 or Metal), on whatever adapter it
 *   finds; a failure falls back to the CPU with the reason kept;
 * - `auto`: CUDA where the user installed it, else WebGPU where a hardware GPU serves it (gpu-adapter.ts),
 *   else the CPU.
 * A GPU session that fails while running (device lost, out of memory, a kernel it cannot run) is replaced by
 * a CPU session of the same graph and the run repeated there: the user gets the answer and the reason.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DeviceChoice, ExecutionProvider } from '../../../src-shared/primitives';
import { EngineError, describeError } from '../errors';
import { LruCache } from '../lru-cache';
import { gpuVerdict } from './gpu-adapter';

export type { DeviceChoice };

/**
 * Whether onnxruntime-node's CUDA provider library is installed next to its binding (its installer only
 * fetches it on machines set up for CUDA). Asking for CUDA without it only logs errors.
 */
function cudaProviderMissing(): string | null {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = path.join(root, 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = path.join(bin, napi, process.platform, process.arch);
      if (['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'].some((f) => existsSync(path.join(dir, f))))
        return null;
    }
    return "onnxruntime-node's CUDA provider is not installed (reinstall onnxruntime-node on a machine with CUDA 12)";
  } catch {
    return 'onnxruntime-node could not be located';
  }
}

type Feeds = ort.InferenceSession.FeedsType;
type Results = ort.InferenceSession.ReturnType;

/** What the engine uses of a session: the same calls on every provider. */
export interface ModelSession {
  run(feeds: Feeds, fetches?: ort.InferenceSession.FetchesType): Promise<Results>;
  release(): Promise<void>;
}

export interface PooledSession {
  session: ModelSession;
  /** The provider the last run used (a GPU session that failed reads 'cpu' from then on). */
  provider: ExecutionProvider;
  /** Why this session is not on the GPU that was asked for, if it is not. */
  fallback?: string;
}

export type ModelSource = { path: string } | { bytes: Uint8Array };

/**
 * One cached session. A run on it holds a lease: eviction by the cache's budget takes the slot out of the
 * cache at once (so its bytes stop counting) but releases the native session only when no run is on it.
 */
interface Slot {
  ready: Promise<PooledSession>;
  /** The session once made (what `provider` and `fallback` read). */
  value?: PooledSession;
  runs: number;
  evicted: boolean;
  /** What `get` answers for this slot: callers may hold it after the slot is gone (see `get`). */
  facade?: PooledSession;
}

export class SessionPool {
  private readonly sessions: LruCache<string, Slot>;
  /** Slots evicted while a run was on them: their native session is released when the last run ends. */
  private readonly drainingSlots = new Set<Slot>();
  private cudaUnavailable: string | null = cudaProviderMissing();
  /** Set once the WebGPU provider failed as a whole (no adapter, no driver): later models skip it. */
  private webgpuUnavailable: string | null = null;

  /** `maxBytes`: sessions are weighed at twice their graph's bytes (onnxruntime's weights and prepacked copy). */
  constructor(capacity = 8, maxBytes = 512 * 1024 * 1024) {
    this.sessions = new LruCache(
      capacity,
      (slot) => {
        slot.evicted = true;
        if (slot.runs === 0) releaseSlot(slot);
        else this.drainingSlots.add(slot);
      },
      { maxBytes },
    );
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Native sessions evicted while a run was on them, released when it ends. */
  get draining(): number {
    return this.drainingSlots.size;
  }

  /** The provider sessions for `device` will use, as far as is known before creating one, and why not a GPU. */
  expected(device: DeviceChoice): { provider: ExecutionProvider; why: string | null } {
    if (device === 'cpu') return { provider: 'cpu', why: null };
    if (device === 'cuda') return { provider: 'cuda', why: null };
    if (device === 'auto' && this.cudaUnavailable === null) return { provider: 'cuda', why: null };
    const gpu = this.webgpuBlocked(device);
    return gpu === null ? { provider: 'webgpu', why: null } : { provider: 'cpu', why: gpu };
  }

  /** Whether sessions for `device` will run on the CPU provider (as far as is known before creating one). */
  runsOnCpu(device: DeviceChoice): boolean {
    return this.expected(device).provider === 'cpu';
  }

  /** Why WebGPU will not be tried for `device`, or null when it will. */
  private webgpuBlocked(device: DeviceChoice): string | null {
    if (this.webgpuUnavailable !== null) return this.webgpuUnavailable;
    if (device === 'webgpu') return null;
    const verdict = gpuVerdict();
    return verdict.usable ? null : `no hardware GPU for WebGPU: ${verdict.why}`;
  }

  /**
   * `key` identifies the graph (model hash plus any rewrite); the same key always means the same graph. The
   * answer may be held across runs: a run on it leases the session (evicting it then only takes it out of the
   * budget; it is released when the run ends), and a session evicted between runs is made again for the next
   * run, never used released.
   */
  async get(
    key: string,
    source: ModelSource | (() => ModelSource),
    device: DeviceChoice,
    displayName: string,
  ): Promise<PooledSession> {
    const cacheKey = `${key}|${device}`;
    const slot = this.slot(cacheKey, source, displayName, device);
    await slot.ready;
    if (slot.facade) return slot.facade;
    let current = slot;
    const pooled: PooledSession = {
      get provider() {
        return current.value?.provider ?? 'cpu';
      },
      get fallback() {
        return current.value?.fallback;
      },
      session: {
        run: async (feeds, fetches) => {
          // The lease is taken before the first await, so no eviction can fall between choosing and holding.
          if (current.evicted) {
            current = this.slot(cacheKey, source, displayName, device);
            current.facade ??= pooled;
          } else this.sessions.get(cacheKey);
          const leased = current;
          leased.runs++;
          try {
            return await (await leased.ready).session.run(feeds, fetches);
          } finally {
            leased.runs--;
            if (leased.evicted && leased.runs === 0) {
              this.drainingSlots.delete(leased);
              releaseSlot(leased);
            }
          }
        },
        // The pool owns its sessions: a caller's release only gives this one back early.
        release: async () => {
          if (!current.evicted && this.sessions.peek(cacheKey) === current) this.sessions.delete(cacheKey);
        },
      },
    };
    slot.facade = pooled;
    return pooled;
  }

  /** The cached slot for `cacheKey`, or a new one whose session is being created. */
  private slot(cacheKey: string, source: ModelSource | (() => ModelSource), displayName: string, device: DeviceChoice): Slot {
    const cached = this.sessions.get(cacheKey);
    if (cached) return cached;
    // The source may be expensive to build (a rewritten model): only build it on a miss. The function (not
    // the bytes) is kept for a GPU session that must be rebuilt on the CPU.
    const rebuild = typeof source === 'function' ? source : () => source;
    let resolved: ModelSource;
    try {
      resolved = rebuild();
    } catch (error) {
      return { ready: Promise.reject(error), runs: 0, evicted: true };
    }
    let first: ModelSource | null = resolved;
    const lazy = (): ModelSource => {
      const once = first ?? rebuild();
      first = null;
      return once;
    };
    const ready = Promise.resolve().then(() => this.create(lazy, device, displayName));
    const slot: Slot = { ready, runs: 0, evicted: false };
    ready.then(
      (pooled) => (slot.value = pooled),
      // A failed creation must not stay cached: the next request should try again (the file may be fixed).
      () => {
        if (this.sessions.peek(cacheKey) === slot) this.sessions.delete(cacheKey);
        slot.evicted = true;
      },
    );
    this.sessions.set(cacheKey, slot, 2 * sourceBytes(resolved));
    return slot;
  }

  private async create(source: () => ModelSource, device: DeviceChoice, displayName: string): Promise<PooledSession> {
    if ((device === 'cuda' || device === 'auto') && this.cudaUnavailable === null) {
      try {
        return { session: await open(source(), ['cuda']), provider: 'cuda' };
      } catch (error) {
        const why = describeError(error);
        // Only a failure of the provider itself (no CUDA libraries or device) says anything about other
        // models; a graph onnxruntime rejects (a corrupt file, a refused backward pass) must not turn CUDA
        // off for the rest of the session. Such a graph fails on the CPU below with the model's own error.
        if (/cuda|provider|shared librar|\.so\b|\.dll|device/i.test(why)) this.cudaUnavailable = why;
        else if (device === 'cuda')
          throw new EngineError('bad-model', `onnxruntime cannot load ${displayName}: ${firstLine(why)}`);
      }
    }
    if (device === 'cuda') {
      throw new EngineError(
        'unsupported',
        `CUDA was requested but is not available here (${this.cudaUnavailable ?? 'unknown reason'}); use --device webgpu, cpu or auto.`,
      );
    }
    let fallback: string | undefined;
    if (device !== 'cpu') {
      const blocked = this.webgpuBlocked(device);
      if (blocked === null) {
        try {
          const session = await open(source(), ['webgpu']);
          return this.withCpuFallback(session, source, displayName);
        } catch (error) {
          const why = firstLine(describeError(error));
          // No adapter or driver is the machine's state, not this model's: stop trying for later models.
          if (/adapter|vulkan|dawn|device|webgpu context/i.test(why)) this.webgpuUnavailable = `WebGPU is unavailable: ${why}`;
          fallback = `WebGPU could not load this graph (${why}); running on the CPU`;
        }
      } else if (device === 'webgpu' || device === 'auto') {
        fallback = blocked;
      }
    }
    return { session: await this.cpuSession(source, displayName), provider: 'cpu', ...(fallback ? { fallback } : {}) };
  }

  private async cpuSession(source: () => ModelSource, displayName: string): Promise<ort.InferenceSession> {
    try {
      return await open(source(), ['cpu']);
    } catch (error) {
      throw new EngineError('bad-model', `onnxruntime cannot load ${displayName}: ${firstLine(describeError(error))}`);
    }
  }

  /** A WebGPU session whose failed runs move it to the CPU provider for good (see the header). */
  private withCpuFallback(gpu: ort.InferenceSession, source: () => ModelSource, displayName: string): PooledSession {
    let current: ort.InferenceSession = gpu;
    let cpu: Promise<ort.InferenceSession> | null = null;
    const pooled: PooledSession = {
      provider: 'webgpu',
      session: {
        run: async (feeds, fetches) => {
          if (cpu === null) {
            try {
              return await current.run(feeds, fetches ?? current.outputNames);
            } catch (error) {
              // Inputs the model refuses fail on any provider: only provider failures move to the CPU.
              const why = firstLine(describeError(error));
              if (/input|feed|dimension|shape|type/i.test(why) && !/webgpu|buffer|device/i.test(why)) throw error;
              pooled.fallback = `the GPU failed while running (${why}); running on the CPU`;
              cpu = this.cpuSession(source, displayName);
              void gpu.release().catch(() => {});
            }
          }
          current = await cpu;
          pooled.provider = 'cpu';
          return current.run(feeds, fetches ?? current.outputNames);
        },
        release: () => current.release(),
      },
    };
    return pooled;
  }

  clear(): void {
    this.sessions.clear();
  }
}

function releaseSlot(slot: Slot): void {
  slot.ready.then((s) => s.session.release()).catch(() => {});
}

function open(source: ModelSource, providers: string[]): Promise<ort.InferenceSession> {
  // onnxruntime's log lines are noise for users: its warnings ("removing unused initializer"), and its
  // errors, which reach LayerLens as exceptions anyway (a perturbation batch too large for a fixed-batch
  // model is one it expects and retries smaller).
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
    // Intra-op threads spin between the parallel sections of a run, but not after it: threads left spinning
    // after a CAM run took a core from the work that followed it (the sanity check's comparisons ran at half
    // speed 50 ms later, measured; docs/performance.md). Blocking within runs too was slower: the sanity
    // check's batched run 24 → 28 ms.
    extra: { session: { force_spinning_stop: '1' } },
  };
  return 'path' in source
    ? ort.InferenceSession.create(source.path, options)
    : ort.InferenceSession.create(source.bytes, options);
}

function sourceBytes(source: ModelSource): number {
  if ('bytes' in source) return source.bytes.byteLength;
  try {
    return statSync(source.path).size;
  } catch {
    return 0;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
