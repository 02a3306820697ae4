/**
 * `npx tsx bench/cam-ab.ts FLAG [runs]`: A/B of the hooked ResNet-50 CAM graph built without and with the
 * environment flag FLAG set (a development switch in a gradient rule), runs interleaved with the plain
 * forward in one process, one intra-op thread; per-run CPU time, minimum and median. The minimum is what
 * other load on a shared machine disturbs least.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorShapeProto_DimensionSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { GRADIENT_METHODS } from '../src-shared/cam';
import { Engine } from '../src-main/engine/engine';
import { resolveLayers } from '../src-main/engine/graph/layers';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../src-main/engine/hooks/map-graph';
import { resnet50Model } from './resnet50';

function pinInput(bytes: Uint8Array, dims: number[]): Uint8Array {
  const m = fromBinary(ModelProtoSchema, bytes);
  const t = m.graph?.input[0]?.type?.value;
  if (t?.case === 'tensorType' && t.value.shape)
    t.value.shape.dim = dims.map((d) =>
      create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }),
    );
  return toBinary(ModelProtoSchema, m);
}

const flags = (process.argv[2] ?? '').split(',').filter(Boolean);
const runs = Number(process.argv[3] ?? 10);
const threads = Number(process.env.THREADS ?? 1);
const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-ab-'));
const engine = await Engine.create({ device: 'cpu' });
const modelPath = path.join(dir, 'resnet50.onnx');
await writeFile(modelPath, resnet50Model());
const shape = [1, 3, 224, 224];
const model = await engine.models.openPath(modelPath);
const analysis = await engine.analysis(model, shape);
const tensors = [...new Set(resolveLayers(analysis, ['stages'], model.summary.name).map((l) => l.tensor))];
const methods = GRADIENT_METHODS.filter((m) => IN_GRAPH_METHODS.includes(m)).sort();
const build = (on: boolean): Uint8Array => {
  for (const f of flags)
    if (on) process.env[f] = '1';
    else delete process.env[f];
  const built = buildHookedModel(analysis, tensors, true, {
    // Flag NOMAPS: side B without the maps (what the maps cost); METHODS=a,b: side B with only those.
    maps:
      on && flags.includes('NOMAPS')
        ? []
        : on && process.env.METHODS
          ? (process.env.METHODS.split(',') as typeof methods)
          : methods,
    exposeActivations: false,
    exposeGradients: false,
    form: process.arch === 'x64' ? 'blocked' : 'plain',
  });
  return on && flags.includes('PIN') ? pinInput(built.bytes, shape) : built.bytes;
};
const hooked = buildHookedModel(analysis, tensors, true, {
  maps: methods,
  exposeActivations: false,
  exposeGradients: false,
  form: process.arch === 'x64' ? 'blocked' : 'plain',
});
const options: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  intraOpNumThreads: threads,
};
// BEXTRA: session config entries (JSON) for side B and, with PEXTRA=1, for the plain forward too.
const extra = process.env.BEXTRA ? { extra: JSON.parse(process.env.BEXTRA) as Record<string, unknown> } : {};
const sessions = {
  plain: await ort.InferenceSession.create(modelPath, { ...options, ...(process.env.PEXTRA ? extra : {}) }),
  A: await ort.InferenceSession.create(build(false), options),
  B: await ort.InferenceSession.create(build(true), { ...options, ...extra }),
};
const data = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i));
const plainFeeds = { [hooked.inputName]: new ort.Tensor('float32', data, shape) };
const hookedFeeds = {
  ...plainFeeds,
  [SEED_INPUT]: new ort.Tensor('float32', new Float32Array(1000), hooked.scoreShape),
  [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(1), []),
};
const times: Record<string, number[]> = { plain: [], A: [], B: [] };
// One thread: runs interleaved one by one, CPU time. More threads: blocks of runs per session, the first of
// each discarded (a session's spinning pool slows whichever run follows it), wall time.
const block = threads === 1 ? 1 : 6;
for (let i = 0; i <= Math.ceil(runs / block); i++) {
  for (const [name, s] of Object.entries(sessions)) {
    if (block > 1) await s.run(name === 'plain' ? plainFeeds : hookedFeeds);
    for (let k = 0; k < block; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await s.run(name === 'plain' ? plainFeeds : hookedFeeds);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      // Several threads spin while they wait: their CPU time says nothing, wall time does.
      if (i > 0) times[name]?.push(threads === 1 ? (c.user + c.system) / 1000 : wall);
    }
  }
}
const stat = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return { min: s[0] as number, median: s[Math.floor(s.length / 2)] as number };
};
const p = stat(times.plain as number[]);
for (const name of ['plain', 'A', 'B']) {
  const t = stat(times[name] as number[]);
  console.log(
    `${name.padEnd(6)} min ${t.min.toFixed(2).padStart(7)} ms (${(t.min / p.min).toFixed(3)}×)  median ${t.median.toFixed(2).padStart(7)} ms (${(t.median / p.median).toFixed(3)}×)`,
  );
}
engine.dispose();
await rm(dir, { recursive: true });
