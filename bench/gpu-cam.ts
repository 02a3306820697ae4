/**
 * `node .gpu-kit/gpu-cam.mjs MODEL.onnx [runs]` on the GPU benchmark machine (bundled by
 * ../shared/tools/gpu-kit/prepare; here: `npx tsx bench/gpu-cam.ts MODEL.onnx`): the hooked CAM graph on the
 * WebGPU provider against the plain forward, by parts (backward only, Grad-CAM, every in-graph method), the
 * same on the CPU provider, where WebGPU's time goes (onnxruntime's profile: provider and op of each node),
 * the maps' agreement between the two providers, batched plain-forward throughput (ScoreCAM's floor) and
 * ScoreCAM at the last stage as the engine runs it (SCORECAM=1 adds the CPU, SCORECAM=0 skips it).
 * Prints one JSON object. Imports no native module but onnxruntime-node, so that it travels in the kit.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { CamMethod } from '../src-shared/cam';
import { analyzeGraph } from '../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../src-main/engine/graph/layers';
import type { GraphForm } from '../src-main/engine/hooks/graph-builder';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT, type HookOptions } from '../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../src-main/engine/hooks/map-graph';
import { describeModel } from '../src-main/engine/model-registry';
import { pearson } from '../test/helpers/map-compare';
import type { TensorName } from '../src-shared/api';
import { MASK_CHANNELS_INPUT, MASKED_IMAGE_INPUT, maskedScoreModel } from '../src-main/engine/cam/masked-score-model';
import { perturbationBatch } from '../src-main/engine/cam/perturbation';

const modelPath = process.argv[2];
if (!modelPath) throw new Error('usage: gpu-cam MODEL.onnx [runs] [providers]');
const runs = Number(process.argv[3] ?? 30);
const providers = (process.argv[4] ?? 'webgpu,cpu').split(',');
const threads = Number(process.env.THREADS ?? 0);
const dir = mkdtempSync(path.join(tmpdir(), 'gpu-cam-'));

const bytes = new Uint8Array(readFileSync(modelPath));
const model = describeModel(bytes, path.basename(modelPath), modelPath);
const inputName = model.summary.inputs[0]?.name as string;
const side = Number(process.env.SIDE ?? 224);
const shape = [1, 3, side, side];
const analysis = await analyzeGraph(model, new Map([[inputName as never, shape]]));
const tensors = [...new Set(resolveLayers(analysis, ['stages'], model.summary.name).map((l) => l.tensor))];
const methods = IN_GRAPH_METHODS.filter((m) => m !== 'cam');
const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 0.5);

function options(provider: string, profile = false): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(provider === 'cpu' && threads ? { intraOpNumThreads: threads } : {}),
    ...(profile ? { enableProfiling: true, profileFilePrefix: path.join(dir, `${provider}-${Date.now()}`) } : {}),
  };
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;

async function time(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, n = runs): Promise<number> {
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    t.push(performance.now() - t0);
  }
  return median(t);
}

function hooked(form: GraphForm, maps: readonly CamMethod[], exposeGradients: boolean) {
  const o: HookOptions = { maps, exposeActivations: false, exposeGradients, form };
  return buildHookedModel(analysis, tensors, true, o);
}

function feedsFor(h: ReturnType<typeof hooked>): Record<string, ort.Tensor> {
  return {
    [inputName]: new ort.Tensor('float32', data, shape),
    [SEED_INPUT]: new ort.Tensor('float32', new Float32Array(h.scoreShape.reduce((a, b) => a * b, 1)), h.scoreShape),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(1), []),
  };
}

interface KernelEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; provider?: string };
}

async function profile(h: ReturnType<typeof hooked>, provider: string) {
  const session = await ort.InferenceSession.create(h.bytes, options(provider, true));
  const feeds = feedsFor(h);
  const n = 5;
  for (let i = 0; i < n; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(provider) && f.endsWith('.json'))
    .sort()
    .at(-1) as string;
  const events = (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as KernelEvent[]).filter(
    (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
  );
  const origin = (name: string) =>
    name.includes('layerlens/maps')
      ? 'maps'
      : name.includes('layerlens/grad')
        ? 'backward'
        : name.includes('layerlens/seed')
          ? 'seed'
          : 'forward';
  const group = (key: (e: KernelEvent) => string, top = 30) => {
    const sums = new Map<string, { ms: number; nodes: number }>();
    for (const e of events) {
      const k = key(e);
      const s = sums.get(k) ?? { ms: 0, nodes: 0 };
      s.ms += e.dur / 1000 / n;
      s.nodes += 1 / n;
      sums.set(k, s);
    }
    return Object.fromEntries(
      [...sums.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, top)
        .map(([k, s]) => [k, { ms: +s.ms.toFixed(3), nodes: Math.round(s.nodes) }]),
    );
  };
  const onCpu = [
    ...new Set(events.filter((e) => e.args?.provider === 'CPUExecutionProvider').map((e) => `${e.args?.op_name} ${e.name}`)),
  ];
  return {
    kernelMsPerRun: +(events.reduce((a, e) => a + e.dur, 0) / 1000 / n).toFixed(2),
    nodesPerRun: Math.round(events.length / n),
    byProvider: group((e) => e.args?.provider ?? '?'),
    byOrigin: group((e) => origin(e.name)),
    byOriginAndOp: group((e) => `${origin(e.name)} ${e.args?.op_name}@${e.args?.provider?.replace('ExecutionProvider', '')}`, 40),
    cpuPlacedNodes: onCpu.slice(0, 40),
    cpuPlacedCount: onCpu.length,
  };
}

/**
 * ScoreCAM at the last stage as the engine runs it: every channel through the masked-score model in batches
 * sized for the provider (stage channels stand in for the activation: the cost does not depend on them).
 */
