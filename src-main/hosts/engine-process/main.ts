/**
 * Entry of the desktop app's engine process: inference, maps and the run database live here, so long work
 * never blocks the window's main process. Started by Electron's utilityProcess.fork (messages on
 * process.parentPort); a plain Node child (process.send, advanced serialization) works the same, which is
 * how the tests run it.
 *
 * argv[2] is JSON: { demoSamples, initialModel, database, resources }.
 */
import { Engine } from '../../engine/engine';
import { reportWriter } from '../../report/export-report';
import { describeError } from '../../engine/errors';
import { hostEngine, MainProcessPrinter } from './engine-host';
import { PathGrants } from './path-grants';
import type { FromEngine, MessageLink } from './protocol';

interface EngineProcessOptions {
  demoSamples: string | null;
  initialModel: string | null;
  database: string | null;
  /** Folders the page may always read (the bundled demo). */
  resources: string[];
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
    reports: reportWriter(printer.print),
  });
  const grants = new PathGrants();
  options.resources.forEach((folder) => grants.grantFolder(folder));
  if (options.initialModel) grants.grant([options.initialModel]);
  hostEngine(engine, link, grants, log, printer);
} catch (error) {
  link.post({ kind: 'fatal', message: describeError(error) });
  log(describeError(error));
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
}
