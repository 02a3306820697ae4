#!/usr/bin/env node
// `npm start`: opens the desktop app on the bundled demo. Where the Electron binary is missing (an offline
// machine cannot download it), it says so and starts browser mode instead, printing the URL to open.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = ['out/main/cli.js', 'out/main/electron.js', 'out/renderer/index.html'].every((f) => existsSync(root + f));
if (!built) {
  console.log('Building LayerLens (first start)…');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function electronBinary() {
  try {
    // The electron package exports the binary's path, and throws when its download never happened.
    const binary = createRequire(import.meta.url)('electron');
    return typeof binary === 'string' && existsSync(binary) ? { binary } : { reason: 'the binary is missing' };
  } catch (error) {
    return { reason: String(error?.message ?? error).split('\n')[0] };
  }
}

const args = process.argv.slice(2);
const electron = electronBinary();
if (electron.binary && !process.env.LAYERLENS_BROWSER) {
  const child = spawn(electron.binary, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`The Electron binary is not installed here (${electron.reason ?? 'LAYERLENS_BROWSER is set'}).`);
  console.log('Starting LayerLens in browser mode instead.');
  const { runCli } = await import(new URL('../out/main/cli.js', import.meta.url).href);
  const status = await runCli(['serve', ...args]);
  if (status !== 0) process.exit(status);
}
