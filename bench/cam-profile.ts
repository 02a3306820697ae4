/**
 * `npx tsx bench/cam-profile.ts [demo|r50] [runs]`: onnxruntime's per-node profile of the hooked CAM session
 * (all stages, every in-graph method) against the plain forward, grouped by where the nodes come from
 * (forward, backward, maps) and by op type — to see which appended nodes cost what. A development aid, not a
 * benchmark. Environment: THREADS=n intra-op threads (1 also prints CPU time per run, steadier on a busy
 * machine), COMPARE=1 per-node times of the shared forward nodes, DUMP=dir onnxruntime's optimized graphs,
 * NOPROFILE=1 stop after the wall/CPU timings, MAPS=1 the slowest nodes of the maps, CONVS=1 the backward
 * convolutions split into depthwise ones (masks, copies) and adjoints.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GRADIENT_METHODS } from '../src-shared/cam';
import { Engine } from '../src-main/engine/engine';
import { resolveLayers } from '../src-main/engine/graph/layers';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../src-main/engine/hooks/map-graph';
import { resnet50Model } from './resnet50';

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; parameter_size?: string; activation_size?: string; output_size?: string };
}

async function profile(file: string, feeds: Record<string, ort.Tensor>, runs: number, dir: string): Promise<TraceEvent[]> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    enableProfiling: true,
    profileFilePrefix: path.join(dir, path.basename(file)),
    ...(process.env.THREADS ? { intraOpNumThreads: Number(process.env.THREADS) } : {}),
    ...(process.env.DUMP ? { optimizedModelFilePath: `${process.env.DUMP}/${path.basename(file)}` } : {}),
  });
  for (let i = 0; i < runs; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const trace = (await readdir(dir)).filter((f) => f.startsWith(path.basename(file)) && f.endsWith('.json'));
  const events = JSON.parse(await readFile(path.join(dir, trace.at(-1) as string), 'utf8')) as TraceEvent[];
  return events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
}

function origin(name: string): string {
  if (name.includes('layerlens/maps')) return 'maps';
  if (name.includes('layerlens/grad')) return 'backward';
  if (name.includes('layerlens/seed')) return 'seed';
  return 'forward';
}

function table(events: TraceEvent[], runs: number, key: (e: TraceEvent) => string, top = 25): void {
  const sums = new Map<string, { us: number; n: number }>();
  for (const e of events) {
    const k = key(e);
    const s = sums.get(k) ?? { us: 0, n: 0 };
    s.us += e.dur;
    s.n += 1;
    sums.set(k, s);
  }
  const rows = [...sums.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, top);
  for (const [k, s] of rows)
    console.log(`  ${(s.us / runs / 1000).toFixed(2).padStart(8)} ms  ${String(s.n / runs).padStart(5)}×  ${k}`);
}

const which = process.argv[2] ?? 'r50';
const runs = Number(process.argv[3] ?? 5);
const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-profile-'));
const engine = await Engine.create({ device: 'cpu' });
let modelPath = 'resources/demo/layerlens-demo.onnx';
let shape = [1, 3, 96, 96];
if (which === 'r50') {
  modelPath = path.join(dir, 'resnet50.onnx');
  await writeFile(modelPath, resnet50Model());
  shape = [1, 3, 224, 224];
}
const model = await engine.models.openPath(modelPath);
const analysis = await engine.analysis(model, shape);
const tensors = [...new Set(resolveLayers(analysis, ['stages'], model.summary.name).map((l) => l.tensor))];
const methods = (process.env.METHODS ? (process.env.METHODS.split(',') as typeof GRADIENT_METHODS) : GRADIENT_METHODS)
  .filter((m) => IN_GRAPH_METHODS.includes(m))
  .sort();
const hooked = buildHookedModel(analysis, tensors, true, {
  maps: methods,
  exposeActivations: false,
  exposeGradients: false,
  form: process.arch === 'x64' ? 'blocked' : 'plain',
});
const hookedPath = path.join(dir, 'hooked.onnx');
await writeFile(hookedPath, hooked.bytes);
const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
const input = new ort.Tensor('float32', data, shape);
const seed = new Float32Array(hooked.scoreShape.reduce((a, b) => a * b, 1));
const plainFeeds = { [hooked.inputName]: input };
const hookedFeeds = {
  ...plainFeeds,
  [SEED_INPUT]: new ort.Tensor('float32', seed, hooked.scoreShape),
  [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(1), []),
};
// Wall-clock medians first, interleaved so that load from other processes hits both alike.
{
  const open = (file: string) =>
    ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(process.env.THREADS ? { intraOpNumThreads: Number(process.env.THREADS) } : {}),
    });
  const [sp, sh] = [await open(modelPath), await open(hookedPath)];
  await sp.run(plainFeeds);
  await sh.run(hookedFeeds);
  const tp: number[] = [];
  const th: number[] = [];
  // Blocks of runs, the first of each discarded: right after the other session ran, its thread pool is
  // still spinning and slows whichever run comes next.
  for (let block = 0; block < 3; block++) {
    for (const [s, feeds, out] of [
      [sp, plainFeeds, tp],
      [sh, hookedFeeds, th],
    ] as const) {
      await s.run(feeds);
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await s.run(feeds);
        out.push(performance.now() - t0);
      }
    }
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
  // CPU time of this process (one intra-op thread: no spinning workers) is less disturbed by other load.
  const cpu = async (s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) await s.run(feeds);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / runs;
  };
  if (process.env.THREADS === '1') {
    const cp = [await cpu(sp, plainFeeds), await cpu(sp, plainFeeds)];
    const ch = [await cpu(sh, hookedFeeds), await cpu(sh, hookedFeeds)];
    console.log(
      `cpu ms/run: plain ${Math.min(...cp).toFixed(2)}, hooked ${Math.min(...ch).toFixed(2)}, ratio ${(Math.min(...ch) / Math.min(...cp)).toFixed(3)}`,
    );
  }
  console.log(
    `wall medians: plain ${med(tp).toFixed(2)} ms, hooked ${med(th).toFixed(2)} ms, ratio ${(med(th) / med(tp)).toFixed(2)}`,
  );
  await sp.release();
  await sh.release();
}
if (process.env.NOPROFILE) process.exit(0);
const plain = await profile(modelPath, plainFeeds, runs, dir);
const withHooks = await profile(hookedPath, hookedFeeds, runs, dir);
const total = (events: TraceEvent[]): number => events.reduce((a, e) => a + e.dur, 0) / runs / 1000;
console.log(`plain: ${total(plain).toFixed(2)} ms of kernels per run; hooked: ${total(withHooks).toFixed(2)} ms`);
console.log('plain by op:');
table(plain, runs, (e) => e.args?.op_name ?? '?', 10);
console.log('hooked by origin:');
table(withHooks, runs, (e) => origin(e.name));
console.log('hooked by origin and op:');
table(withHooks, runs, (e) => `${origin(e.name)} ${e.args?.op_name ?? '?'}`, 30);
console.log('hooked, slowest nodes:');
table(withHooks, runs, (e) => `${e.args?.op_name ?? '?'} ${e.name.replace(/_kernel_time$/, '')}`, 40);
if (process.env.CONVS) {
  // Depthwise convolutions (ReLU masks, into-blocked copies) carry one weight per channel; adjoints many.
  console.log('backward convolutions by kind:');
  table(
    withHooks.filter((e) => origin(e.name) === 'backward' && e.args?.op_name === 'Conv'),
    runs,
    (e) => (Number(e.args?.parameter_size ?? 0) < 16_384 ? 'depthwise (masks, copies)' : 'adjoint'),
  );
  console.log('all convolutions (ms, weights, input, output bytes):');
  table(
    withHooks.filter((e) => e.args?.op_name === 'Conv'),
    runs,
    (e) =>
      `${origin(e.name).padEnd(8)} w ${String(e.args?.parameter_size).padStart(8)} in ${String(e.args?.activation_size).padStart(8)} out ${String(e.args?.output_size).padStart(8)}`,
    200,
  );
}
if (process.env.ORDER) {
  // Execution order of the last profiled run: which forward/backward/maps nodes ran next to which.
  const perRun = withHooks.length / runs;
  for (const e of withHooks.slice(-perRun))
    console.log(
      `${origin(e.name).padEnd(8)} ${(e.args?.op_name ?? '?').padEnd(14)} ${String(e.args?.output_size).padStart(8)} ${String(e.dur).padStart(6)} w${String(e.args?.parameter_size)} ${e.name}`,
    );
}
if (process.env.MAPS) {
  console.log('maps, slowest nodes:');
  const maps = withHooks.filter((e) => origin(e.name) === 'maps');
  table(maps, runs, (e) => `${e.args?.op_name ?? '?'} ${e.name.replace(/_kernel_time$/, '')}`, 30);
}
engine.dispose();
await rm(dir, { recursive: true });
if (process.env.COMPARE) {
  const byName = (events: TraceEvent[]) => {
    const m = new Map<string, number>();
    for (const e of events) m.set(e.name, (m.get(e.name) ?? 0) + e.dur / runs / 1000);
    return m;
  };
  const p = byName(plain);
  const h = byName(withHooks);
  let sp = 0;
  let sh = 0;
  for (const [name, t] of p) {
    const u = h.get(name);
    if (u === undefined) {
      console.log(`only in plain: ${name} ${t.toFixed(2)}`);
      continue;
    }
    sp += t;
    sh += u;
    console.log(`${t.toFixed(2).padStart(6)} ${u.toFixed(2).padStart(6)}  ${name}`);
  }
  console.log(`shared nodes: plain ${sp.toFixed(2)} hooked ${sh.toFixed(2)}`);
}
