/**
 * The engine's side of the desktop app's engine process: serves the API over the frames relayed from the
 * window, and answers the main process's control messages. Plain Node, so tests run it without Electron.
 */
import * as v from 'valibot';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import type { Engine } from '../../engine/engine';
import { guardPaths, PathGrants } from './path-grants';
import { toEngineSchema, type FromEngine, type MessageLink, type ToEngine } from './protocol';

export function hostEngine(
  engine: Engine,
  link: MessageLink<unknown, FromEngine>,
  grants: PathGrants,
  log: (message: string) => void,
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
    else void engine.recentModels().then((models) => link.post({ kind: 'recent', id: message.id, models }));
  });
  link.post({ kind: 'ready' });
  return () => {
    unsubscribe();
    rpc.$close();
  };
}
