/** The images of a stats run: files, folders (recursively, in a stable order) and .npy tensors. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../errors';

const EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp', '.npy']);

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile() && EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(full);
  }
}

export async function expandImageArgs(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    const info = await stat(arg).catch(() => null);
    if (!info) throw new EngineError('not-found', `${arg} does not exist.`);
    if (info.isDirectory()) await walk(arg, out);
    else out.push(arg);
  }
  if (out.length === 0)
    throw new EngineError('bad-input', `No images found in ${args.join(', ')} (looked for ${[...EXTENSIONS].join(' ')}).`);
  return out;
}
