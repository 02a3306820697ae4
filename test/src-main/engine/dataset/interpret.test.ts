/**
 * The data-set interpretation on the demo model over a labelled folder built from the committed held-out
 * images (labels known): every number against a direct computation from single-image predictions, the top
 * losses against the true highest losses, their maps against the single-image CAM run, and the faults a
 * user makes (empty folder, names that match nothing, unreadable images, a CSV naming a missing file).
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelId } from '../../../../src-shared/api';
import { imageAt, type InterpretResponse } from '../../../../src-shared/dataset';
import { CamItemsRunner } from '../../../../src-main/engine/cam/cam-items';
import { CamRunner } from '../../../../src-main/engine/cam/cam-runner';
import { Engine } from '../../../../src-main/engine/engine';
import { loadLabelledSet, type LabelledImage } from '../../../../src-main/engine/labelled-set';
import { expectSameMaps } from '../../../helpers/map-compare';

const HELD_OUT = 'test/fixtures/demo-heldout';
let engine: Engine;
let modelId: ModelId;
let labels: string[];
let images: LabelledImage[];
let folder: string;
let root: string;

/** −ln softmax(logits)[c] in float64, written out here rather than taken from the engine. */
function directLoss(logits: Float32Array, c: number): number {
  const xs = Array.from(logits);
  const max = Math.max(...xs);
  const lse = max + Math.log(xs.reduce((s, x) => s + Math.exp(x - max), 0));
  return lse - (xs[c] as number);
}

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu', database: ':memory:' });
  const model = await engine.openModelPath({ path: 'resources/demo/layerlens-demo.onnx' });
  modelId = model.id;
  labels = model.labels as string[];
  images = await loadLabelledSet(path.join(HELD_OUT, 'index.json'));
  root = mkdtempSync(path.join(os.tmpdir(), 'layerlens-dataset-'));
  folder = path.join(root, 'heldout');
  for (const image of images) {
    const dir = path.join(folder, labels[image.classIndex] as string);
    mkdirSync(dir, { recursive: true });
    copyFileSync(image.file, path.join(dir, path.basename(image.file)));
  }
  // Unreadable images among good ones: skipped, listed, counted.
  writeFileSync(path.join(folder, labels[0] as string, 'broken.png'), 'not a png');
  writeFileSync(path.join(folder, labels[1] as string, 'empty.jpg'), '');
});
afterAll(() => engine.dispose());

const interpret = (dataset: string, topLosses = 6, jobId = 'job'): Promise<InterpretResponse> =>
  engine.interpretDataset({ modelId, dataset, topLosses, layer: null, methods: ['gradcam'], jobId });