async function scoreCam(provider: string): Promise<Record<string, number>> {
  const grid = analysis.gridOf(tensors.at(-1) as TensorName);
  if (!grid) return {};
  const session = await ort.InferenceSession.create(
    maskedScoreModel(analysis, {
      inputName,
      inputShape: shape,
      channelsLast: false,
      height: grid.height,
      width: grid.width,
      score: model.summary.outputs[0]?.name as TensorName,
    }),
    options(provider),
  );
  const z = grid.height * grid.width;
  const channels = Float32Array.from({ length: grid.channels * z }, (_, i) => Math.abs(Math.sin(i * 0.7)));
  const batch = perturbationBatch(provider === 'cpu' ? 'cpu' : 'webgpu', data.length);
  const image = new ort.Tensor('float32', data, shape);
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    for (let k = 0; k < grid.channels; k += batch) {
      const n = Math.min(batch, grid.channels - k);
      await session.run({
        [MASKED_IMAGE_INPUT]: image,
        [MASK_CHANNELS_INPUT]: new ort.Tensor('float32', channels.subarray(k * z, (k + n) * z), [n, 1, grid.height, grid.width]),
      });
    }
    return performance.now() - t0;
  };
  await once();
  const ms = Math.min(await once(), await once());
  await session.release();
  return { channels: grid.channels, batch, ms: +ms.toFixed(1), imagesPerSecond: +((grid.channels * 1000) / ms).toFixed(1) };
}

const report: Record<string, unknown> = { model: path.basename(modelPath), stages: tensors, methods, runs };
const mapsBy: Record<string, Record<string, Float32Array>> = {};
for (const provider of providers) {
  const form: GraphForm = provider === 'webgpu' ? 'gpu' : process.arch === 'x64' ? 'blocked' : 'plain';
  const r: Record<string, unknown> = { form };
  const plain = await ort.InferenceSession.create(bytes, options(provider));
  const plainFeeds = { [inputName]: new ort.Tensor('float32', data, shape) };
  const forward = await time(plain, plainFeeds);
  r.forwardMs = +forward.toFixed(2);
  const variants: [string, readonly CamMethod[], boolean][] = [
    ['backwardOnly', [], true],
    ['gradcam', ['gradcam'], false],
    ['cheapFive', methods.filter((m) => !m.startsWith('eigen')), false],
    ['all', methods, false],
  ];
  for (const [name, maps, exposeGradients] of variants) {
    const h = hooked(form, maps, exposeGradients);
    const s = await ort.InferenceSession.create(h.bytes, options(provider));
    const ms = await time(s, feedsFor(h));
    r[`${name}Ms`] = +ms.toFixed(2);
    r[`${name}Ratio`] = +(ms / forward).toFixed(2);
    if (name === 'all') {
      const out = await s.run(feedsFor(h));
      mapsBy[provider] = {};
      for (const [t, byMethod] of h.maps)
        for (const [m, o] of byMethod)
          (mapsBy[provider] as Record<string, Float32Array>)[`${t} ${m}`] = out[o]?.data as Float32Array;
    }
    await s.release();
  }
  if (provider === 'webgpu') r.profile = await profile(hooked(form, methods, false), provider);
  // Batched plain throughput: the floor of ScoreCAM / AblationCAM and statistics.
  const throughput: Record<string, number> = {};
  for (const batch of [1, 8, 32, 64]) {
    try {
      const big = new Float32Array(batch * data.length);
      for (let b = 0; b < batch; b++) big.set(data, b * data.length);
      const ms = await time(plain, { [inputName]: new ort.Tensor('float32', big, [batch, ...shape.slice(1)]) }, 8);
      throughput[`batch${batch}`] = +((batch * 1000) / ms).toFixed(1);
    } catch (error) {
      throughput[`batch${batch}`] = -1;
      r.batchError = String(error).split('\n')[0];
    }
  }
  r.imagesPerSecond = throughput;
  if (process.env.SCORECAM !== '0' && (provider !== 'cpu' || process.env.SCORECAM === '1')) r.scorecam = await scoreCam(provider);
  await plain.release();
  report[provider] = r;
  console.error(JSON.stringify({ [provider]: r }));
}
if (mapsBy.webgpu && mapsBy.cpu) {
  let worst = 1;
  for (const k of Object.keys(mapsBy.webgpu)) {
    const a = mapsBy.webgpu[k];
    const b = mapsBy.cpu[k];
    if (a && b) worst = Math.min(worst, pearson(a, b));
  }
  report.mapsAgreementMinPearson = worst;
}
console.log(JSON.stringify(report, null, 1));
