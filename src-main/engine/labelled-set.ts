/**
 * A labelled image set (index.json: {"images": [{"file", "class", "box"?}]}) and the accuracy of a model
 * on it — how the demo model's held-out accuracy is measured, with the same engine users run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import type { Engine } from './engine';
import type { OpenModel } from './model-registry';

const indexSchema = v.object({
  images: v.array(
    v.object({
      file: v.string(),
      class: v.pipe(v.number(), v.integer(), v.minValue(0)),
      box: v.optional(v.tuple([v.number(), v.number(), v.number(), v.number()])),
    }),
  ),
});

export interface LabelledImage {
  file: string;
  classIndex: number;
  box: [number, number, number, number] | null;
}

export async function loadLabelledSet(indexFile: string): Promise<LabelledImage[]> {
  const dir = path.dirname(path.resolve(indexFile));
  const index = v.parse(indexSchema, JSON.parse(await readFile(indexFile, 'utf8')));
  return index.images.map((image) => ({ file: path.resolve(dir, image.file), classIndex: image.class, box: image.box ?? null }));
}

export interface AccuracyReport {
  total: number;
  correct: number;
  accuracy: number;
  /** Images whose top class was wrong, for a human to look at. */
  misses: { file: string; expected: number; predicted: number }[];
}

export async function measureAccuracy(engine: Engine, model: OpenModel, images: LabelledImage[]): Promise<AccuracyReport> {
  const misses: AccuracyReport['misses'] = [];
  for (const image of images) {
    const resolved = await engine.resolveImage({ kind: 'path', path: image.file });
    const prediction = await engine.predictTensor(model, resolved, 1);
    const predicted = prediction.top[0]?.class ?? -1;
    if (predicted !== image.classIndex) misses.push({ file: image.file, expected: image.classIndex, predicted });
  }
  const correct = images.length - misses.length;
  return { total: images.length, correct, accuracy: images.length ? correct / images.length : 0, misses };
}
