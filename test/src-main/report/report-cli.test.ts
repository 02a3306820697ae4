import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src-main/hosts/cli/main';

const DEMO = path.resolve('resources/demo');
const MODEL = path.join(DEMO, 'layerlens-demo.onnx');
const STAR = path.join(DEMO, 'samples', '01-star.png');
const CIRCLE = path.join(DEMO, 'samples', '02-circle.png');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-report-cli-'));
  await writeFile(path.join(dir, 'junk.png'), 'not an image');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const status = await runCli(args, (text) => out.push(text));
    return { status, out: out.join('\n'), err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('layerlens report', () => {
  it('writes an HTML report, capped with a note, leaving out an unusable input with its reason', async () => {
    const file = path.join(dir, 'capped.html');
    const junk = path.join(dir, 'junk.png');
    const args = ['report', '--model', MODEL, '--images', junk, STAR, CIRCLE, '--max-images', '1', '--no-history', '--out', file];
    const { status, out } = await run(args);
    expect(status).toBe(0);
    expect(out).toMatch(/^wrote .*capped\.html \(\d+ KB\): 1 of 3 images, 4 layers × 3 methods$/);
    const html = await readFile(file, 'utf8');
    expect(html).toMatch(/1 of 3 images\s+shown: the report keeps the first 1/);
    expect(html).toMatch(
      /data-testid="skipped-note">\s*1 input could not be used:\s*<div><code>junk.png<\/code>: junk.png could not be read/,
    );
    expect(html).toContain('data-image="01-star.png"');
    expect(html).not.toContain('data-image="02-circle.png"');
    expect(html).not.toContain('data-section="stats"');
  });

  it('fails with the reason when no input can be used', async () => {
    const { status, err } = await run([
      'report',
      '--model',
      MODEL,
      '--images',
      path.join(dir, 'junk.png'),
      '--out',
      path.join(dir, 'none.html'),
    ]);
    expect(status).toBe(1);
    expect(err).toContain('No image could be used: junk.png could not be read as an image');
  });

  it('draws maps with the display asked for, as the studio would', async () => {
    const file = path.join(dir, 'signed.html');
    const args = ['report', '--model', MODEL, '--images', STAR, '--methods', 'gradcam', '--no-history', '--out', file];
    const { status } = await run([...args, '--scaling', 'signed', '--upsampling', 'nearest', '--opacity', '0.7']);
    expect(status).toBe(0);
    const html = await readFile(file, 'utf8');
    // Signed maps switch to the diverging colormap unless one was chosen.
    expect(html).toContain('coolwarm, signed, nearest, 70% opacity');
    expect(html).toContain('+max |x|');
    for (const bad of [
      ['--opacity', '2'],
      ['--scaling', 'log'],
      ['--colormap', 'jet'],
      ['--upsampling', 'cubic'],
    ]) {
      const { status: code, err } = await run([...args, ...bad]);
      expect(code, bad.join(' ')).toBe(2);
      expect(err).toContain(bad[0]);
    }
  });

  it('writes a report of stored runs from their stored maps and statistics', async () => {
    const db = path.join(dir, 'runs.db');
    for (const image of [STAR, CIRCLE]) expect((await run(['cam', MODEL, image, '--db', db])).status).toBe(0);
    expect((await run(['stats', MODEL, STAR, CIRCLE, '--db', db])).status).toBe(0);
    const file = path.join(dir, 'runs.html');
    const { status, out } = await run(['report', '1', '2', '3', '--db', db, '--out', file]);
    expect(status).toBe(0);
    expect(out).toMatch(/from runs 1, 2, 3: 2 images, statistics of \d+ layers/);
    const html = await readFile(file, 'utf8');
    for (const name of ['01-star.png', '02-circle.png', 'stored runs #1, #2, #3', 'Activation statistics'])
      expect(html).toContain(name);

    const missing = await run(['report', '99', '--db', db, '--out', file]);
    expect(missing.status).toBe(1);
    expect(missing.err).toMatch(/no run 99/);
  });

  it('rejects a missing or unknown output format', async () => {
    expect((await run(['report', '--model', MODEL, '--images', STAR])).status).toBe(2);
    const { status, err } = await run(['report', '--model', MODEL, '--images', STAR, '--out', 'r.txt']);
    expect(status).toBe(2);
    expect(err).toContain('--out must end in .html or .pdf');
  });

  it('says what to install before any work when no browser can print the PDF', async () => {
    vi.stubEnv('LAYERLENS_CHROMIUM', path.join(dir, 'no-such-chromium'));
    try {
      const { status, err } = await run(['report', '--model', MODEL, '--images', STAR, '--out', path.join(dir, 'r.pdf')]);
      expect(status).toBe(1);
      expect(err).toMatch(/LAYERLENS_CHROMIUM is .*no-such-chromium, which does not exist/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('is documented', async () => {
    expect((await run(['--help'])).out).toContain('report --model MODEL --images IMAGES... --out FILE.html|FILE.pdf');
    const help = (await run(['help', 'report'])).out;
    for (const option of ['--methods', '--layers', '--class', '--stats', '--max-images', '--out', 'RUN_ID', 'LAYERLENS_CHROMIUM'])
      expect(help).toContain(option);
  });
});
