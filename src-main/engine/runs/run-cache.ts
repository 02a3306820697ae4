/**
 * "Never compute a run twice": answers a request from memory, then from the run database, and only then
 * computes it — recording the run as running first and its result and status in one transaction after.
 * Without a database (history off) it still remembers recent answers in memory.
 *
 * One user action is one run: a request that names the run of its action (`join`) is stored as a part of
 * that run — its answer merged into the run's result — instead of as a run of its own, whether it was
 * computed now or answered from elsewhere in the history.
 */
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { KeptNote, RunId, RunKind } from '../../../src-shared/runs';
import { EngineError } from '../errors';
import { LruCache } from '../lru-cache';
import type { OpenModel } from '../model-registry';
import { isNpy } from '../npy';
import { modelContentHash } from './content-hash';
import { RESULT_BLOB, type NewPart, type RunStore } from './run-store';

export interface RunInput {
  hash: string;
  name: string;
  source: object;
  /** The file's bytes when a thumbnail should be made from them (the first input of a run). */
  bytes: Uint8Array | null;
}

export interface RunSpec<T = unknown> {
  kind: RunKind;
  key: string;
  model: OpenModel;
  params: object;
  inputs: RunInput[];
  /** The run of the action this request belongs to, and what it adds to it as the history lists it. */
  join?: { run: RunId; params: object } | undefined;
  /** What of a stored result this request asks for: a run's result may hold more (parts added to it). */
  narrow?: ((stored: T) => T) | undefined;
}

export interface Computed<T> {
  value: T;
  /** A cancelled run keeps its partial result but is never answered from the cache. */
  cancelled: boolean;
  provider: string;
  /** The run's parameters completed by the computation (stored for the history; the key is unchanged). */
  params?: object;
}

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** A run's result with a part's answer added to it (kinds whose runs take parts). */
  merge?(result: T, part: T): T;
}

export interface Answer<T> {
  value: T;
  cached: boolean;
  run: RunId | null;
  /** Why this answer was not kept in the history (too large for its limit, the disk full), when it was not. */
  notKept?: string;
}

/** The answer's note for the response, when it was not kept (nothing otherwise). */
export function keptNote(answer: Answer<unknown>): KeptNote {
  return answer.notKept ? { notKept: answer.notKept } : {};
}

const THUMBNAIL_SIZE = 96;

export class RunCache {
  /** Small recent answers, so flipping between images costs no decoding. */
  private readonly recent: LruCache<string, Answer<unknown>>;

  private readonly inflight = new Map<string, Promise<Answer<unknown>>>();
  /** Why the last run could not be stored, if one could not (the answer was still given). */
  lastStorageError: string | null = null;

  /** `maxRecentBytes`: the decoded answers kept in memory, weighed by their arrays and strings. */
  constructor(
    readonly store: RunStore | null,
    maxRecentBytes = 64 * 1024 * 1024,
  ) {
    this.recent = new LruCache(32, () => {}, { maxBytes: maxRecentBytes, sizeOf: (answer) => approximateBytes(answer.value) });
  }

  async getOrCompute<T>(spec: RunSpec<T>, codec: Codec<T>, compute: () => Promise<Computed<T>>): Promise<Answer<T>> {
    const store = this.store;
    const part = store && spec.join && codec.merge ? await this.partOf(store, spec) : null;
    if (store && part && store.holds(part.run, spec.key)) {
      const value = this.stored(store, part.run, spec, codec);
      if (value !== null) return this.remember(spec, { value, cached: true, run: part.run });
    }
    const found = await this.lookup(spec, codec);
    if (found) return store && part && found.run !== part.run ? this.attach(store, part, spec, codec, found) : found;
    const pending =
      store && part ? this.computePart(store, part, spec, codec, compute) : this.computeAndStore(spec, codec, compute);
    this.inflight.set(spec.key, pending);
    try {
      return await pending;
    } finally {
      this.inflight.delete(spec.key);
    }
  }

