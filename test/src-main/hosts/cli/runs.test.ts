import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src-main/hosts/cli/main';
import { solidPng } from '../../../helpers/images';

let dir: string;
let model: string;
let db: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-cli-runs-'));
  model = path.resolve('resources/demo/layerlens-demo.onnx');
  db = path.join(dir, 'runs.db');
  await writeFile(path.join(dir, 'red.png'), await solidPng(8, 8, [255, 0, 0]));
  await writeFile(path.join(dir, 'blue.png'), await solidPng(8, 8, [0, 0, 255]));
});

async function json(args: string[]): Promise<Record<string, unknown>> {
  const out: string[] = [];
  const status = await runCli([...args, '--db', db], (text) => out.push(text));
  expect(status).toBe(0);
  return JSON.parse(out.join('\n')) as Record<string, unknown>;
}

describe('layerlens runs and the cached flag', () => {
  it('cam says whether its answer came from the run database, and which run it is', async () => {
    const args = ['cam', model, path.join(dir, 'red.png'), '--methods', 'gradcam,eigencam', '--json', '-'];
    const first = await json(args);
    expect(first).toMatchObject({ cached: false, run: 1 });
    const second = await json(args);
    expect(second).toMatchObject({ cached: true, run: 1 });
    expect(second.layers).toEqual(first.layers);
    expect(await json([...args.slice(0, 3), '--methods', 'gradcam', '--json', '-'])).toMatchObject({ cached: false, run: 2 });
  });

  it('stats too', async () => {
    const args = ['stats', model, path.join(dir, 'red.png'), path.join(dir, 'blue.png'), '--json', '-'];
    const first = await json(args);
    expect(first).toMatchObject({ cached: false, run: 3, images: 2 });
    expect(await json(args)).toMatchObject({ cached: true, run: 3, layers: first.layers });
  });

  it('the table names a run of several inputs by its first and how many more', async () => {
    const out: string[] = [];
    expect(await runCli(['runs', 'list', '--db', db], (text) => out.push(text))).toBe(0);
    const stats = out
      .join('\n')
      .split('\n')
      .find((l) => / stats /.test(l));
    expect(stats).toContain('red.png +1');
  });

  it('list, show, delete and prune print the documented JSON', async () => {
    const list = (await json(['runs', 'list', '--json'])) as { total: number; database: string; runs: Record<string, unknown>[] };
    expect(list.database).toBe(db);
    expect(list.total).toBe(3);
    expect(list.runs.map((r) => r.id)).toEqual([3, 2, 1]);
    expect(Object.keys(list.runs[0] as object).sort()).toEqual(
      [
        'created',
        'duration_ms',
        'engine_version',
        'first_input',
        'id',
        'inputs',
        'kind',
        'model',
        'name',
        'params',
        'pinned',
        'provider',
        'size_bytes',
        'status',
      ].sort(),
    );
    expect(list.runs[0]).toMatchObject({ kind: 'stats', status: 'complete', inputs: 2, first_input: 'red.png' });

    const shown = (await json(['runs', 'show', '1', '--json'])) as { kind: string; result: { layers: object } };
    expect(shown.kind).toBe('cam');
    expect(Object.keys(shown.result.layers).length).toBeGreaterThan(0);

    expect(await json(['runs', 'delete', '2', '--json'])).toMatchObject({ deleted: 1 });
    expect(await json(['runs', 'prune', '--all', '--json'])).toMatchObject({ deleted: 2 });
    expect(await json(['runs', 'list', '--json'])).toMatchObject({ total: 0, runs: [] });
  });

  it('explains bad usage and a missing run', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      expect(await runCli(['runs', 'prune', '--db', db], () => {})).toBe(2);
      expect(await runCli(['runs', 'show', 'abc', '--db', db], () => {})).toBe(2);
      expect(await runCli(['runs', 'show', '999', '--db', db], () => {})).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/--older-than DAYS, --unfinished or --all/);
    expect(err.join('')).toMatch(/no run 999/);
  });
});

describe('one command, one run', () => {
  it('cam with fast and slow methods together stores one run holding every map', async () => {
    const own = path.join(dir, 'one-run.db');
    const out: string[] = [];
    const run = async (args: string[]) => {
      out.length = 0;
      expect(await runCli([...args, '--db', own], (text) => out.push(text))).toBe(0);
      return JSON.parse(out.join('\n')) as Record<string, unknown>;
    };
    const methods = 'gradcam,scorecam,ablationcam';
    const cam = await run(['cam', model, path.join(dir, 'blue.png'), '--layers', 'layer4', '--methods', methods, '--json', '-']);
    expect(cam).toMatchObject({ cached: false, run: 1 });
    const list = (await run(['runs', 'list', '--json'])) as { runs: { id: number; params: { methods: string[] } }[] };
    expect(list.runs.map((r) => r.id)).toEqual([1]);
    expect(list.runs[0]?.params.methods).toEqual(['ablationcam', 'gradcam', 'scorecam']);
    const shown = (await run(['runs', 'show', '1', '--json'])) as {
      result: { layers: Record<string, { maps: Record<string, unknown> }> };
    };
    expect(Object.keys(shown.result.layers.layer4?.maps ?? {}).sort()).toEqual(['ablationcam', 'gradcam', 'scorecam']);
  });
});

describe('layerlens runs limit', () => {
  it('shows the limit and where it comes from, keeps one in the database, and forgets it', async () => {
    const limitDb = path.join(dir, 'limit.db');
    const limit = async (args: string[], extra: string[] = []): Promise<Record<string, unknown>> => {
      const out: string[] = [];
      expect(await runCli(['runs', 'limit', ...args, '--db', limitDb, '--json', ...extra], (t) => out.push(t))).toBe(0);
      return JSON.parse(out.join('\n')) as Record<string, unknown>;
    };
    expect(await limit([])).toMatchObject({ database: limitDb, limit_bytes: 2048 * 1024 ** 2, limit_source: 'default' });
    expect(await limit(['64'])).toMatchObject({ limit_bytes: 64 * 1024 ** 2, limit_source: 'preference' });
    // Kept for later commands on this database; a flag wins for its own process only.
    expect(await limit([])).toMatchObject({ limit_bytes: 64 * 1024 ** 2, limit_source: 'preference' });
    expect(await limit([], ['--history-limit', '8'])).toMatchObject({ limit_bytes: 8 * 1024 ** 2, limit_source: 'flag' });
    const out: string[] = [];
    expect(await runCli(['runs', 'list', '--db', limitDb, '--json'], (t) => out.push(t))).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ limit_bytes: 64 * 1024 ** 2, limit_source: 'preference', total: 0 });
    for (const bad of ['0', 'lots', '1e9']) expect(await runCli(['runs', 'limit', bad, '--db', limitDb], () => {})).toBe(2);
    expect(await limit(['default'])).toMatchObject({ limit_bytes: 2048 * 1024 ** 2, limit_source: 'default' });
  });
});
