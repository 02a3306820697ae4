/**
 * Every image of a data set through the plain model, streamed batch by batch: only each image's outcome (classes, probabilities, loss) is kept, so memory stays flat however
 * many images. Batches are used where the model's batch dimension is free and where they are faster: the
 * first runs time one image per run against full batches (BatchChooser), since a small model can run
 * slower batched (the demo model on two cores: 16 per run at ~0.8× the images per second of one per run).
 * A model whose graph turns out to fix the batch anyway (a Reshape to 1 × …) falls back to one image per
 * run. Cancelling keeps what was done.
 */
import type { ModelSession } from '../inference/session-pool';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { DatasetPrediction, SkippedImage } from '../../../src-shared/dataset';
import { EngineError, describeError } from '../errors';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import type { LabelledFile } from './labelled-images';

/** How much less time per image one image per run must take to be chosen over full batches. */
const CLEARLY_FASTER = 0.9;

/** Beyond this, larger batches gained nothing on the demo model (bench/interpret.bench.ts). */
export const MAX_PREDICT_BATCH = 16;

/**
 * The batch size of the pass: `max`, or one image per run where that is clearly faster. The first chunks
 * probe both, three runs each and in turn (so a busy spell of the machine weighs on both; each size's
 * first run, which allocates, is not counted), and the rest use the choice. The probes are real images, so
 * probing costs only their runs at the slower size. One run of each (as before) picked one image per run
 * for the demo model at load 4 while full batches ran 1.2× faster.
 */
export class BatchChooser {
  private readonly probes: number[];
  private readonly timings = new Map<number, number[]>();
  private chosen: number | null;

  constructor(private readonly max: number) {
    this.probes = max > 1 ? [1, max, 1, max, 1, max] : [];
    this.chosen = max > 1 ? null : 1;
  }

  /** The size of the next chunk. */
  next(): number {
    return this.chosen ?? (this.probes[0] as number);
  }

  /** A run of `size` images took `ms` (only probes count). */
  record(size: number, ms: number): void {
    if (this.chosen !== null || this.probes[0] !== size) return;
    this.probes.shift();
    const seen = this.timings.get(size) ?? [];
    this.timings.set(size, [...seen, ms / size]);
    if (this.probes.length > 0) return;
    // Per image, the best run of each size after its first: the least disturbed by anything else running.
    const best = (n: number): number => Math.min(...(this.timings.get(n) ?? [Infinity]).slice(1));
    // One image per run only when clearly faster: within the noise of a few runs the full batch is kept (on
    // the demo model the two sizes are close, and the probes picked the slower one in 2 of 6 passes at load 3).
    this.chosen = best(1) < CLEARLY_FASTER * best(this.max) ? 1 : this.max;
  }

  /** The graph fixes the batch after all. */
  fix(size: number): void {
    this.chosen = size;
  }

  /** The size chosen (null while probing). */
  get size(): number | null {
    return this.chosen;
  }
}

export interface PassDeps {
  session: PooledSession;
  load(file: string): Promise<InputTensor>;
  /** Whether the model's output is already probabilities (it ends in Softmax). */
  outputsProbabilities: boolean;
  /**
   * Called with every predicted image while its decoded input is at hand (the per-class maps and the top
   * losses' inputs are taken here, so no image is decoded twice); `index` is its place in `images`.
   */
  visit?(index: number, image: DatasetPrediction, input: InputTensor): Promise<void>;
}

export interface PassResult {
  images: DatasetPrediction[];
  skipped: SkippedImage[];
  cancelled: boolean;
  batch: number;
  ms: number;
}

type Loaded = { file: LabelledFile; tensor: InputTensor } | { file: LabelledFile; reason: string };

