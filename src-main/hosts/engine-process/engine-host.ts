/**
 * The engine's side of the engine process: serves the API over the frames relayed by the host process (the
 * desktop app's main process, or `layerlens serve`), one API session per channel, and answers the host's
 * control messages. Plain Node, so tests run it without Electron.
 */
import * as v from 'valibot';
import type { EngineApi } from '../../../src-shared/api';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import type { Engine } from '../../engine/engine';
import { EngineError } from '../../engine/errors';
import type { PrintToPdf } from '../../report/chromium';
import { guardPaths, PathGrants } from './path-grants';
import { toEngineSchema, type FromEngine, type MessageLink, type ToEngine } from './protocol';

/** The desktop app's one window. */
const WINDOW_CHANNEL = 0;

/**
 * @param grants the files the page may have the engine read (the desktop app); null where the host has
 *   authenticated its pages itself and they may name any path (browser mode, behind its token)
 */
export function hostEngine(
  engine: Engine,
  link: MessageLink<unknown, FromEngine>,
  grants: PathGrants | null,
  log: (message: string) => void,
  printer: MainProcessPrinter = new MainProcessPrinter(link),
): () => void {
  const api: EngineApi = grants ? guardPaths(engine, grants) : engine;
  const sessions = new Map<number, { listeners: Set<(frame: Uint8Array) => void>; rpc: ReturnType<typeof serveEngine> }>();
  const session = (channel: number) => {
    let open = sessions.get(channel);
    if (!open) {
      const listeners = new Set<(frame: Uint8Array) => void>();
      const pipe: FramePipe = {
        send: (frame) => link.post(channel === WINDOW_CHANNEL ? { kind: 'frame', frame } : { kind: 'frame', frame, channel }),
        subscribe: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
      open = { listeners, rpc: serveEngine(api, pipe, (reason) => log(`rejected API frame: ${reason}`)) };
      sessions.set(channel, open);
    }
    return open;
  };
  session(WINDOW_CHANNEL);
  const unsubscribe = link.subscribe((raw) => {
    const parsed = v.safeParse(toEngineSchema, raw);
    if (!parsed.success) {
      log(`rejected control message: ${v.summarize(parsed.issues)}`);
      return;
    }
    const message = parsed.output as ToEngine;
    if (message.kind === 'frame') session(message.channel ?? WINDOW_CHANNEL).listeners.forEach((l) => l(message.frame));
    else if (message.kind === 'close') {
      sessions.get(message.channel)?.rpc.$close();
      sessions.delete(message.channel);
    } else if (message.kind === 'grant') grants?.grant(message.paths);
    else if (message.kind === 'command') void session(WINDOW_CHANNEL).rpc.command.asEvent(message.command);
    else if (message.kind === 'printed') printer.settle(message);
    else void engine.recentModels().then((models) => link.post({ kind: 'recent', id: message.id, models }));
  });
  link.post({ kind: 'ready' });
  return () => {
    unsubscribe();
    sessions.forEach((s) => s.rpc.$close());
  };
}

/** Reports printed to PDF by the main process (Electron's printToPDF), asked for over the link. */
export class MainProcessPrinter {
  private readonly pending = new Map<number, { resolve(pdf: Uint8Array): void; reject(error: Error): void }>();
  private nextId = 1;

  constructor(private readonly link: MessageLink<unknown, FromEngine>) {}

  readonly print: PrintToPdf = (html) =>
    new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.link.post({ kind: 'print', id, html });
    });

  settle(message: { id: number; pdf: Uint8Array | null; error: string | null }): void {
    const waiting = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (!waiting) return;
    if (message.pdf) waiting.resolve(message.pdf);
    else
      waiting.reject(
        new EngineError('unsupported', `The report could not be printed to PDF: ${message.error ?? 'unknown reason'}`),
      );
  }
}