  /** The answer from memory, the database or the same question being computed now; null if none. */
  private async lookup<T>(spec: RunSpec<T>, codec: Codec<T>): Promise<Answer<T> | null> {
    const hot = this.recent.get(spec.key) as Answer<T> | undefined;
    if (hot) return { ...hot, cached: true };
    const store = this.store;
    const storedId = store?.findComplete(spec.key) ?? null;
    if (store && storedId !== null) {
      const value = this.stored(store, storedId, spec, codec);
      if (value !== null) return this.remember(spec, { value, cached: true, run: storedId });
    }
    // The same question asked again while it is being computed waits for that answer.
    const running = this.inflight.get(spec.key) as Promise<Answer<T>> | undefined;
    return running ? { ...(await running), cached: true } : null;
  }

  private stored<T>(store: RunStore, run: RunId, spec: RunSpec<T>, codec: Codec<T>): T | null {
    const blob = store.blobs(run).get(RESULT_BLOB);
    if (!blob) return null;
    const value = codec.decode(blob);
    return spec.narrow ? spec.narrow(value) : value;
  }

  /** The part this request adds to its action's run, or null where that run cannot take it (gone, unfinished). */
  private async partOf<T>(store: RunStore, spec: RunSpec<T>): Promise<{ run: RunId; part: NewPart } | null> {
    const join = spec.join as NonNullable<RunSpec<T>['join']>;
    const part: NewPart = {
      key: spec.key,
      params: join.params,
      modelHash: await modelContentHash(spec.model),
      inputHashes: spec.inputs.map((i) => i.hash),
    };
    // A run of another model or image is the caller's mistake (it throws); a database that fails is not.
    const usable = this.guardRead(() => store.canAddTo(join.run, part));
    return usable ? { run: join.run, part } : null;
  }

  /** An answer found elsewhere (another run, memory) becomes a part of the action's run too: no recomputation. */
  private attach<T>(
    store: RunStore,
    target: { run: RunId; part: NewPart },
    spec: RunSpec<T>,
    codec: Codec<T>,
    found: Answer<T>,
  ): Answer<T> {
    const added = this.guard(() => {
      store.beginPart(target.run, target.part);
      if (!store.finishPart(target.run, spec.key, this.merger(codec, found.value), 0)) store.discardPart(target.run, spec.key);
    });
    return added ? this.remember(spec, { ...found, run: target.run }) : found;
  }

  private merger<T>(codec: Codec<T>, part: T): (result: Uint8Array) => Uint8Array {
    const merge = codec.merge as NonNullable<Codec<T>['merge']>;
    return (result) => codec.encode(merge(codec.decode(result), part));
  }

  /** Computes a part of the action's run: recorded as running first, merged into the run's result after. */
  private async computePart<T>(
    store: RunStore,
    target: { run: RunId; part: NewPart },
    spec: RunSpec<T>,
    codec: Codec<T>,
    compute: () => Promise<Computed<T>>,
  ): Promise<Answer<T>> {
    const { run } = target;
    const begun = this.guard(() => store.beginPart(run, target.part));
    const started = performance.now();
    let computed: Computed<T>;
    try {
      computed = await compute();
    } catch (error) {
      if (begun) this.guard(() => store.discardPart(run, spec.key));
      throw error;
    }
    let kept = false;
    let notKept: string | undefined;
    if (begun && !computed.cancelled) {
      this.guard(
        () => {
          kept = store.finishPart(run, spec.key, this.merger(codec, computed.value), performance.now() - started);
        },
        (error) => (notKept = this.storageFailed(error)),
      );
    }
    if (begun && !kept) this.guard(() => store.discardPart(run, spec.key));
    const answer: Answer<T> = { value: computed.value, cached: false, run: kept ? run : null, ...(notKept ? { notKept } : {}) };
    return computed.cancelled ? answer : this.remember(spec, answer);
  }

