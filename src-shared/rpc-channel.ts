/**
 * Both ends of the API over any byte pipe (Electron IPC, a WebSocket, an in-memory pair in tests).
 * Framing is `wire-codec.ts`; calls are birpc. The engine end validates every request before it runs.
 */
import { createBirpc } from 'birpc';
import * as v from 'valibot';
import { engineRequestSchemas, isEngineMethod, type CallContext, type EngineApi, type RendererApi } from './api';
import { decodeFrame, encodeFrame } from './wire-codec';

/** A bidirectional pipe of binary frames. `subscribe` returns an unsubscribe function. */
export interface FramePipe {
  send(frame: Uint8Array): void;
  subscribe(onFrame: (frame: Uint8Array | ArrayBuffer) => void): () => void;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls can legitimately take long (a big model's first session); progress comes as events. */
const CALL_TIMEOUT_MS = 30 * 60 * 1000;

function isRpcMessage(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const t = (value as { t?: unknown }).t;
  return t === 'q' || t === 's';
}

function birpcChannel(pipe: FramePipe, onBadFrame: (reason: string) => void) {
  let unsubscribe = (): void => {};
  return {
    post: (data: unknown) => pipe.send(data as Uint8Array),
    on: (fn: (data: unknown) => void) => {
      unsubscribe = pipe.subscribe((frame) => {
        let message: unknown;
        try {
          message = decodeFrame(frame);
        } catch (error) {
          onBadFrame(error instanceof Error ? error.message : String(error));
          return;
        }
        if (!isRpcMessage(message)) {
          onBadFrame('frame is not an API message');
          return;
        }
        fn(message);
      });
    },
    off: () => unsubscribe(),
    serialize: (message: unknown) => encodeFrame(message),
    deserialize: (message: unknown) => message,
  };
}

/** Engine side: answers `EngineApi` calls arriving on `pipe`; returns a handle to push `RendererApi` events. */
export function serveEngine(engine: EngineApi, pipe: FramePipe, onBadFrame: (reason: string) => void = () => {}) {
  const rpc = createBirpc<RendererApi, EngineApi>(engine, {
    ...birpcChannel(pipe, onBadFrame),
    eventNames: ['log', 'progress', 'command'],
    timeout: CALL_TIMEOUT_MS,
    resolver(name, resolved) {
      if (!isEngineMethod(name) || typeof resolved !== 'function') return undefined;
      const schema = engineRequestSchemas[name];
      return (...args: unknown[]) => {
        const parsed = v.safeParse(schema, args);
        if (!parsed.success) {
          throw new ApiError('invalid-request', `Invalid request to ${name}: ${v.summarize(parsed.issues)}`);
        }
        // Handlers get a context to reach this connection's renderer (progress of its own jobs).
        const context: CallContext = { progress: (event) => void rpc.progress.asEvent(event) };
        return (resolved as (...a: unknown[]) => unknown).apply(engine, [...(parsed.output as unknown[]), context]);
      };
    },
  });
  return rpc;
}

/** Renderer side: an `EngineApi` whose calls go over `pipe`. */
export function connectEngine(
  pipe: FramePipe,
  renderer: RendererApi,
  onBadFrame: (reason: string) => void = () => {},
): EngineApi {
  return createBirpc<EngineApi, RendererApi>(renderer, {
    ...birpcChannel(pipe, onBadFrame),
    timeout: CALL_TIMEOUT_MS,
  });
}