describe('interpretDataset on the demo held-out folder', () => {
  let result: InterpretResponse;
  const direct = new Map<string, { predicted: number; loss: number; actual: number }>();

  beforeAll(async () => {
    result = await interpret(folder);
    for (const image of images) {
      const p = await engine.predict({ modelId, image: { kind: 'path', path: image.file } });
      let predicted = 0;
      p.logits.forEach((x, i) => {
        if (x > (p.logits[predicted] as number)) predicted = i;
      });
      direct.set(path.basename(image.file), {
        predicted,
        loss: directLoss(p.logits, image.classIndex),
        actual: image.classIndex,
      });
    }
  }, 120_000);

  it('predicts every readable image once and lists the unreadable ones', () => {
    expect(result.total).toBe(images.length + 2);
    expect(result.images.paths).toHaveLength(images.length);
    expect(result.skipped.map((s) => path.basename(s.path)).sort()).toEqual(['broken.png', 'empty.jpg']);
    expect(result.skipped.every((s) => s.reason.length > 10)).toBe(true);
    expect(result.layout).toBe('folders');
  });

  it("agrees with a direct computation: each image's class and loss, the accuracy, the confusion matrix", () => {
    const counts = new Map<string, number>();
    let correct = 0;
    result.images.paths.forEach((file, i) => {
      const got = imageAt(result.images, i);
      const want = direct.get(path.basename(file));
      expect(want, file).toBeDefined();
      expect(got.actual).toBe(want?.actual);
      expect(got.predicted).toBe(want?.predicted);
      // Batched and single runs differ in float32 rounding only.
      expect(Math.abs(got.loss - (want?.loss as number))).toBeLessThan(1e-4 * Math.max(1, want?.loss as number));
      expect(got.probActual).toBeCloseTo(Math.exp(-(want?.loss as number)), 5);
    });
    for (const d of direct.values()) {
      counts.set(`${d.actual},${d.predicted}`, (counts.get(`${d.actual},${d.predicted}`) ?? 0) + 1);
      if (d.actual === d.predicted) correct++;
    }
    expect(result.accuracy).toBe(correct / images.length);
    const n = result.confusion.classes.length;
    expect(result.confusion.classes).toEqual(labels.map((_, i) => i));
    for (let a = 0; a < n; a++)
      for (let p = 0; p < n; p++) expect(result.confusion.counts[a * n + p], `${a}→${p}`).toBe(counts.get(`${a},${p}`) ?? 0);
    for (const c of result.perClass) {
      const support = [...direct.values()].filter((d) => d.actual === c.class).length;
      const predicted = [...direct.values()].filter((d) => d.predicted === c.class).length;
      const hits = [...direct.values()].filter((d) => d.actual === c.class && d.predicted === c.class).length;
      expect(c).toMatchObject({ support, predictedCount: predicted, correct: hits, label: labels[c.class] });
      expect(c.recall).toBe(hits / support);
      expect(c.precision).toBe(predicted ? hits / predicted : null);
    }
    const confusedPairs = [...counts.entries()].filter(([k]) => k.split(',')[0] !== k.split(',')[1]);
    expect(result.mostConfused.map((p) => p.count).reduce((a, b) => a + b, 0)).toBe(confusedPairs.reduce((a, [, c]) => a + c, 0));
    expect(result.mostConfused.map((p) => p.count)).toEqual([...result.mostConfused.map((p) => p.count)].sort((a, b) => b - a));
  });

  it('top losses are the truly highest-loss images, highest first', () => {
    const byLoss = [...direct.entries()].sort((a, b) => b[1].loss - a[1].loss).slice(0, 6);
    expect(result.topLosses.map((t) => path.basename(result.images.paths[t.index] as string))).toEqual(byLoss.map(([f]) => f));
  });

  it("the top losses' Grad-CAMs for predicted and actual class equal the single-image CAM run's", async () => {
    expect(result.layer).toBe('layer4');
    for (const t of result.topLosses) {
      const image = imageAt(result.images, t.index);
      for (const [which, classIndex] of [
        ['predicted', image.predicted],
        ['actual', image.actual],
      ] as const) {
        const got = which === 'predicted' ? t.predicted : t.actual;
        if (which === 'actual' && image.actual === image.predicted) {
          expect(got).toBeNull();
          continue;
        }
        const single = await engine.computeCam({
          modelId,
          image: { kind: 'path', path: image.path },
          layers: ['layer4'],
          methods: ['gradcam'],
          classIndex,
          counterfactual: false,
          jobId: `single-${t.index}-${which}`,
        });
        expect(got?.classIndex).toBe(classIndex);
        expectSameMaps(got?.layers[0]?.maps.gradcam?.data, single.result.layers[0]?.maps.gradcam?.data);
      }
      expect(t.modelView.mime).toBe('image/png');
    }
  });

  it("takes every top loss's maps from forked runs, equal to the single runs' for both classes of a wrong image and beyond Grad-CAM", async () => {
    const methods = ['gradcam', 'gradcam++', 'layercam', 'eigencam'] as const;
    const forked = vi.spyOn(CamItemsRunner.prototype, 'run');
    const single = vi.spyOn(CamRunner.prototype, 'run');
    const got = await engine.interpretDataset({
      modelId,
      dataset: folder,
      topLosses: 6,
      layer: null,
      methods: [...methods],
      jobId: 'forked',
    });
    // One forked run for the six images, no single run.
    expect(forked).toHaveBeenCalledTimes(1);
    expect(await forked.mock.results[0]?.value).not.toBeNull();
    expect(single).not.toHaveBeenCalled();
    forked.mockRestore();
    single.mockRestore();
    const wrong = got.topLosses.filter((t) => t.actual !== null);
    expect(wrong.length).toBeGreaterThan(0);
    for (const t of got.topLosses) {
      const image = imageAt(got.images, t.index);
      for (const [which, classIndex] of [
        ['predicted', image.predicted],
        ['actual', image.actual],
      ] as const) {
        const mine = which === 'predicted' ? t.predicted : t.actual;
        if (which === 'actual' && image.actual === image.predicted) continue;
        const alone = await engine.computeCam({
          modelId,
          image: { kind: 'path', path: image.path },
          layers: ['layer4'],
          methods: [...methods],
          classIndex,
          counterfactual: false,
          jobId: `alone-${t.index}-${which}`,
        });
        // Everything else exactly; the maps and logits to rounding (a batch of items sums over channels, and
        // the head's matrix product over rows, in another order than one item does).
        const { timings: _a, logits, ...rest } = mine as NonNullable<typeof mine>;
        const { timings: _b, logits: ownLogits, ...own } = alone.result;
        expectSameMaps(rest, own);
        logits.forEach((x, i) => expect(x).toBeCloseTo(ownLogits[i] as number, 5));
        for (const m of methods) expect(mine?.layers[0]?.maps[m]?.data.length).toBe(36);
      }
    }
  });

  it('is a run of the history that reopens as it was, and is answered from it when asked again', async () => {
    expect(result.run).not.toBeNull();
    const again = await interpret(folder);
    expect(again.cached).toBe(true);
    expect(again.run).toBe(result.run);
    const opened = await engine.openRun({ id: result.run as NonNullable<typeof result.run> });
    expect(opened.summary.kind).toBe('interpret');
    expect(opened.interpret?.accuracy).toBe(result.accuracy);
    expect(Array.from(opened.interpret?.images.loss ?? [])).toEqual(Array.from(result.images.loss));
  });
});

