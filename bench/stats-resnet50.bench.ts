/**
 * Issue 20's CPU target: `layerlens stats` on a ResNet-50 (224², 32 images, 2 threads) faster than PyTorch
 * with fastai-style hooks (mean, std, share near zero, 40-bin histogram on every convolution, the linear
 * layer and each stage): 3.3–3.6 s on the benchmark machine (bench/torch-stats.py measures it). Both stats
 * forms are timed against plain inference in PyTorch's batches of 16: the scan form (what the CPU runs)
 * and the graph form (what a GPU runs; on the CPU its histogram's one-hot matrices cost more than the scan).
 * Sides are interleaved over rounds and medians reported; the machine is shared. Where Debian's python3-torch
 * is installed, PyTorch's side is also measured here, right after, and set against the scan form.
 */
import { graphFormFor } from '../src-main/engine/inference/graph-form';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { analyzeGraph } from '../src-main/engine/graph/analyze-graph';
import { HookedSessions } from '../src-main/engine/hooks/hooked-sessions';
import type { PooledSession } from '../src-main/engine/inference/session-pool';
import { ModelRegistry, type OpenModel } from '../src-main/engine/model-registry';
import { runStats, type StatsDeps, type StatsForm, type StatsRequest } from '../src-main/engine/stats/stats-runner';
import { resnet50Model } from './resnet50';
import type { Figure } from './run';

const IMAGES = 32;
const BATCH = 16;
const THREADS = 2;
const ROUNDS = 3;
/** PyTorch with fastai-style hooks, 2 threads, on the benchmark machine (issue 20). */
const PYTORCH_MS = 3300;

/**
 * PyTorch's side on this machine, where Debian's python3-torch is installed (bench/torch-stats.py, its three
 * rounds' medians, as ours), so that the comparison holds machine and load alike; null where it is not.
 */
function pytorchHereMs(): { version: string; plain: number; stats: number } | null {
  const script = path.join(import.meta.dirname, 'torch-stats.py');
  const run = spawnSync('/usr/bin/python3', [script, String(IMAGES), String(BATCH), String(THREADS)], { encoding: 'utf8' });
  const m = /torch (\S+), .*plain [\d.]+ s \(median ([\d.]+)\), with stats hooks [\d.]+ s \(median ([\d.]+)\)/.exec(
    run.stdout ?? '',
  );
  return m ? { version: m[1] as string, plain: Number(m[2]) * 1000, stats: Number(m[3]) * 1000 } : null;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function statsResnet50Benchmark(): Promise<Figure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-bench-r50-'));
  const file = path.join(dir, 'resnet50.onnx');
  await writeFile(file, resnet50Model());
  const model: OpenModel = await new ModelRegistry().openPath(file);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    intraOpNumThreads: THREADS,
  };
  const sessions = new Map<string, Promise<PooledSession>>();
  const source = (key: string, bytes: () => Uint8Array): Promise<PooledSession> => {
    if (!sessions.has(key))
      sessions.set(
        key,
        ort.InferenceSession.create(bytes(), options).then((session) => ({ session, provider: 'cpu' as const })),
      );
    return sessions.get(key) as Promise<PooledSession>;
  };
  const analyses = new Map<string, ReturnType<typeof analyzeGraph>>();
  const deps: StatsDeps = {
    analysis: (m, shape) => {
      const key = shape.join('x');
      if (!analyses.has(key)) analyses.set(key, analyzeGraph(m, new Map([['input' as never, shape]])));
      return analyses.get(key) as ReturnType<typeof analyzeGraph>;
    },
    hooked: new HookedSessions(source, () => graphFormFor('cpu')),
    session: source,
    onCpu: () => true,
  };
  const size = 3 * 224 * 224;
  const images = Array.from({ length: IMAGES }, (_, i) => Float32Array.from({ length: size }, (_, k) => Math.sin(k * 0.37 + i)));
  const request = (form: StatsForm): StatsRequest => ({
    layers: null,
    includeParamless: false,
    bins: 40,
    range: { kind: 'fixed', lo: 0, hi: 10 },
    form,
  });
  const stats = (form: StatsForm) =>
    runStats(
      deps,
      model,
      { count: IMAGES, load: async (i) => ({ name: `${i}`, data: images[i] as Float32Array, shape: [1, 3, 224, 224] }) },
      request(form),
    );
  const plain = await ort.InferenceSession.create(file, options);
  const feed = new Float32Array(BATCH * size);
  const plainRun = async () => {
    for (let i = 0; i < IMAGES; i += BATCH) {
      for (let j = 0; j < BATCH; j++) feed.set(images[i + j] as Float32Array, j * size);
      const out = await plain.run({ input: new ort.Tensor('float32', feed, [BATCH, 3, 224, 224]) });
      for (const t of Object.values(out)) t.dispose();
    }
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  // Warm-up builds every session.
  await plainRun();
  const scanWarm = await stats('scan');
  const graphWarm = await stats('graph');
  const times = { plain: [] as number[], scan: [] as number[], graph: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    times.plain.push(await timed(plainRun));
    times.scan.push(await timed(() => stats('scan')));
    times.graph.push(await timed(() => stats('graph')));
  }
  await plain.release();
  for (const s of sessions.values()) await (await s).session.release();
  const layers = scanWarm.layers.length;
  const torch = pytorchHereMs();
  return [
    ...(torch
      ? [
          { name: `PyTorch ${torch.version} here: plain, ${IMAGES} images`, value: torch.plain, unit: 'ms' },
          { name: `PyTorch ${torch.version} here: with fastai-style hooks`, value: torch.stats, unit: 'ms' },
          {
            name: 'stats (scan) ÷ PyTorch with hooks, this machine',
            value: median(times.scan) / torch.stats,
            unit: '×',
            target: { max: 1 },
          },
        ]
      : []),
    { name: `ResNet-50 plain inference, ${IMAGES} images, ${BATCH}/run`, value: median(times.plain), unit: 'ms' },
    {
      name: `stats (scan, ${scanWarm.batch}/run), ${layers} layers`,
      value: median(times.scan),
      unit: 'ms',
      target: { max: PYTORCH_MS },
    },
    { name: `stats (graph, ${graphWarm.batch}/run), ${layers} layers`, value: median(times.graph), unit: 'ms' },
    { name: 'stats (scan) ÷ plain inference', value: median(times.scan) / median(times.plain), unit: '×' },
    { name: 'stats (graph) ÷ plain inference', value: median(times.graph) / median(times.plain), unit: '×' },
  ];
}
