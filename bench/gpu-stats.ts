/**
 * Activation statistics against plain inference on one device, for the GPU machine (bundled by
 * ../shared/tools/gpu-kit/prepare: it imports only src-main code and onnxruntime-node, no native module).
 *
 *   [THREADS=n] [BATCH_BYTES=n] node gpu-stats.mjs MODEL.onnx cpu|webgpu BATCH IMAGES [graph|scan] [profile]
 *
 * Feeds IMAGES random inputs in batches of BATCH (the model's batch dimension must be free) through the
 * plain model and through a stats run over the default layers (every layer with parameters and every
 * stage; 40 bins on [0, 10]) and prints JSON: images/s of each and their ratio. The stats form defaults to
 * "graph" on WebGPU and "scan" on the CPU; "profile" adds what each kind of node of one stats batch costs.
 */
import { graphFormFor } from '../src-main/engine/inference/graph-form';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { analyzeGraph, concreteInputShapes } from '../src-main/engine/graph/analyze-graph';
import { HookedSessions } from '../src-main/engine/hooks/hooked-sessions';
import type { PooledSession } from '../src-main/engine/inference/session-pool';
import { ModelRegistry, type OpenModel } from '../src-main/engine/model-registry';
import { runStats, type StatsDeps, type StatsForm, type StatsRequest } from '../src-main/engine/stats/stats-runner';

const [modelPath, device, batchArg, imagesArg, formArg, profileArg] = process.argv.slice(2);
if (!modelPath || (device !== 'cpu' && device !== 'webgpu') || !batchArg || !imagesArg) {
  console.error('usage: gpu-stats MODEL.onnx cpu|webgpu BATCH IMAGES [graph|scan] [profile]');
  process.exit(2);
}
const batch = Number(batchArg);
const images = Number(imagesArg);
const form = (formArg === 'graph' || formArg === 'scan' ? formArg : device === 'webgpu' ? 'graph' : 'scan') as StatsForm;
const profile = profileArg === 'profile' || formArg === 'profile';

async function session(
  bytes: Uint8Array | string,
  extra: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [device as string],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // THREADS=n: onnxruntime's intra-op threads (the CPU comparison with PyTorch is on 2).
    ...(process.env.THREADS ? { intraOpNumThreads: Number(process.env.THREADS) } : {}),
    ...extra,
  };
  return typeof bytes === 'string' ? ort.InferenceSession.create(bytes, options) : ort.InferenceSession.create(bytes, options);
}

const model: OpenModel = await new ModelRegistry().openPath(modelPath);
const inputName = model.summary.inputs[0]?.name as string;
const single = [...concreteInputShapes(model).values()][0] ?? [1, 3, 224, 224];
const shape = [batch, ...single.slice(1)];
const size = shape.slice(1).reduce((a, b) => a * b, 1);
const random = new Float32Array(batch * size);
for (let i = 0; i < random.length; i++) random[i] = Math.sin(i * 12.9898) * 2;

// Plain inference: the same batches, the same inputs.
const plain = await session(modelPath);
const plainPass = async (): Promise<number> => {
  const t0 = performance.now();
  for (let i = 0; i < images; i += batch) {
    const outputs = await plain.run({ [inputName]: new ort.Tensor('float32', random, shape) });
    for (const t of Object.values(outputs)) t.dispose();
  }
  return (performance.now() - t0) / 1000;
};
await plainPass();
const plainSeconds = Math.min(await plainPass(), await plainPass());
await plain.release();

const analyses = new Map<string, ReturnType<typeof analyzeGraph>>();
const analysis = (m: OpenModel, s: number[]) => {
  const key = s.join('x');
  if (!analyses.has(key)) analyses.set(key, analyzeGraph(m, new Map([[inputName as never, s]])));
  return analyses.get(key) as ReturnType<typeof analyzeGraph>;
};
const sessions = new Map<string, Promise<PooledSession>>();
let statsBytes: Uint8Array | null = null;
const source = (key: string, bytes: () => Uint8Array): Promise<PooledSession> => {
  if (!sessions.has(key)) {
    statsBytes = bytes();
    sessions.set(
      key,
      session(statsBytes).then((s) => ({ session: s, provider: device as PooledSession['provider'] })),
    );
  }
  return sessions.get(key) as Promise<PooledSession>;
};
const deps: StatsDeps = {
  analysis,
  hooked: new HookedSessions(source, () => graphFormFor(device === 'webgpu' ? 'webgpu' : 'cpu')),
  session: source,
  onCpu: () => device === 'cpu',
};
const request: StatsRequest = {
  layers: null,
  includeParamless: false,
  bins: 40,
  range: { kind: 'fixed', lo: 0, hi: 10 },
  form,
  maxBatch: batch,
  // The batch asked for, unless BATCH_BYTES caps what one run may hold (see StatsRequest.batchBytes).
  batchBytes: process.env.BATCH_BYTES ? Number(process.env.BATCH_BYTES) : Number.POSITIVE_INFINITY,
};
const inputs = (count: number) => ({
  count,
  load: async (i: number) => ({
    name: `random-${i}`,
    data: random.subarray((i % batch) * size, ((i % batch) + 1) * size),
    shape: single,
  }),
});
const warm = await runStats(deps, model, inputs(batch), request);
const statsPass = async (): Promise<number> => {
  const t0 = performance.now();
  await runStats(deps, model, inputs(images), request);
  return (performance.now() - t0) / 1000;
};
const statsSeconds = Math.min(await statsPass(), await statsPass());

let nodes: Record<string, { ms: number; count: number; provider: string }> | undefined;
if (profile && statsBytes) {
  // One batch of the stats model again, profiled: what each kind of node costs, and where it ran.
  const dir = await mkdtemp(path.join(tmpdir(), 'gpu-stats-'));
  const profiled = await session(statsBytes, { enableProfiling: true, profileFilePrefix: path.join(dir, 'stats') });
  const feeds: Record<string, ort.Tensor> = { [inputName]: new ort.Tensor('float32', random, shape) };
  for (const name of profiled.inputNames)
    if (name !== inputName) feeds[name] = new ort.Tensor('float32', Float32Array.of(0.5), [1]);
  await profiled.run(feeds);
  await profiled.run(feeds);
  profiled.endProfiling();
  await profiled.release();
  const file = (await readdir(dir)).find((f) => f.endsWith('.json')) as string;
  const events = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string; provider?: string };
  }[];
  nodes = {};
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = `${e.name.startsWith('layerlens/stats/') ? 'stats' : 'model'} ${e.args?.op_name}`;
    const entry = (nodes[key] ??= { ms: 0, count: 0, provider: e.args?.provider ?? '' });
    // Two runs profiled: per run.
    entry.ms += e.dur / 2000;
    entry.count += 0.5;
  }
}

console.log(
  JSON.stringify(
    {
      model: path.basename(modelPath),
      device,
      provider: warm.provider,
      form: warm.form,
      batch: warm.batch,
      images,
      layers: warm.layers.length,
      plain: { seconds: plainSeconds, imagesPerSecond: images / plainSeconds },
      stats: { seconds: statsSeconds, imagesPerSecond: images / statsSeconds },
      statsShareOfPlainThroughput: plainSeconds / statsSeconds,
      ...(nodes ? { profileOneBatchMs: nodes } : {}),
    },
    null,
    2,
  ),
);