export async function predictImages(
  deps: PassDeps,
  model: OpenModel,
  files: LabelledFile[],
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
  maxBatch = MAX_PREDICT_BATCH,
): Promise<PassResult> {
  const started = performance.now();
  const declared = model.summary.inputs[0]?.shape[0];
  const chooser = new BatchChooser(typeof declared === 'number' && declared > 0 ? 1 : Math.max(1, maxBatch));
  const outputName = model.summary.outputs[0]?.name;
  if (!outputName) throw new EngineError('bad-model', `${model.summary.name} declares no output.`);
  const images: DatasetPrediction[] = [];
  const skipped: SkippedImage[] = [];
  const loadChunk = (start: number, size: number): Promise<Loaded[]> =>
    Promise.all(
      files.slice(start, start + size).map((file) =>
        deps.load(file.path).then(
          (tensor): Loaded => ({ file, tensor }),
          (error: unknown): Loaded => ({ file, reason: describeError(error) }),
        ),
      ),
    );
  let cancelled = false;
  let start = 0;
  while (start < files.length) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    // Decoded, then run, in turn: decoding the next batch during the run made both slower on two cores
    // (onnxruntime's threads and sharp's compete; the pass took ~1.8× plain inference's time).
    const planned = chooser.next();
    const chunk = await loadChunk(start, planned);
    const size = chunk.length;
    const good: { file: LabelledFile; tensor: InputTensor }[] = [];
    for (const item of chunk) {
      if ('reason' in item) skipped.push({ path: item.file.path, reason: item.reason });
      else good.push(item);
    }
    let rows: Float32Array[];
    try {
      const run = performance.now();
      rows = await runBatch(deps.session.session, model, outputName, good);
      if (good.length === planned) chooser.record(planned, performance.now() - run);
    } catch (error) {
      if (good.length < 2) throw error;
      // The graph fixes the batch after all: one image per run from now on.
      chooser.fix(1);
      rows = [];
      for (const item of good) rows.push(...(await runBatch(deps.session.session, model, outputName, [item])));
    }
    for (const [i, item] of good.entries()) {
      const image = outcome(model, item.file, rows[i] as Float32Array, deps.outputsProbabilities);
      images.push(image);
      await deps.visit?.(images.length - 1, image, item.tensor);
    }
    start += size;
    onProgress?.(start, files.length);
  }
  return { images, skipped, cancelled, batch: chooser.size ?? chooser.next(), ms: performance.now() - started };
}

/** One run over `items` (all of one shape): one row of class scores per image. */
async function runBatch(
  session: ModelSession,
  model: OpenModel,
  outputName: string,
  items: { file: LabelledFile; tensor: InputTensor }[],
): Promise<Float32Array[]> {
  const first = items[0];
  if (!first) return [];
  const one = first.tensor.data.length;
  const data = new Float32Array(one * items.length);
  items.forEach((item, i) => {
    if (item.tensor.data.length !== one) {
      throw new EngineError('bad-input', `${item.file.path} gives another input size than ${first.file.path}.`);
    }
    data.set(item.tensor.data, i * one);
  });
  const shape = [items.length, ...first.tensor.shape.slice(1)];
  let output: ort.Tensor;
  try {
    const results = await session.run({ [first.tensor.name]: new ort.Tensor('float32', data, shape) }, [outputName]);
    output = results[outputName] as ort.Tensor;
  } catch (error) {
    throw new EngineError('inference-failed', `Running ${model.summary.name} failed: ${describeError(error).split('\n')[0]}`);
  }
  if (output.type !== 'float32') {
    throw new EngineError(
      'unsupported',
      `${model.summary.name}'s output ${outputName} is ${output.type}, not float32 class scores.`,
    );
  }
  const all = output.data as Float32Array;
  const per = all.length / items.length;
  if (Number(output.dims[0]) !== items.length || !Number.isInteger(per)) {
    throw new EngineError(
      'unsupported',
      `${model.summary.name}'s output ${outputName} has shape [${output.dims.join(', ')}] for ${items.length} images, not one row of class scores each.`,
    );
  }
  const rows = items.map((_, i) => all.slice(i * per, (i + 1) * per));
  output.dispose();
  return rows;
}

/** The predicted class (highest score, lowest index on ties) and the cross-entropy of the actual one, in float64. */
export function outcome(
  model: OpenModel,
  file: LabelledFile,
  scores: Float32Array,
  outputsProbabilities: boolean,
): DatasetPrediction {
  if (file.actual >= scores.length) {
    throw new EngineError(
      'bad-input',
      `${file.path} is labelled class ${file.actual}, but ${model.summary.name} outputs ${scores.length} classes.`,
    );
  }
  let predicted = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[predicted] as number)) predicted = i;
  let logNorm: number;
  if (outputsProbabilities) {
    logNorm = 0;
  } else {
    const max = scores[predicted] as number;
    let sum = 0;
    for (const s of scores) sum += Math.exp(s - max);
    logNorm = max + Math.log(sum);
  }
  const logProb = (c: number): number =>
    outputsProbabilities ? Math.log(Math.max(scores[c] as number, Number.MIN_VALUE)) : (scores[c] as number) - logNorm;
  const logActual = logProb(file.actual);
  return {
    path: file.path,
    actual: file.actual,
    predicted,
    loss: -logActual,
    probPredicted: Math.exp(logProb(predicted)),
    probActual: Math.exp(logActual),
  };
}
