/**
 * Where the built app keeps its pieces, relative to the bundled host file (out/main/*.js). Electron's packaged
 * app passes its own locations instead.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = process.env.LAYERLENS_ROOT ?? path.resolve(here, '..', '..');

export const defaultPaths = {
  resources: path.join(projectRoot, 'resources'),
  renderer: path.join(projectRoot, 'out', 'renderer'),
  demoSamples: path.join(projectRoot, 'resources', 'demo', 'samples.json'),
  /** The engine process's entry (built from hosts/engine-process/main.ts), which `serve` runs as a child. */
  engineEntry: path.join(projectRoot, 'out', 'main', 'engine.js'),
};
