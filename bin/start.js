#!/usr/bin/env node
// `npm start`: opens the desktop app on the bundled demo. Where the Electron binary is missing (an offline
// machine cannot download it), it says so and starts browser mode instead, printing the URL to open.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = ['out/main/cli.js', 'out/main/electron.js', 'out/renderer/index.html'].every((f) => existsSync(root + f));
if (!built) {
  console.log('Building LayerLens (first start)…');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const args = process.argv.slice(2);
const { runCli, findElectronBinary } = await import(new URL('../out/main/cli.js', import.meta.url).href);
const electron = findElectronBinary();
if (electron.path && !process.env.LAYERLENS_BROWSER) {
  const child = spawn(electron.path, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`The Electron binary is not installed here: ${electron.missing ?? 'LAYERLENS_BROWSER is set'}.`);
  console.log('Starting LayerLens in browser mode instead.');
  const status = await runCli(['serve', ...args]);
  if (status !== 0) process.exit(status);
}
