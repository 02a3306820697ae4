import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { EngineError } from '../../../engine/errors';
import { ENGINE_DETACHED } from '../../engine-process/background-priority';
import { EngineClient, type ChildLink } from '../../engine-process/engine-client';
import type { EngineProcessOptions } from '../../engine-process/main';
import type { FromEngine } from '../../engine-process/protocol';
import { defaultPaths } from '../../paths';
import { startServer } from '../../server/server';
import { DATABASE_OPTIONS, storageFrom } from '../database-option';
import { parseDevice, parsePositiveInt, UsageError } from '../errors';

/**
 * The engine runs in its own Node process (the desktop app's engine process, as a plain child): inference
 * and maps never hold up the server, which keeps answering pages and RPC while CAM requests run. It runs
 * below normal priority and, on Linux, in a session of its own (background-priority.ts).
 */
function spawnEngine(options: EngineProcessOptions): ChildLink {
  const child = fork(defaultPaths.engineEntry, [JSON.stringify(options)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own session: its inference does not spend the server's CPU share (see background-priority.ts).
    detached: ENGINE_DETACHED,
  });
  return {
    post: (message) => child.connected && child.send(message),
    subscribe: (listener) => {
      const onMessage = (m: unknown): void => listener(m as FromEngine);
      child.on('message', onMessage);
      return () => child.off('message', onMessage);
    },
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
}

export async function serveCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      device: { type: 'string' },
      'no-demo': { type: 'boolean', default: false },
      ...DATABASE_OPTIONS,
    },
  });
  if (positionals.length > 1) throw new UsageError('serve takes at most one MODEL');
  const port = values.port === undefined ? 0 : parsePositiveInt('--port', values.port, 0);
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const storage = storageFrom(values);
  const log = (message: string): void => void process.stderr.write(`[layerlens] ${message}\n`);
  const engine = new EngineClient(
    () =>
      spawnEngine({
        demoSamples: values['no-demo'] ? null : defaultPaths.demoSamples,
        initialModel: positionals[0] ?? null,
        database: storage.database ?? null,
        // Browser mode's pages are authenticated by the token: they may name any file, as the CLI may.
        resources: null,
        device: parseDevice(values.device),
        ...(storage.cacheLimitBytes ? { cacheLimitBytes: storage.cacheLimitBytes } : {}),
        ...(storage.historyLimitBytes ? { historyLimitBytes: storage.historyLimitBytes } : {}),
        printer: 'chromium',
      }),
    (message) => log(message),
  );
  try {
    await engine.start();
  } catch (error) {
    engine.stop();
    throw new EngineError('bad-model', error instanceof Error ? error.message : String(error));
  }
  const server = await startServer({ engine, rendererDir: defaultPaths.renderer, port, log });
  out(`LayerLens is serving on 127.0.0.1:${server.port}. Open this URL in your browser:`);
  out(server.url);
  const stop = (): void => {
    void server.close().then(() => {
      engine.stop();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
