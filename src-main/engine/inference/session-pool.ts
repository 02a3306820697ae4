/**
 * onnxruntime sessions, created once per (model, provider) and kept in a bounded LRU so that a studio open
 * all day does not accumulate native memory. CUDA is used when asked for ("auto" or "cuda") and available;
 * "auto" falls back to the CPU and remembers that CUDA is missing instead of retrying on every model.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../../../src-shared/api';
import { EngineError, describeError } from '../errors';
import { LruCache } from '../lru-cache';

export type DeviceChoice = 'auto' | 'cpu' | 'cuda';

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

export interface PooledSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
}

export type ModelSource = { path: string } | { bytes: Uint8Array };

export class SessionPool {
  private readonly sessions: LruCache<string, Promise<PooledSession>>;
  private cudaUnavailable: string | null = cudaProviderMissing();

  /** `maxBytes`: sessions are weighed at twice their graph's bytes (onnxruntime's weights and prepacked copy). */
  constructor(capacity = 8, maxBytes = 512 * 1024 * 1024) {
    this.sessions = new LruCache(
      capacity,
      (pending) => {
        pending.then((s) => s.session.release()).catch(() => {});
      },
      { maxBytes },
    );
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Whether sessions for `device` will run on the CPU provider (as far as is known before creating one). */
  runsOnCpu(device: DeviceChoice): boolean {
    return device === 'cpu' || (device === 'auto' && this.cudaUnavailable !== null);
  }

  /** `key` identifies the graph (model hash plus any rewrite); the same key always means the same graph. */
  get(key: string, source: ModelSource | (() => ModelSource), device: DeviceChoice, displayName: string): Promise<PooledSession> {
    const cacheKey = `${key}|${device}`;
    const cached = this.sessions.get(cacheKey);
    if (cached) return cached;
    // The source may be expensive to build (a rewritten model): only build it on a miss.
    let resolved: ModelSource;
    try {
      resolved = typeof source === 'function' ? source() : source;
    } catch (error) {
      return Promise.reject(error);
    }
    const pending = Promise.resolve().then(() => this.create(resolved, device, displayName));
    this.sessions.set(cacheKey, pending, 2 * sourceBytes(resolved));
    // A failed creation must not stay cached: the next request should try again (the file may be fixed).
    pending.catch(() => this.sessions.delete(cacheKey));
    return pending;
  }

  private async create(source: ModelSource, device: DeviceChoice, displayName: string): Promise<PooledSession> {
    if (device !== 'cpu' && this.cudaUnavailable === null) {
      try {
        return { session: await open(source, ['cuda']), provider: 'cuda' };
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
        `CUDA was requested but is not available here (${this.cudaUnavailable ?? 'unknown reason'}); use --device cpu or auto.`,
      );
    }
    try {
      return { session: await open(source, ['cpu']), provider: 'cpu' };
    } catch (error) {
      throw new EngineError('bad-model', `onnxruntime cannot load ${displayName}: ${firstLine(describeError(error))}`);
    }
  }

  clear(): void {
    this.sessions.clear();
  }
}

function open(source: ModelSource, providers: string[]): Promise<ort.InferenceSession> {
  // Warnings such as "removing unused initializer" are noise for users: log errors only.
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
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
