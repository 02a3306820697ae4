#!/usr/bin/env node
// Entry point of the `layerlens` command: runs the bundled CLI built by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('layerlens: the app is not built yet. Run "npm run build" in the LayerLens folder.\n');
  process.exit(1);
}
const { runCli } = await import(cli);
const status = await runCli(process.argv.slice(2));
// serve keeps running; every other command ends here.
if (process.argv[2] !== 'serve' || status !== 0) process.exitCode = status;
