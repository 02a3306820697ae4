import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src-main/hosts/cli/main';
import { writeNpy } from '../../../../src-main/engine/npy';
import { channelMeanClassifier } from '../../../helpers/onnx-builder';
import { solidPng } from '../../../helpers/images';

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-cli-'));
  model = path.join(dir, 'means.onnx');
  await writeFile(model, channelMeanClassifier(8));
  await writeFile(path.join(dir, 'red.png'), await solidPng(8, 8, [255, 0, 0]));
  await writeFile(path.join(dir, 'junk.png'), 'junk');
  const t = new Float32Array(192).fill(0);
  t.fill(3, 128, 192);
  await writeFile(path.join(dir, 'blue.npy'), writeNpy(t, [1, 3, 8, 8]));
});

async function run(args: string[]): Promise<{ status: number; out: string[] }> {
  const out: string[] = [];
  const status = await runCli(args, (text) => out.push(text));
  return { status, out };
}

describe('layerlens predict', () => {
  it('prints the documented JSON shape', async () => {
    const { status, out } = await run(['predict', model, path.join(dir, 'red.png'), '--json']);
    expect(status).toBe(0);
    const json = JSON.parse(out.join('\n')) as { top: { class: number; label: string; prob: number }[] };
    expect(json.top).toHaveLength(3);
    for (const row of json.top) expect(Object.keys(row).sort()).toEqual(['class', 'label', 'prob']);
    expect(json.top[0]).toMatchObject({ class: 0, label: 'red' });
    expect(json.top.reduce((s, r) => s + r.prob, 0)).toBeCloseTo(1, 6);
  });

  it('feeds a .npy tensor as is', async () => {
    const { status, out } = await run(['predict', model, path.join(dir, 'blue.npy'), '--json', '--top', '1']);
    expect(status).toBe(0);
    expect(JSON.parse(out.join('\n')).top).toEqual([
      { class: 2, label: 'blue', prob: expect.closeTo(Math.exp(3) / (Math.exp(3) + 2), 6) },
    ]);
  });

  it('exits 1 with one line for unusable input, 2 for bad usage', async () => {
    expect((await run(['predict', model, path.join(dir, 'junk.png')])).status).toBe(1);
    expect((await run(['predict', model])).status).toBe(2);
    expect((await run(['predict', model, path.join(dir, 'red.png'), '--top', 'zero'])).status).toBe(2);
    expect((await run(['predict', model, path.join(dir, 'red.png'), '--bogus'])).status).toBe(2);
    expect((await run(['frobnicate'])).status).toBe(2);
  });

  it('accepts --no-history and --db as every command does (a prediction is never stored)', async () => {
    for (const flags of [['--no-history'], ['--db', path.join(dir, 'unused.db')]]) {
      const { status, out } = await run(['predict', model, path.join(dir, 'red.png'), '--json', ...flags]);
      expect(status).toBe(0);
      expect(JSON.parse(out.join('\n')).top[0]).toMatchObject({ label: 'red' });
    }
    expect(existsSync(path.join(dir, 'unused.db'))).toBe(false);
  });

  it('documents its commands and JSON in --help', async () => {
    const main = await run(['--help']);
    expect(main.out.join('\n')).toMatch(/predict MODEL INPUT/);
    const predict = await run(['help', 'predict']);
    expect(predict.out.join('\n')).toContain('{"top": [{"class": k, "label": "…", "prob": p}, …]');
  });
});

describe('layerlens stats', () => {
  it('prints the documented JSON shape over a folder of .npy tensors', async () => {
    const { status, out } = await run(['stats', model, path.join(dir, 'blue.npy'), path.join(dir, 'red.png'), '--json', '-']);
    expect(status).toBe(0);
    const json = JSON.parse(out.join('\n')) as { images: number; layers: Record<string, Record<string, unknown>> };
    expect(json.images).toBe(2);
    const layer = json.layers.fc as Record<string, unknown>;
    expect(Object.keys(layer).sort()).toEqual([
      'dead_channels',
      'hist',
      'mean',
      'near_zero',
      'outside',
      'per_image',
      'range',
      'std',
      'tensor',
    ]);
    expect((layer.hist as number[]).length).toBe(40);
    expect(layer.range).toEqual([0, 10]);
    expect((layer.per_image as unknown[]).length).toBe(2);
  });

  it('takes the history and cache limits in MB, and refuses nonsense', async () => {
    const db = path.join(dir, 'limited.db');
    const ok = await run([
      'stats',
      model,
      path.join(dir, 'blue.npy'),
      '--db',
      db,
      '--history-limit',
      '64',
      '--cache-limit',
      '256',
      '--json',
      '-',
    ]);
    expect(ok.status).toBe(0);
    for (const bad of [
      ['--history-limit', '0'],
      ['--history-limit', 'lots'],
      ['--cache-limit', '1e999'],
      ['--cache-limit', '2'],
    ])
      expect((await run(['stats', model, path.join(dir, 'blue.npy'), '--db', db, ...bad])).status).toBe(2);
  });

  it('refuses a bad range', async () => {
    expect((await run(['stats', model, path.join(dir, 'blue.npy'), '--range', '5,1'])).status).toBe(2);
  });
});

