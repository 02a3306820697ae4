/**
 * The engine's side of the desktop app's engine process: serves the API over the frames relayed from the
 * window, and answers the main process's control messages. Plain Node, so tests run it without Electron.
 */
import * as v from 'valibot';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import type { Engine } from '../../engine/engine';
import { EngineError } from '../../engine/errors';
import type { PrintToPdf } from '../../report/chromium';
import { guardPaths, PathGrants } from './path-grants';
import { toEngineSchema, type FromEngine, type MessageLink, type ToEngine } from './protocol';

export function hostEngine(
  engine: Engine,
  link: MessageLink<unknown, FromEngine>,
  grants: PathGrants,
  log: (message: string) => void,
  printer: MainProcessPrinter = new MainProcessPrinter(link),
): () => void {
  const frameListeners = new Set<(frame: Uint8Array) => void>();
  const pipe: FramePipe = {
    send: (frame) => link.post({ kind: 'frame', frame }),
    subscribe: (listener) => {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
  };
  const rpc = serveEngine(guardPaths(engine, grants), pipe, (reason) => log(`rejected API frame: ${reason}`));
  const unsubscribe = link.subscribe((raw) => {
    const parsed = v.safeParse(toEngineSchema, raw);
    if (!parsed.success) {
      log(`rejected control message: ${v.summarize(parsed.issues)}`);
      return;
    }
    const message = parsed.output as ToEngine;
    if (message.kind === 'frame') frameListeners.forEach((l) => l(message.frame));
    else if (message.kind === 'grant') grants.grant(message.paths);
    else if (message.kind === 'command') void rpc.command.asEvent(message.command);
    else if (message.kind === 'printed') printer.settle(message);
    else void engine.recentModels().then((models) => link.post({ kind: 'recent', id: message.id, models }));
  });
  link.post({ kind: 'ready' });
  return () => {
    unsubscribe();
    rpc.$close();
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
