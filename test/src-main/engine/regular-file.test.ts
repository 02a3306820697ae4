/**
 * Only regular files are read, and never beyond a cap: a named pipe without a writer, /dev/zero and a folder
 * are refused at once with one line naming what they are (issue 17, items 1–3).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../src-main/engine/errors';
import { readRegularFile } from '../../../src-main/engine/regular-file';

let dir: string;
const options = { what: 'image', maxBytes: 1024, code: 'bad-image' as const };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-regular-file-'));
  await writeFile(path.join(dir, 'small.bin'), new Uint8Array([1, 2, 3]));
  await writeFile(path.join(dir, 'big.bin'), new Uint8Array(2048));
  await mkdir(path.join(dir, 'folder'));
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
});

async function refusal(file: string): Promise<EngineError> {
  const error = await readRegularFile(file, options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(EngineError);
  expect((error as Error).message).not.toContain('\n');
  return error as EngineError;
}

describe('readRegularFile', () => {
  it('reads a regular file whole', async () => {
    expect(Array.from(await readRegularFile(path.join(dir, 'small.bin'), options))).toEqual([1, 2, 3]);
  });

  it('refuses a named pipe without waiting for a writer', async () => {
    expect((await refusal(path.join(dir, 'pipe'))).message).toMatch(/pipe is a named pipe, not an image file/);
  }, 2_000);

  it('refuses /dev/zero instead of reading without end', async () => {
    expect((await refusal('/dev/zero')).message).toBe('/dev/zero is a device, not an image file.');
  }, 2_000);

  it('refuses a folder and a file above the cap', async () => {
    expect((await refusal(path.join(dir, 'folder'))).message).toMatch(/is a folder, not an image file/);
    expect((await refusal(path.join(dir, 'big.bin'))).message).toMatch(/2\.0 KiB, above the 1\.0 KiB limit/);
  });

  it('says a missing file is missing', async () => {
    const error = await refusal(path.join(dir, 'nowhere.png'));
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/ENOENT/);
  });
});