describe('layerlens cam --png', () => {
  const demo = 'resources/demo/layerlens-demo.onnx';
  const sample = 'resources/demo/samples/02-circle.png';
  const side = async (file: string): Promise<[number, number]> => {
    const { default: sharp } = await import('sharp');
    const meta = await sharp(file).metadata();
    return [meta.width ?? 0, meta.height ?? 0];
  };

  it('writes PNGs of at least 224 px by default (the demo model sees 96 px) and of --png-size when given', async () => {
    const dflt = path.join(dir, 'png-default');
    expect((await run(['cam', demo, sample, '--methods', 'gradcam', '--no-history', '--png', dflt])).status).toBe(0);
    expect(await side(path.join(dflt, 'layer4_gradcam.png'))).toEqual([224, 224]);
    const big = path.join(dir, 'png-400');
    const args = ['cam', demo, sample, '--methods', 'gradcam', '--no-history', '--png', big, '--png-size', '400'];
    expect((await run(args)).status).toBe(0);
    expect(await side(path.join(big, 'layer1_gradcam.png'))).toEqual([400, 400]);
    expect((await run([...args.slice(0, -1), 'huge'])).status).toBe(2);
  });
});

describe('layerlens cam: FinerCAM, KPCA-CAM and --eigen-smooth', () => {
  const demo = 'resources/demo/layerlens-demo.onnx';
  const sample = 'resources/demo/samples/02-circle.png';
  type Json = {
    eigenSmooth: boolean;
    augSmooth: boolean;
    cached: boolean;
    layers: Record<string, { maps: Record<string, { raw: number[][] }>; unavailable: Record<string, string> }>;
  };
  const cam = async (...extra: string[]): Promise<Json> => {
    const db = path.join(dir, 'smooth.sqlite');
    const { status, out } = await run([
      'cam',
      demo,
      sample,
      '--methods',
      'finercam,kpcacam,gradcam',
      '--json',
      '-',
      '--db',
      db,
      ...extra,
    ]);
    expect(status).toBe(0);
    return JSON.parse(out.join('\n')) as Json;
  };

  it('computes the new methods at every stage, and a smoothed run is its own run (not the plain one from the history)', async () => {
    const plain = await cam();
    expect(plain.eigenSmooth).toBe(false);
    for (const layer of Object.values(plain.layers)) {
      expect(layer.unavailable).toEqual({});
      expect(Object.keys(layer.maps).sort()).toEqual(['finercam', 'gradcam', 'kpcacam']);
    }
    const smooth = await cam('--eigen-smooth');
    expect(smooth.eigenSmooth).toBe(true);
    expect(smooth.cached).toBe(false);
    expect((await cam('--eigen-smooth')).cached).toBe(true);
    const layer4 = (j: Json, m: string) => j.layers.layer4?.maps[m]?.raw.flat() ?? [];
    // Grad-CAM and FinerCAM are channel sums, which eigen-smooth replaces; KPCA-CAM is not.
    expect(layer4(smooth, 'gradcam')).not.toEqual(layer4(plain, 'gradcam'));
    expect(layer4(smooth, 'finercam')).not.toEqual(layer4(plain, 'finercam'));
    expect(layer4(smooth, 'kpcacam')).toEqual(layer4(plain, 'kpcacam'));
    expect(layer4(plain, 'finercam')).not.toEqual(layer4(plain, 'gradcam'));
  });

  it('--aug-smooth: one more run of its own, every map averaged over the six inputs (scorecam then unavailable)', async () => {
    const plain = await cam();
    const aug = await cam('--aug-smooth');
    expect(aug).toMatchObject({ augSmooth: true, eigenSmooth: false, cached: false });
    expect((await cam('--aug-smooth')).cached).toBe(true);
    const layer4 = (j: Json, m: string) => j.layers.layer4?.maps[m]?.raw.flat() ?? [];
    for (const m of ['gradcam', 'finercam', 'kpcacam']) {
      expect(layer4(aug, m)).toHaveLength(layer4(plain, m).length);
      expect(layer4(aug, m)).not.toEqual(layer4(plain, m));
    }
    const { status, out } = await run([
      'cam',
      demo,
      sample,
      '--methods',
      'scorecam',
      '--aug-smooth',
      '--json',
      '-',
      '--no-history',
    ]);
    expect(status).toBe(0);
    expect((JSON.parse(out.join('\n')) as Json).layers.layer4?.unavailable.scorecam).toMatch(/aug-smooth applies/);
  });
});

describe('the installed bin', () => {
  const built = existsSync('out/main/cli.js');
  it.skipIf(!built)('runs as `layerlens --help` from the built bundle', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/layerlens.js', '--help']);
    expect(stdout).toMatch(/^layerlens — /);
  });
});
