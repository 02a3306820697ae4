/** `layerlens evaluate`: the documented JSON contract, the run history, and one-line errors. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src-main/hosts/cli/main';

const MODEL = 'resources/demo/layerlens-demo.onnx';
const HELDOUT = 'test/fixtures/demo-heldout';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-evaluate-'));
});

async function run(args: string[]): Promise<{ status: number; out: string[] }> {
  const out: string[] = [];
  const status = await runCli(args, (text) => out.push(text));
  return { status, out };
}

interface Metrics {
  deletion_auc: number;
  insertion_auc: number;
  deletion: number[];
  insertion: number[];
  drop: number;
  increase: boolean;
  pointing: boolean | null;
}

describe('layerlens evaluate', () => {
  it(
    'prints the documented JSON, stores the run and answers the same question from the history',
    { timeout: 120_000 },
    async () => {
      const db = path.join(dir, 'runs.db');
      const args = [
        'evaluate',
        MODEL,
        `${HELDOUT}/000.png`,
        `${HELDOUT}/004.png`,
        '--methods',
        'gradcam,layercam',
        '--layers',
        'layer3,layer4',
        '--steps',
        '5',
        '--boxes',
        `${HELDOUT}/index.json`,
        '--sanity',
        '--db',
        db,
        '--json',
        '-',
      ];
      const first = await run(args);
      expect(first.status).toBe(0);
      const json = JSON.parse(first.out.join('\n'));
      expect(Object.keys(json).sort()).toEqual(
        [
          'baseline',
          'cached',
          'class',
          'images',
          'methods',
          'model',
          'provider',
          'ranking',
          'run',
          'sanity',
          'seed',
          'steps',
          'summary',
          'timings',
        ].sort(),
      );
      expect(json).toMatchObject({
        model: 'layerlens-demo.onnx',
        steps: 5,
        class: 'top',
        baseline: { kind: 'blur', sigma: 5 },
        cached: false,
      });
      expect(json.images.map((i: { file: string }) => i.file)).toEqual(['000.png', '004.png']);
      const image = json.images[0];
      expect(image.box).toEqual([27, 3, 81, 55]); // the demo's images are the input's size: the box is unchanged
      expect(image.pointing_chance).toBeCloseTo((54 * 52) / (96 * 96), 9);
      const layer = image.layers.layer4;
      for (const m of [layer.methods.gradcam, layer.methods.layercam, layer.random] as Metrics[]) {
        expect(Object.keys(m).sort()).toEqual([
          'deletion',
          'deletion_auc',
          'drop',
          'increase',
          'insertion',
          'insertion_auc',
          'pointing',
        ]);
        expect(m.deletion).toHaveLength(6);
        expect(m.deletion[0]).toBeCloseTo(image.prob, 6);
        expect(m.insertion[5]).toBeCloseTo(image.prob, 6);
        expect(typeof m.pointing).toBe('boolean');
      }
      expect(json.summary.layer3.methods.gradcam).toHaveProperty('average_drop');
      expect(json.ranking).toHaveLength(4);
      expect(json.ranking[0].deletion_auc).toBeLessThanOrEqual(json.ranking[3].deletion_auc);
      expect(json.sanity.modules.map((m: { label: string }) => m.label)).toEqual([
        'head',
        'layer4',
        'layer3',
        'layer2',
        'layer1',
        'stem',
      ]);
      expect(json.sanity.layers.layer4.methods.gradcam.cascading.spearman).toHaveLength(6);
      expect(json.sanity.layers.layer4.methods.gradcam.independent.ssim).toHaveLength(6);
      expect(['pass', 'unclear', 'fail']).toContain(json.sanity.verdicts.gradcam);
      // Per image: the clean and baseline images and 2 × 4 steps + the masked image for each of 3 maps on
      // 2 layers, less the images maps share (scored once).
      expect(json.timings.forward_passes).toBeLessThanOrEqual(2 * (2 + 2 * 3 * (2 * 4 + 1)));
      expect(json.timings.forward_passes).toBeGreaterThan(2 * (2 + 2 * (2 * 4 + 1)));

      const again = await run(args);
      const cached = JSON.parse(again.out.join('\n'));
      expect(cached).toMatchObject({ cached: true, run: json.run });
      expect(cached.summary).toEqual(json.summary);
      const shown = await run(['runs', 'show', String(json.run), '--db', db, '--json']);
      expect(JSON.parse(shown.out.join('\n'))).toMatchObject({ kind: 'trust', result: { summary: json.summary } });
    },
  );

  it('runs the sanity check of AblationCAM with the randomised weights fed to its passes', { timeout: 120_000 }, async () => {
    const r = await run([
      'evaluate',
      MODEL,
      `${HELDOUT}/002.png`,
      '--methods',
      'ablationcam,gradcam',
      '--layers',
      'layer4',
      '--sanity',
      '--no-faithfulness',
      '--no-history',
      '--json',
      '-',
    ]);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.out.join('\n'));
    const layer = json.sanity.layers.layer4;
    expect(layer.unavailable).toEqual({});
    expect(layer.methods.ablationcam.cascading.spearman).toHaveLength(6);
    expect(layer.methods.ablationcam.independent.ssim).toHaveLength(6);
    expect(['pass', 'unclear', 'fail']).toContain(json.sanity.verdicts.ablationcam);
  });

  it('writes the JSON to a file and a table to stdout', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'trust.json');
    const r = await run([
      'evaluate',
      MODEL,
      `${HELDOUT}/001.png`,
      '--methods',
      'gradcam',
      '--steps',
      '4',
      '--baseline',
      'zero',
      '--no-history',
      '--json',
      out,
    ]);
    expect(r.status).toBe(0);
    expect(r.out[0]).toMatch(/^layer\s+method\s+deletion\s+insertion\s+avg drop/);
    expect(r.out.some((line) => line.includes('(random map)'))).toBe(true);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ baseline: { kind: 'zero' }, sanity: null });
  });

  it('is documented in help, with its JSON contract', async () => {
    const { out } = await run(['help', 'evaluate']);
    const text = out.join('\n');
    for (const key of [
      'deletion_auc',
      'insertion_auc',
      'average_drop',
      'increase_in_confidence',
      'pointing_chance',
      'cascading',
      'independent',
      'verdict',
      'ranking',
    ])
      expect(text).toContain(`"${key}"`);
  });

  it('bad usage exits 2, a bad input 1, each with one line', async () => {
    expect((await run(['evaluate', MODEL])).status).toBe(2);
    expect((await run(['evaluate', MODEL, `${HELDOUT}/000.png`, '--steps', '1'])).status).toBe(2);
    expect((await run(['evaluate', MODEL, `${HELDOUT}/000.png`, '--no-faithfulness'])).status).toBe(2);
    expect((await run(['evaluate', MODEL, `${HELDOUT}/000.png`, '--boxes', MODEL])).status).toBe(2);
    expect((await run(['evaluate', MODEL, path.join(dir, 'missing.png'), '--no-history'])).status).toBe(1);
  });
});