describe('interpretDataset faults: a clear message, the rest of the run intact', () => {
  it('an empty folder', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'layerlens-empty-'));
    await expect(interpret(empty)).rejects.toThrow(/has no images/);
  });

  it('class folders whose names match nothing, naming the first few', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-names-'));
    for (const name of ['cats', 'dogs', 'birds']) {
      mkdirSync(path.join(dir, name));
      copyFileSync(images[0]?.file as string, path.join(dir, name, 'a.png'));
    }
    await expect(interpret(dir)).rejects.toThrow(
      /3 class folders "birds", "cats", "dogs" match none of the model's classes \(circle/,
    );
  });

  it('a CSV naming a missing file: listed and counted, every other row scored (labels by name or index, header row)', async () => {
    const csv = path.join(root, 'labels.csv');
    const rows = images
      .slice(0, 20)
      .map((im, i) => `${path.relative(root, im.file)},${i % 2 ? labels[im.classIndex] : im.classIndex}`);
    writeFileSync(csv, ['path,label', ...rows, 'nowhere/missing.png,circle'].join('\n'));
    const result = await interpret(csv, 2, 'csv');
    expect(result.layout).toBe('csv');
    expect(result.total).toBe(21);
    expect(result.images.paths).toHaveLength(20);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.reason).toMatch(/labels\.csv line 22 names nowhere\/missing\.png, which does not exist/);
    expect(Array.from(result.images.actual)).toEqual(images.slice(0, 20).map((im) => im.classIndex));
    expect(result.topLosses).toHaveLength(2);
  });

  it('a CSV label that matches nothing', async () => {
    const csv = path.join(root, 'bad-labels.tsv');
    writeFileSync(csv, `${path.relative(root, images[0]?.file as string)}\tpentagon\n`);
    await expect(interpret(csv)).rejects.toThrow(/The label "pentagon" matches none of the model's classes/);
  });

  it('a stage that does not exist fails before the prediction pass', async () => {
    await expect(
      engine.interpretDataset({ modelId, dataset: folder, topLosses: 1, layer: 'layer9', methods: ['gradcam'], jobId: 'x' }),
    ).rejects.toThrow(/no module or tensor named "layer9"/);
  });

  it('cancelled: the partial result is kept as a cancelled run, and resuming completes it', async () => {
    const job = 'cancel-me';
    const pending = engine.interpretDataset(
      { modelId, dataset: folder, topLosses: 3, layer: null, methods: ['gradcam', 'layercam'], jobId: job },
      {
        progress: (event) => {
          if (event.layer === 'images' && event.done >= 16) void engine.cancelJob({ jobId: job });
        },
      },
    );
    const partial = await pending;
    expect(partial.cancelled).toBe(true);
    expect(partial.images.paths.length).toBeGreaterThan(0);
    expect(partial.images.paths.length).toBeLessThan(images.length);
    expect(partial.topLosses).toEqual([]);
    const run = partial.run as NonNullable<typeof partial.run>;
    expect((await engine.openRun({ id: run })).summary.status).toBe('cancelled');
    const resumed = await engine.resumeRun({ id: run, jobId: 'resume' });
    expect(resumed.summary.status).toBe('complete');
    expect(resumed.interpret?.images.paths).toHaveLength(images.length);
    expect(resumed.interpret?.topLosses).toHaveLength(3);
  });
});