  private async computeAndStore<T>(spec: RunSpec<T>, codec: Codec<T>, compute: () => Promise<Computed<T>>): Promise<Answer<T>> {
    const store = this.store;
    let notKept: string | undefined;
    const failed = (error: unknown): null => {
      notKept = this.storageFailed(error);
      return null;
    };
    // The database failing (disk full, removed) must not cost the user the answer: it is then only not kept.
    const run = store ? await this.begin(store, spec).catch(failed) : null;
    const started = performance.now();
    let computed: Computed<T>;
    try {
      computed = await compute();
    } catch (error) {
      if (store && run !== null) this.guard(() => store.discard(run), failed);
      throw error;
    }
    let stored = run;
    if (store && run !== null) {
      const finished = this.guard(
        () =>
          store.finish(run, computed.cancelled ? 'cancelled' : 'complete', {
            blobs: { [RESULT_BLOB]: codec.encode(computed.value) },
            durationMs: performance.now() - started,
            provider: computed.provider,
            ...(computed.params ? { params: computed.params } : {}),
          }),
        failed,
      );
      if (!finished) stored = null;
    }
    const answer: Answer<T> = { value: computed.value, cached: false, run: stored, ...(notKept ? { notKept } : {}) };
    return computed.cancelled ? answer : this.remember(spec, answer);
  }

  private storageFailed(error: unknown): string {
    this.lastStorageError = error instanceof Error ? error.message : String(error);
    return this.lastStorageError;
  }

  /** A read whose only expected failure is the caller's mistake (an EngineError); the database failing is not. */
  private guardRead(read: () => boolean): boolean {
    try {
      return read();
    } catch (error) {
      if (error instanceof EngineError) throw error;
      this.storageFailed(error);
      return false;
    }
  }

  private guard(write: () => void, failed: (error: unknown) => unknown = (error) => this.storageFailed(error)): boolean {
    try {
      write();
      return true;
    } catch (error) {
      failed(error);
      return false;
    }
  }

  /** A stored run's result, decoded (null when it has none: still running, or died before finishing). */
  result<T>(run: RunId, codec: Codec<T>): T | null {
    const blob = this.store?.blobs(run).get(RESULT_BLOB);
    return blob ? codec.decode(blob) : null;
  }

  forget(): void {
    this.recent.clear();
  }

  private remember<T>(spec: RunSpec<T>, answer: Answer<T>): Answer<T> {
    // Statistics over thousands of images can be large: those stay only in the database.
    if (spec.kind === 'cam') this.recent.set(spec.key, answer);
    return answer;
  }

  private async begin<T>(store: RunStore, spec: RunSpec<T>): Promise<RunId> {
    const { model } = spec;
    const modelHash = await modelContentHash(model);
    store.recordModel({
      hash: modelHash,
      name: model.summary.name,
      path: model.path,
      sizeBytes: model.summary.sizeBytes,
      opset: model.summary.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? null,
      summary: {
        producer: model.summary.producer,
        irVersion: model.summary.irVersion,
        inputs: model.summary.inputs,
        outputs: model.summary.outputs,
        nodeCount: model.summary.nodeCount,
        opHistogram: opHistogram(model),
      },
    });
    for (const input of spec.inputs) {
      const known = store.hasInput(input.hash);
      store.recordInput({
        hash: input.hash,
        name: input.name,
        source: input.source,
        preprocess: model.summary.preprocess,
        thumbnail: !known && input.bytes ? await thumbnail(input.bytes) : null,
      });
    }
    return store.begin({
      key: spec.key,
      kind: spec.kind,
      modelHash,
      params: spec.params,
      inputHashes: spec.inputs.map((i) => i.hash),
    });
  }
}

function opHistogram(model: OpenModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of model.proto.graph?.node ?? []) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}

async function thumbnail(bytes: Uint8Array): Promise<Uint8Array | null> {
  if (isNpy(bytes)) return null;
  try {
    return await sharp(bytes).rotate().resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'cover' }).jpeg({ quality: 70 }).toBuffer();
  } catch {
    return null;
  }
}

/** Roughly what a decoded answer holds: its typed arrays and strings (the rest is small). */
export function approximateBytes(value: unknown, depth = 0): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value === 'string') return 2 * value.length;
  if (value === null || typeof value !== 'object' || depth > 8) return 8;
  let total = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) total += approximateBytes(item, depth + 1);
  return total;
}
