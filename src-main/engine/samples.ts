/** The demo's sample gallery: images with their ground-truth class and object box (resources/demo/samples.json). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import type { Sample } from '../../src-shared/api';

const box = v.tuple([v.number(), v.number(), v.number(), v.number()]);
const samplesFileSchema = v.object({
  model: v.string(),
  samples: v.array(v.object({ file: v.string(), class: v.number(), label: v.string(), box })),
});

export interface SampleSet {
  modelPath: string;
  samples: Sample[];
  /** Absolute file of each sample, by id. */
  files: Map<string, string>;
}

export async function loadSampleSet(indexFile: string): Promise<SampleSet> {
  const dir = path.resolve(path.dirname(indexFile));
  const parsed = v.parse(samplesFileSchema, JSON.parse(await readFile(indexFile, 'utf8')));
  const files = new Map<string, string>();
  const samples = parsed.samples.map((s): Sample => {
    const id = path.basename(s.file).replace(/\.[^.]+$/, '');
    const absolute = path.resolve(dir, s.file);
    // The index is ours, but still never let it point outside its folder.
    if (!absolute.startsWith(dir + path.sep)) throw new Error(`sample ${s.file} lies outside ${dir}`);
    files.set(id, absolute);
    return { id, file: s.file, classIndex: s.class, label: s.label, box: s.box };
  });
  return { modelPath: path.resolve(dir, parsed.model), samples, files };
}
