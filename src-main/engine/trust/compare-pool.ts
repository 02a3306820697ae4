/**
 * The sanity check's comparisons on two threads. After an image's batched run, onnxruntime (on every core)
 * is done and the comparisons (Spearman and SSIM of a few hundred maps, JavaScript on one core) are all
 * that is left: a worker thread takes half of them, running the same code (similarity.ts's kernels, from
 * their source). With one core, below a minimum of work, or when the worker fails, everything is compared
 * here.
 */
import { availableParallelism } from 'node:os';
import { RequestWorker } from '../request-worker';
import { compareAll, similarityKernels } from './similarity';

function workerSource(): string {
  // `__name`: a no-op for the name-keeping helper some TypeScript transforms write into function sources.
  return `
const { parentPort } = require('node:worker_threads');
const __name = (f) => f;
const kernels = (${similarityKernels.toString()})();
// Warm the kernels up before the first job: a check calls them only a few hundred times, and code that
// is still being compiled runs them several times slower than the calling thread's.
{
  const warm = [];
  for (let k = 0; k < 8; k++) warm.push(Float32Array.from({ length: 48 * 48 }, (_, i) => Math.max(0, Math.sin(i * (k + 1) * 0.01))));
  for (let round = 0; round < 8; round++) kernels.compareAll(warm, 48, 48);
}
parentPort.on('message', ({ id, pairs, width, height }) => {
  try {
    const out = kernels.compareAll(pairs, width, height);
    parentPort.postMessage({ id, result: out }, [out.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});`;
}

type Helper = RequestWorker<Float64Array>;

let helper: Helper | null | undefined;

function sharedHelper(): Helper | null {
  if (helper?.broken) helper = null;
  if (helper === undefined) {
    try {
      helper = availableParallelism() >= 2 ? new RequestWorker(workerSource(), 'the comparison worker') : null;
    } catch {
      // A host without worker threads compares on this thread.
      helper = null;
    }
  }
  return helper;
}

/** Starts the helper thread (and its warm-up) ahead of the first comparisons, if it is not running. */
export function prepareComparisons(): void {
  sharedHelper();
}

/** Below this many compared values in all, everything stays on this thread (a message costs more). */
const MIN_PARALLEL_VALUES = 100_000;

/**
 * compareAll (similarity.ts) of every pair [reference, compared] (pairs[2i], pairs[2i + 1]), the second
 * half of the pairs on the helper thread while this one compares the first. Pairs are best grouped by
 * reference: each side ranks and filters each of its references once.
 */
export async function compareOnTwoThreads(pairs: Float32Array[], width: number, height: number): Promise<Float64Array> {
  const count = pairs.length / 2;
  const pool = count * width * height >= MIN_PARALLEL_VALUES ? sharedHelper() : null;
  if (!pool || count < 2) return compareAll(pairs, width, height);
  const split = 2 * Math.floor(count / 2);
  const theirs = pool.request({ pairs: pairs.slice(split), width, height });
  // A failed worker must not leave an unhandled rejection while this thread compares.
  theirs.catch(() => undefined);
  const mine = compareAll(pairs.slice(0, split), width, height);
  let rest: Float64Array;
  try {
    rest = await theirs;
  } catch {
    rest = compareAll(pairs.slice(split), width, height);
  }
  const out = new Float64Array(pairs.length);
  out.set(mine);
  out.set(rest, split);
  return out;
}

/** Whether the helper thread is started and working (tests check the two-thread path ran). */
export function comparisonHelperAlive(): boolean {
  return helper !== null && helper !== undefined && !helper.broken;
}
