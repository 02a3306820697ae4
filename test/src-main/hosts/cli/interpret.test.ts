/** `layerlens interpret`: the documented JSON contract, the run history, the text printout, one-line errors. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../../src-main/hosts/cli/main';

const MODEL = 'resources/demo/layerlens-demo.onnx';
const HELD_OUT = 'test/fixtures/demo-heldout';
const LABELS = ['circle', 'square', 'triangle', 'star', 'cross', 'hexagon'];
let dir: string;
let folder: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-interpret-cli-'));
  folder = path.join(dir, 'set');
  const index = JSON.parse(readFileSync(path.join(HELD_OUT, 'index.json'), 'utf8')) as {
    images: { file: string; class: number }[];
  };
  for (const image of index.images.slice(0, 60)) {
    mkdirSync(path.join(folder, LABELS[image.class] as string), { recursive: true });
    copyFileSync(path.join(HELD_OUT, image.file), path.join(folder, LABELS[image.class] as string, image.file));
  }
  writeFileSync(path.join(folder, 'star', 'zz-broken.png'), 'garbage');
});
afterEach(() => vi.restoreAllMocks());

async function run(args: string[]): Promise<{ status: number; out: string[]; err: string }> {
  const out: string[] = [];
  let err = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  const status = await runCli(args, (text) => out.push(text));
  vi.restoreAllMocks();
  return { status, out, err };
}

describe('layerlens interpret', () => {
  it(
    'prints the documented JSON and stores the run; asked again, it answers from the history',
    { timeout: 120_000 },
    async () => {
      const db = path.join(dir, 'runs.db');
      const args = ['interpret', MODEL, folder, '--top-losses', '3', '--methods', 'gradcam,layercam', '--json', '-', '--db', db];
      const first = await run(args);
      expect(first.status).toBe(0);
      const json = JSON.parse(first.out.join('\n')) as Record<string, unknown> & {
        predictions: { path: string; actual: number; predicted: number; loss: number }[];
        top_losses: { loss: number; maps: { predicted: { layers: Record<string, { maps: Record<string, unknown> }> } } }[];
        confusion: { classes: number[]; counts: number[][] };
        classes: { support: number }[];
        skipped: { path: string; reason: string }[];
      };
      expect(Object.keys(json).sort()).toEqual(
        [
          'accuracy',
          'batch',
          'cached',
          'cancelled',
          'class_maps',
          'class_maps_ms',
          'class_stats',
          'class_stats_ms',
          'classes',
          'confusion',
          'dataset',
          'layer',
          'layout',
          'maps_ms',
          'mean_loss',
          'methods',
          'most_confused',
          'predict_ms',
          'predicted',
          'predictions',
          'provider',
          'run',
          'skipped',
          'top_losses',
          'total',
        ].sort(),
      );
      expect(json).toMatchObject({
        layout: 'folders',
        total: 61,
        predicted: 60,
        cancelled: false,
        cached: false,
        layer: 'layer4',
        class_maps: null,
        class_stats: null,
      });
      expect(json.skipped).toEqual([
        { path: path.join(folder, 'star', 'zz-broken.png'), reason: expect.stringMatching(/zz-broken\.png/) as string },
      ]);
      const correct = json.predictions.filter((p) => p.actual === p.predicted).length;
      expect(json.accuracy).toBe(correct / 60);
      expect(json.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(60);
      expect(json.classes.reduce((a, c) => a + c.support, 0)).toBe(60);
      const losses = json.predictions.map((p) => p.loss).sort((a, b) => b - a);
      expect(json.top_losses.map((t) => t.loss)).toEqual(losses.slice(0, 3));
      expect(Object.keys(json.top_losses[0]?.maps.predicted.layers.layer4?.maps ?? {}).sort()).toEqual(['gradcam', 'layercam']);

      const again = await run(args);
      const cached = JSON.parse(again.out.join('\n')) as { cached: boolean; run: number };
      expect(cached.cached).toBe(true);
      expect(cached.run).toBe(json.run);
      const listed = await run(['runs', 'list', '--db', db]);
      expect(listed.out.join('\n')).toMatch(/interpret/);
      const shown = await run(['runs', 'show', String(json.run), '--db', db]);
      expect(shown.out.join('\n')).toMatch(/60\/61 images, accuracy/);

      // The report of the stored run: its data-set section, with no empty CAM sections.
      const file = path.join(dir, 'report.html');
      expect((await run(['report', String(json.run), '--db', db, '--out', file])).status).toBe(0);
      const report = readFileSync(file, 'utf8');
      expect(report).toContain('data-section="dataset"');
      expect(report).not.toContain('data-section="cam"');
      expect(report.match(/data-testid="top-loss"/g)).toHaveLength(3);
      // A wrong prediction shows the image and two maps (predicted and actual class), all drawn.
      const firstLoss = report.slice(report.indexOf('data-testid="top-loss"')).split('</figure>')[0] ?? '';
      expect(firstLoss.match(/src="data:image\/jpeg;base64,/g)).toHaveLength(3);
      expect(report).toContain(`${((json.accuracy as number) * 100).toFixed(1)}%`);
    },
  );

  it("prints fastai's summary: per-class table, confusion matrix, most confused, top losses", { timeout: 60_000 }, async () => {
    const { status, out } = await run(['interpret', MODEL, folder, '--top-losses', '2', '--no-history']);
    expect(status).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^60\/61 images, accuracy \d+\.\d%/);
    expect(text).toMatch(/skipped 1:\n {2}.*zz-broken\.png/);
    expect(text).toContain('confusion matrix (rows: actual, columns: predicted)');
    expect(text).toMatch(
      /top losses \(prediction\/actual\/loss\/probability\), maps: gradcam at layer4\n {2}\w+\/\w+\/\d+\.\d\d\/\d\.\d\d {2}\//,
    );
  });

  it('--class-maps and --class-stats: per actual class, in the JSON and the printout', { timeout: 120_000 }, async () => {
    const { status, out } = await run([
      'interpret',
      MODEL,
      folder,
      '--top-losses',
      '0',
      '--class-maps',
      '--class-stats',
      '--json',
      path.join(dir, 'classes.json'),
      '--db',
      path.join(dir, 'classes.db'),
    ]);
    expect(status).toBe(0);
    const json = JSON.parse(readFileSync(path.join(dir, 'classes.json'), 'utf8')) as {
      predictions: { actual: number }[];
      class_maps: { class: number; label: string; images: number; other_geometry: number; maps: Record<string, number[][]> }[];
      class_stats: { class: number; images: number; layers: Record<string, { mean: number; hist: number[]; range: number[] }> }[];
    };
    const classes = [...new Set(json.predictions.map((p) => p.actual))].sort((a, b) => a - b);
    const count = (k: number) => json.predictions.filter((p) => p.actual === k).length;
    expect(json.class_maps.map((c) => c.class)).toEqual(classes);
    for (const c of json.class_maps) {
      expect(c.label).toBe(LABELS[c.class]);
      expect(c.images).toBe(count(c.class));
      expect(c.other_geometry).toBe(0);
      const map = c.maps.gradcam as number[][];
      expect(map.length).toBeGreaterThan(1);
      expect(map.every((row) => row.length === map[0]?.length && row.every(Number.isFinite))).toBe(true);
    }
    expect(json.class_stats.map((c) => [c.class, c.images])).toEqual(classes.map((k) => [k, count(k)]));
    const layer = Object.values(json.class_stats[0]?.layers ?? {})[0];
    expect(layer?.hist).toHaveLength(40);
    expect(layer?.range).toEqual([0, 10]);
    const text = out.join('\n');
    expect(text).toMatch(/per-class mean maps \(gradcam at layer4, for the actual class\)/);
    expect(text).toMatch(/per-class activation statistics \(actual class\)/);

    // The report of the run: a mean map per class, drawn, and the statistics table per class.
    const runId = (JSON.parse(readFileSync(path.join(dir, 'classes.json'), 'utf8')) as { run: number }).run;
    const file = path.join(dir, 'classes.html');
    expect((await runCli(['report', String(runId), '--db', path.join(dir, 'classes.db'), '--out', file], () => {})) === 0).toBe(
      true,
    );
    const report = readFileSync(file, 'utf8');
    const maps = report.slice(report.indexOf('data-testid="class-maps"'));
    expect(maps.match(/data-testid="class-map"/g)).toHaveLength(classes.length);
    expect(maps.split('</div>')[0]?.match(/src="data:image\/jpeg;base64,/g)).toHaveLength(classes.length);
    const table = report.slice(report.indexOf('data-testid="class-stats"')).split('</table>')[0] ?? '';
    expect(table.match(/<tr>/g)).toHaveLength(classes.length + 1);
  });

  it('says in one line what is wrong with a data set, and documents its JSON', async () => {
    const none = await run(['interpret', MODEL, path.join(dir, 'nowhere'), '--no-history']);
    expect(none.status).toBe(1);
    expect(none.err).toMatch(/^layerlens: The data set .*nowhere does not exist\.\n$/);
    const usage = await run(['interpret', MODEL, folder, '--top-losses', '500']);
    expect(usage.status).toBe(2);
    expect(usage.err).toMatch(/--top-losses must be an integer from 0 to 64/);
    const help = await run(['help', 'interpret']);
    expect(help.out.join('\n')).toMatch(/JSON output \(stable\):[\s\S]*"most_confused"[\s\S]*"top_losses"/);
    expect(help.out.join('\n')).toMatch(/--class-maps[\s\S]*--class-stats[\s\S]*"class_maps"[\s\S]*"class_stats"/);
  });
});
