import { parseArgs } from 'node:util';
import { Engine } from '../../../engine/engine';
import { reportWriter } from '../../../report/export-report';
import { defaultPaths } from '../../paths';
import { startServer } from '../../server/server';
import { DATABASE_OPTIONS, storageFrom } from '../database-option';
import { parseDevice, parsePositiveInt, UsageError } from '../errors';

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
  const engine = await Engine.create({
    demoSamples: values['no-demo'] ? null : defaultPaths.demoSamples,
    initialModel: positionals[0] ?? null,
    device: parseDevice(values.device),
    ...storageFrom(values),
    reports: reportWriter(),
  });
  const server = await startServer({
    engine,
    rendererDir: defaultPaths.renderer,
    port,
    log: (message) => process.stderr.write(`[layerlens] ${message}\n`),
  });
  out(`LayerLens is serving on 127.0.0.1:${server.port}. Open this URL in your browser:`);
  out(server.url);
  const stop = (): void => {
    void server.close().then(() => {
      engine.dispose();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
