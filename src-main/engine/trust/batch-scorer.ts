/**
 * Class probabilities of many perturbed copies of one input, in batches: the next batch is written while
 * onnxruntime runs the current one, so building the images costs little beyond the forward passes.
 * A model exported with a fixed batch of 1 is run one image at a time.
 */
import type { ModelSession } from '../inference/session-pool';
import * as ort from 'onnxruntime-node';
import { EngineError, describeError } from '../errors';
import { throwIfCancelled } from '../cam/perturbation';

/** The best batch size for CPU inference of small models measured by `npm run bench -- trust`. */
export const TRUST_BATCH = 64;

export interface ScorerTarget {
  session: ModelSession;
  inputName: string;
  outputName: string;
  /** The one-image input shape, [1, …]. */
  inputShape: number[];
  /** Whether the output is already probabilities (the model ends in Softmax). */
  outputIsProbability: boolean;
}

export interface Progress {
  (done: number, total: number): void;
}

/** Softmax of row `row` of `logits` (rows of `classes`), evaluated at `classIndex`. */
export function rowProbability(logits: Float32Array, row: number, classes: number, classIndex: number): number {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[row * classes + j] as number);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp((logits[row * classes + j] as number) - max);
  return Math.exp((logits[row * classes + classIndex] as number) - max) / sum;
}

export class BatchScorer {
  private batch: number;
  forwardPasses = 0;

  constructor(
    private readonly target: ScorerTarget,
    batch = TRUST_BATCH,
  ) {
    this.batch = Math.max(1, batch);
  }

  /**
   * p(classIndex) for `count` images, image i written into its slot by fill(i, out, previous), where
   * `previous` is image i − 1 as written (null for the first, or when it is no longer at hand).
   */
  async probabilities(
    count: number,
    fill: (i: number, out: Float32Array, previous: Float32Array | null) => void,
    classIndex: number,
    signal?: AbortSignal,
    onProgress?: Progress,
  ): Promise<Float32Array> {
    const { inputShape } = this.target;
    const size = inputShape.slice(1).reduce((a, b) => a * b, 1);
    const probs = new Float32Array(count);
    // Two full-batch buffers in turn: one is being run while the other is written (a buffer is written
    // again only after its run was awaited); a shorter last batch gets its own.
    const buffers: Float32Array[] = [];
    let turn = 0;
    let last: { index: number; data: Float32Array } | null = null;
    const make = (start: number, n: number): ort.Tensor => {
      let data: Float32Array;
      if (n === this.batch) {
        if (buffers.length < 2 || (buffers[0] as Float32Array).length !== n * size)
          buffers.splice(0, 2, new Float32Array(n * size), new Float32Array(n * size));
        data = buffers[turn] as Float32Array;
        turn = 1 - turn;
      } else data = new Float32Array(n * size);
      for (let b = 0; b < n; b++) {
        const out = data.subarray(b * size, (b + 1) * size);
        const i = start + b;
        const previous = last !== null && last.index === i - 1 && last.data.buffer !== data.buffer ? last.data : null;
        fill(i, out, b > 0 ? data.subarray((b - 1) * size, b * size) : previous);
        last = { index: i, data: out };
      }
      return new ort.Tensor('float32', data, [n, ...inputShape.slice(1)]);
    };
    let start = 0;
    let next: ort.Tensor | null = count > 0 ? make(0, Math.min(this.batch, count)) : null;
    while (next) {
      throwIfCancelled(signal);
      const tensor = next;
      const n = tensor.dims[0] as number;
      const running = this.run(tensor);
      // Write the following batch while this one runs.
      const after = start + n;
      next = after < count ? make(after, Math.min(this.batch, count - after)) : null;
      let logits: Float32Array;
      try {
        logits = await running;
      } catch (error) {
        if (this.batch === 1 || n === 1) {
          throw new EngineError('inference-failed', `Scoring perturbed images failed: ${describeError(error).split('\n')[0]}`);
        }
        this.batch = 1; // a model exported with a fixed batch of 1
        next = make(start, 1);
        continue;
      }
      const classes = logits.length / n;
      if (!Number.isInteger(classes) || classIndex >= classes) {
        throw new EngineError('unsupported', `The model's output has ${logits.length / n} values per image, not class scores.`);
      }
      for (let b = 0; b < n; b++) {
        probs[start + b] = this.target.outputIsProbability
          ? (logits[b * classes + classIndex] as number)
          : rowProbability(logits, b, classes, classIndex);
      }
      this.forwardPasses += n;
      start = after;
      if (next && (next.dims[0] as number) > this.batch) next = make(start, Math.min(this.batch, count - start));
      onProgress?.(start, count);
    }
    return probs;
  }

  private async run(tensor: ort.Tensor): Promise<Float32Array> {
    const out = await this.target.session.run({ [this.target.inputName]: tensor }, [this.target.outputName]);
    const t = out[this.target.outputName] as ort.Tensor;
    if (t.type !== 'float32') throw new EngineError('unsupported', `The model's output is ${t.type}, not float32 class scores.`);
    return t.data as Float32Array;
  }
}
