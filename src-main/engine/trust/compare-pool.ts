/**
 * The sanity check's comparisons on two worker threads. After an image's batched run, onnxruntime is
 * done and the comparisons (Spearman and SSIM of a few hundred maps, WebAssembly) are all that is left:
 * two workers take half of them each, running the same code (similarity.ts's kernels, from their source,
 * with the same WebAssembly module). Not the calling thread: in a long-lived engine its heap is large and
 * busy (a sanity check right after a full evaluation compared its half 2–4× slower than a worker did),
 * while a worker's stays small. With one core, below a minimum of work, or where a worker fails, the
 * calling thread compares.
 */
import { availableParallelism } from 'node:os';
import { RequestWorker } from '../request-worker';
import { compareAll, similarityKernels } from './similarity';
import { SIMILARITY_WASM } from './similarity-wasm';

function workerSource(): string {
  // `__name`: a no-op for the name-keeping helper some TypeScript transforms write into function sources.
  return `
const { parentPort } = require('node:worker_threads');
const __name = (f) => f;
const kernels = (${similarityKernels.toString()})(${JSON.stringify(SIMILARITY_WASM)});
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

const HELPERS = 2;
let helpers: Helper[] | undefined;

/** The working helper threads (none on a single core or where workers cannot start). */
function sharedHelpers(): Helper[] {
  if (helpers === undefined) {
    helpers = [];
    if (availableParallelism() >= 2)
      try {
        for (let i = 0; i < HELPERS; i++) helpers.push(new RequestWorker(workerSource(), 'a comparison worker'));
      } catch {
        // A host without worker threads compares on this thread.
      }
  }
  helpers = helpers.filter((h) => !h.broken);
  return helpers;
}

/** Starts the helper threads (and their warm-up) ahead of the first comparisons, if they are not running. */
export function prepareComparisons(): void {
  sharedHelpers();
}

/** Below this many compared values in all, everything stays on this thread (a message costs more). */
const MIN_PARALLEL_VALUES = 100_000;

/**
 * compareAll (similarity.ts) of every pair [reference, compared] (pairs[2i], pairs[2i + 1]), split into
 * contiguous shares, one per helper thread (a failed one's share is compared here). Pairs are best grouped
 * by reference: each share ranks and filters each of its references once.
 */
export async function compareOnTwoThreads(pairs: Float32Array[], width: number, height: number): Promise<Float64Array> {
  const count = pairs.length / 2;
  const pool = count >= 2 && count * width * height >= MIN_PARALLEL_VALUES ? sharedHelpers() : [];
  if (pool.length === 0) return compareAll(pairs, width, height);
  const shares = pool.map((_, i) => 2 * Math.round((count * i) / pool.length));
  shares.push(pairs.length);
  const parts = await Promise.all(
    pool.map(async (helper, i) => {
      const share = pairs.slice(shares[i], shares[i + 1]);
      try {
        return await helper.request({ pairs: share, width, height });
      } catch {
        return compareAll(share, width, height);
      }
    }),
  );
  const out = new Float64Array(pairs.length);
  parts.forEach((part, i) => out.set(part, shares[i]));
  return out;
}

/** Whether the helper threads are started and working (tests check the worker path ran). */
export function comparisonHelperAlive(): boolean {
  return helpers !== undefined && helpers.length === HELPERS && helpers.every((h) => !h.broken);
}
