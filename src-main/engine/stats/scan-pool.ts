/**
 * Scans many activations at once on two threads. A stats run alternates inference (onnxruntime, on every
 * core) and the scan of its outputs (JavaScript, on one): during the scan the other cores idle, so a worker
 * thread takes a share of the layers. Work goes by whole output buffers, which are transferred (not
 * copied) to the worker. With one core, without Wasm SIMD, or when the worker fails, everything is scanned
 * here.
 */
import { availableParallelism } from 'node:os';
import { RequestWorker } from '../request-worker';
import { scanActivation, scanOutput, type ScanOutput } from './scan-activation';
import { kernelBounds, kernelModule, scanWithKernel, WasmScanner } from './scan-wasm';

export interface ScanJob {
  values: Float32Array;
  channels: number;
  lo: number;
  hi: number;
  bins: number;
}

let local: WasmScanner | null | undefined;

/** One scan on this thread: the Wasm kernel where the runtime has Wasm SIMD, else JavaScript. */
export function scanHere(values: Float32Array, channels: number, lo: number, hi: number, bins: number, out: ScanOutput): void {
  if (local === undefined) local = WasmScanner.create();
  if (local) local.scan(values, channels, lo, hi, bins, out);
  else scanActivation(values, channels, lo, hi, bins, out);
}

function workerSource(): string {
  return `
const { parentPort, workerData } = require('node:worker_threads');
const scanWithKernel = ${scanWithKernel.toString()};
const kernel = new WebAssembly.Instance(workerData.module).exports;
parentPort.on('message', ({ id, jobs }) => {
  try {
    const outs = jobs.map((j) => {
      const out = {
        channelSum: new Float64Array(j.channels),
        channelSumSq: new Float64Array(j.channels),
        channelNear: new Float64Array(j.channels),
        hist: new Float64Array(j.bins),
      };
      scanWithKernel(kernel, j.values, j.channels, j.lo, j.hi, j.bins, j.bounds, out);
      return out;
    });
    const buffers = outs.flatMap((o) => [o.channelSum.buffer, o.channelSumSq.buffer, o.channelNear.buffer, o.hist.buffer]);
    parentPort.postMessage({ id, result: outs }, buffers);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});`;
}

type Helper = RequestWorker<ScanOutput[]>;

let helper: Helper | null | undefined;

function sharedHelper(): Helper | null {
  if (helper?.broken) helper = null;
  if (helper === undefined) {
    const module = kernelModule();
    try {
      helper = module && availableParallelism() >= 2 ? new RequestWorker(workerSource(), 'the scan worker', { module }) : null;
    } catch {
      // A host without worker threads scans on this thread.
      helper = null;
    }
  }
  return helper;
}

export interface ScanPoolOptions {
  /** Below this many values in all, the scan stays on this thread (a message costs more than it saves). */
  minParallelValues?: number;
}

/**
 * Scans every job and returns their figures in order. Jobs that share a buffer go to the same thread; the
 * buffers handed to the worker are detached here afterwards.
 */
export async function scanAll(jobs: ScanJob[], options: ScanPoolOptions = {}): Promise<ScanOutput[]> {
  const outs: (ScanOutput | null)[] = jobs.map(() => null);
  const total = jobs.reduce((a, j) => a + j.values.length, 0);
  const pool = total >= (options.minParallelValues ?? 200_000) ? sharedHelper() : null;
  const mine: number[] = [];
  const theirs: number[] = [];
  if (pool) {
    // Whole buffers, largest first, each to the thread with less work so far.
    const groups = new Map<ArrayBufferLike, number[]>();
    jobs.forEach((j, i) => groups.set(j.values.buffer, [...(groups.get(j.values.buffer) ?? []), i]));
    const size = (g: number[]) => g.reduce((a, i) => a + (jobs[i] as ScanJob).values.length, 0);
    let here = 0;
    let there = 0;
    for (const g of [...groups.values()].sort((a, b) => size(b) - size(a))) {
      if (here <= there) {
        mine.push(...g);
        here += size(g);
      } else {
        theirs.push(...g);
        there += size(g);
      }
    }
  } else mine.push(...jobs.keys());
  const remote =
    pool && theirs.length > 0
      ? pool.request(
          {
            jobs: theirs.map((i) => ({
              ...(jobs[i] as ScanJob),
              bounds: kernelBounds((jobs[i] as ScanJob).lo, (jobs[i] as ScanJob).hi),
            })),
          },
          [...new Set(theirs.map((i) => (jobs[i] as ScanJob).values.buffer))].filter(
            (b): b is ArrayBuffer => b instanceof ArrayBuffer,
          ),
        )
      : null;
  for (const i of mine) {
    const j = jobs[i] as ScanJob;
    const out = scanOutput(j.channels, j.bins);
    scanHere(j.values, j.channels, j.lo, j.hi, j.bins, out);
    outs[i] = out;
  }
  if (remote) {
    const got = await remote;
    theirs.forEach((i, k) => (outs[i] = got[k] as ScanOutput));
  }
  return outs as ScanOutput[];
}
