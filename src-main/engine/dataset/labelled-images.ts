/**
 * A labelled data set as users keep one: a folder with one sub-folder per class (torchvision's
 * ImageFolder), or a CSV/TSV of `path,label` rows. Labels are matched to the model's classes here, before
 * any image is read, so a set that cannot be scored fails at once with the labels that match nothing.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetLayout, SkippedImage } from '../../../src-shared/dataset';
import { EngineError, describeError } from '../errors';
import { ClassMatcher } from './class-matcher';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp']);
/** A CSV is read whole: refuse one that cannot be a list of images. */
const MAX_CSV_BYTES = 256 * 1024 * 1024;

export interface LabelledFile {
  path: string;
  actual: number;
}

export interface LabelledImages {
  layout: DatasetLayout;
  files: LabelledFile[];
  /** Rows naming files that are not there (a CSV's), listed and counted but not fatal. */
  missing: SkippedImage[];
}

export async function readLabelledImages(dataset: string, matcher: ClassMatcher): Promise<LabelledImages> {
  const root = path.resolve(dataset);
  const info = await stat(root).catch(() => null);
  if (!info) throw new EngineError('not-found', `The data set ${dataset} does not exist.`);
  const set = info.isDirectory() ? await readFolders(root, matcher) : await readCsv(root, matcher);
  if (set.files.length === 0 && set.missing.length === 0) {
    throw new EngineError('bad-input', `The data set ${dataset} has no images.`);
  }
  return set;
}

async function readFolders(root: string, matcher: ClassMatcher): Promise<LabelledImages> {
  const entries = (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const classDirs: { name: string; files: string[] }[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const files: string[] = [];
    await walk(path.join(root, e.name), files);
    if (files.length > 0) classDirs.push({ name: e.name, files });
  }
  if (classDirs.length === 0) {
    const loose = entries.some((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()));
    throw new EngineError(
      'bad-input',
      loose
        ? `${root} holds images but no class folders: put each class's images in a sub-folder named after the class (${path.join(root, '<class>', 'image.png')}), or give a CSV of path,label.`
        : `The data set ${root} has no images (expected one sub-folder of images per class).`,
    );
  }
  const classes = matcher.matchAll(
    classDirs.map((d) => d.name),
    'class folder',
  );
  const files = classDirs.flatMap((d, i) => d.files.map((file) => ({ path: file, actual: classes[i] as number })));
  return { layout: 'folders', files, missing: [] };
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(full);
  }
}

async function readCsv(file: string, matcher: ClassMatcher): Promise<LabelledImages> {
  const info = await stat(file);
  if (info.size > MAX_CSV_BYTES)
    throw new EngineError('bad-input', `${file} is ${info.size} bytes: too large for a list of images.`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new EngineError('not-found', `Cannot read ${file}: ${describeError(error)}`);
  }
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== '' && !line.startsWith('#'));
  const first = lines[0];
  if (!first) throw new EngineError('bad-input', `The data set ${file} has no rows (expected path,label per line).`);
  const separator = first.line.includes('\t') ? '\t' : first.line.includes(';') && !first.line.includes(',') ? ';' : ',';
  const rows = lines.map(({ line, number }) => {
    const cells = splitRow(line, separator);
    if (cells.length < 2) {
      throw new EngineError('bad-input', `${path.basename(file)} line ${number} has no label: expected path${separator}label.`);
    }
    return { file: (cells[0] as string).trim(), label: (cells[1] as string).trim(), number };
  });
  // A header names its columns; it is recognised by its words, never by whether its label matches.
  const header = rows[0] && /^(path|file|filename|image|name|fname)$/i.test(rows[0].file) ? 1 : 0;
  const body = rows.slice(header);
  if (body.length === 0) throw new EngineError('bad-input', `The data set ${file} has a header but no rows.`);
  const classes = matcher.matchAll(
    body.map((r) => r.label),
    'label',
  );
  const dir = path.dirname(file);
  const files: LabelledFile[] = [];
  const missing: SkippedImage[] = [];
  for (const [i, row] of body.entries()) {
    const resolved = path.resolve(dir, row.file);
    const found = await stat(resolved).catch(() => null);
    if (!found?.isFile()) {
      missing.push({
        path: resolved,
        reason: `${path.basename(file)} line ${row.number} names ${row.file}, which does not exist.`,
      });
    } else {
      files.push({ path: resolved, actual: classes[i] as number });
    }
  }
  return { layout: 'csv', files, missing };
}

/** One CSV row: separators inside double quotes are kept, "" is a quote. */
function splitRow(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
