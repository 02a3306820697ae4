/**
 * Per-class mean maps and per-class activation statistics on the demo model, over a labelled folder of
 * held-out images (four per class): each class's mean map equals the mean of the single-image CAM runs of
 * its images for that class, and each class's statistics equal the statistics engine run on that class's
 * images alone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelId } from '../../../../src-shared/api';
import type { InterpretResponse } from '../../../../src-shared/dataset';
import { Engine } from '../../../../src-main/engine/engine';
import { loadLabelledSet } from '../../../../src-main/engine/labelled-set';

const PER_CLASS = 4;
let engine: Engine;
let modelId: ModelId;
let root: string;
/** The images of each class, by class index. */
const byClass = new Map<number, string[]>();
let result: InterpretResponse;

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu', database: ':memory:' });
  const model = await engine.openModelPath({ path: 'resources/demo/layerlens-demo.onnx' });
  modelId = model.id;
  const labels = model.labels as string[];
  root = mkdtempSync(path.join(os.tmpdir(), 'layerlens-class-maps-'));
  for (const image of await loadLabelledSet('test/fixtures/demo-heldout/index.json')) {
    const files = byClass.get(image.classIndex) ?? [];
    if (files.length === PER_CLASS) continue;
    const dir = path.join(root, labels[image.classIndex] as string);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, path.basename(image.file));
    copyFileSync(image.file, file);
    byClass.set(image.classIndex, [...files, file]);
  }
  result = await engine.interpretDataset({
    modelId,
    dataset: root,
    topLosses: 2,
    layer: 'layer3',
    methods: ['gradcam', 'layercam'],
    classMaps: true,
    classStats: true,
    jobId: 'class-maps',
  });
}, 120_000);
afterAll(() => {
  engine.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('per-class mean maps', () => {
  it("equal the mean of each class's single-image CAM runs for that class", async () => {
    const maps = result.classMaps ?? [];
    expect(maps.map((c) => c.class)).toEqual([...byClass.keys()].sort((a, b) => a - b));
    for (const c of maps) {
      const files = byClass.get(c.class) as string[];
      expect(c.images).toBe(files.length);
      expect(c.otherGeometry).toBe(0);
      for (const method of ['gradcam', 'layercam'] as const) {
        const singles: Float32Array[] = [];
        for (const file of files) {
          const single = await engine.computeCam({
            modelId,
            image: { kind: 'path', path: file },
            layers: ['layer3'],
            methods: [method],
            classIndex: c.class,
            counterfactual: false,
            jobId: `single-${method}`,
          });
          singles.push(single.result.layers[0]?.maps[method]?.data as Float32Array);
        }
        const got = c.maps[method];
        expect(got?.width).toBeGreaterThan(1);
        const mean = Array.from(
          singles[0] as Float32Array,
          (_, i) => singles.reduce((s, m) => s + (m[i] as number), 0) / singles.length,
        );
        const scale = Math.max(...mean.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        const worst = Math.max(...mean.map((v, i) => Math.abs(v - (got?.data[i] as number))));
        // float64 sums of float32 maps, rounded once to float32.
        expect(worst / scale).toBeLessThan(1e-6);
      }
    }
  });

  it('are off by default', async () => {
    const plain = await engine.interpretDataset({
      modelId,
      dataset: root,
      topLosses: 0,
      layer: null,
      methods: ['gradcam'],
      jobId: 'plain',
    });
    expect(plain.classMaps ?? null).toBeNull();
    expect(plain.classStats ?? null).toBeNull();
  });
});

describe('per-class activation statistics', () => {
  it("equal the statistics engine's over that class's images alone", async () => {
    const stats = result.classStats ?? [];
    expect(stats.map((c) => c.class)).toEqual([...byClass.keys()].sort((a, b) => a - b));
    const model = engine.models.get(modelId);
    for (const c of stats) {
      const files = byClass.get(c.class) as string[];
      const alone = await engine.statsFiles(model, files, {
        layers: null,
        includeParamless: false,
        bins: 40,
        range: { kind: 'fixed', lo: 0, hi: 10 },
      });
      expect(c.images).toBe(files.length);
      expect(c.layers.map((l) => l.label)).toEqual(alone.layers.map((l) => l.label));
      c.layers.forEach((l, k) => {
        const s = (alone.layers[k] as (typeof alone.layers)[number]).stats;
        expect(l.mean).toBeCloseTo(s.mean, 12);
        expect(l.std).toBeCloseTo(s.std, 12);
        expect(l.nearZero).toBeCloseTo(s.nearZero, 12);
        expect(Array.from(l.hist)).toEqual(s.hist);
        expect(l.perImage).toHaveLength(files.length);
      });
    }
    // Classes differ: the check would catch statistics taken over the whole set.
    const means = stats.map((c) => c.layers.at(-1)?.mean as number);
    expect(new Set(means.map((m) => m.toFixed(6))).size).toBe(means.length);
  });
});
