/**
 * Entry of the engine process: inference, maps and the run database live here, so long work never blocks
 * the process that serves the pages — the desktop app's main process, or `layerlens serve`'s HTTP server.
 * Started by Electron's utilityProcess.fork (messages on process.parentPort); a plain Node child
 * (process.send, advanced serialization) works the same: that is how `serve` and the tests run it.
 *
 * argv[2] is JSON: EngineProcessOptions.
 */
import './run-lowered';
import { Engine } from '../../engine/engine';
import type { DeviceChoice } from '../../engine/inference/session-pool';
import { reportWriter } from '../../report/export-report';
import { describeError } from '../../engine/errors';
import { hostEngine, MainProcessPrinter } from './engine-host';
import { PathGrants } from './path-grants';
import type { FromEngine, MessageLink } from './protocol';

export interface EngineProcessOptions {
  demoSamples: string | null;
  initialModel: string | null;
  database: string | null;
  /** Folders the page may always read (the bundled demo); null: pages may name any path (browser mode). */
  resources: string[] | null;
  device?: DeviceChoice;
  cacheLimitBytes?: number;
  historyLimitBytes?: number;
  /** Who prints reports to PDF: the host process (the desktop app's Chromium) or an installed Chromium. */
  printer?: 'host' | 'chromium';
}

interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  off(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

function parentLink(): MessageLink<unknown, FromEngine> {
  const port = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (port) {
    return {
      post: (message) => port.postMessage(message),
      subscribe: (listener) => {
        const onMessage = (event: { data: unknown }): void => listener(event.data);
        port.on('message', onMessage);
        return () => port.off('message', onMessage);
      },
    };
  }
  if (!process.send) throw new Error('the engine process must be started by the LayerLens app');
  // Started in a session of its own (ENGINE_DETACHED), it gets no Ctrl-C: it ends with its host's channel.
  process.once('disconnect', () => process.exit(0));
  return {
    post: (message) => process.send?.(message),
    subscribe: (listener) => {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  };
}

const log = (message: string): void => void process.stderr.write(`[engine] ${message}\n`);
const link = parentLink();
try {
  const options = JSON.parse(process.argv[2] ?? '{}') as EngineProcessOptions;
  const printer = new MainProcessPrinter(link);
  const engine = await Engine.create({
    demoSamples: options.demoSamples,
    initialModel: options.initialModel,
    database: options.database,
    ...(options.device ? { device: options.device } : {}),
    ...(options.cacheLimitBytes ? { cacheLimitBytes: options.cacheLimitBytes } : {}),
    ...(options.historyLimitBytes ? { historyLimitBytes: options.historyLimitBytes } : {}),
    reports: reportWriter(options.printer === 'chromium' ? undefined : printer.print),
  });
  let grants: PathGrants | null = null;
  if (options.resources) {
    grants = new PathGrants();
    options.resources.forEach((folder) => grants?.grantFolder(folder));
    if (options.initialModel) grants.grant([options.initialModel]);
  }
  hostEngine(engine, link, grants, log, printer);
} catch (error) {
  // The host says it (one line, its own words); logging it here too would print it twice.
  link.post({ kind: 'fatal', message: describeError(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
}
