/**
 * Issue target: a stats run over ≥ 500 images on the demo model costs ≤ 1.10× plain inference over the same
 * images. Inputs are decoded once beforehand, so every side times the model (and, for batches, gathering the
 * images into one tensor), not image decoding. The stats run feeds the images in batches (see
 * src-main/engine/stats/batching.ts); plain inference is timed in the same batches — the like-for-like
 * figure the target is checked on — and both are also timed with one image per run, as `predict` does it.
 * The machine is shared and noisy: the three are interleaved over several rounds and the medians reported,
 * with the ratio of each round's figures; the same for process CPU time (onnxruntime's threads and the
 * scan worker included), which other processes on the machine disturb less than wall time.
 */
import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { Engine } from '../src-main/engine/engine';
import type { InputTensor } from '../src-main/engine/input-tensor';
import { toInputTensor } from '../src-main/engine/input-tensor';
import { HookedSessions } from '../src-main/engine/hooks/hooked-sessions';
import { encodeModel } from '../src-main/engine/onnx/rewrite';
import { expandImageArgs } from '../src-main/engine/stats/image-set';
import { runStats } from '../src-main/engine/stats/stats-runner';
import type { Figure } from './run';
import { graphFormFor } from '../src-main/engine/inference/graph-form';
import type { ModelSession } from '../src-main/engine/inference/session-pool';

const IMAGES = 500;
const ROUNDS = 5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function statsBenchmark(): Promise<Figure[]> {
  const engine = await Engine.create({ device: 'cpu' });
  const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
  const files = await expandImageArgs(['test/fixtures/demo-heldout']);
  const decoded: InputTensor[] = [];
  for (const f of files)
    decoded.push(await toInputTensor(model, (await engine.resolveImage({ kind: 'path', path: f })).bytes, f));
  const input = (i: number): InputTensor => decoded[i % decoded.length] as InputTensor;
  const shape = input(0).shape;
  const size = input(0).data.length;

  const plain = await engine.plainSession(model);
  const name = model.summary.inputs[0]?.name as string;
  type Timed = { ms: number; cpu: number };
  const timed = async (fn: () => Promise<unknown>): Promise<Timed> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const cpu = process.cpuUsage(cpu0);
    return { ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000 };
  };
  const inference = async (session: ModelSession, batch: number): Promise<void> => {
    const feed = new Float32Array(batch * size);
    for (let i = 0; i < IMAGES; i += batch) {
      const n = Math.min(batch, IMAGES - i);
      for (let j = 0; j < n; j++) feed.set(input(i + j).data, j * size);
      feed.fill(0, n * size);
      const outputs = await session.run({ [name]: new ort.Tensor('float32', feed, [batch, ...shape.slice(1)]) });
      for (const t of Object.values(outputs)) t.dispose();
    }
  };
  const plainRun = (batch: number) => inference(plain.session, batch);

  // As the engine does on the CPU: the blocked-layout forms on x86.
  const hooked = new HookedSessions(
    (key, bytes, m) => engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
    () => graphFormFor('cpu'),
  );
  const deps = { analysis: (m: typeof model, s: number[]) => engine.analysis(m, s), hooked };
  const request = { layers: null, includeParamless: false, bins: 40, range: { kind: 'fixed' as const, lo: 0, hi: 10 } };
  const statsRun = (maxBatch?: number) =>
    runStats(deps, model, { count: IMAGES, load: async (i) => input(i) }, { ...request, maxBatch });
  // Warm-up: builds the sessions (the batched one too) and runs each path once.
  const warm = await statsRun();
  const batch = warm.batch;
  const layers = warm.layers.length;
  await statsRun(1);
  await plainRun(1);
  await plainRun(batch);
  // The stats run's own session (same key, so the same cached session): its forward hooks alone, every
  // hooked activation copied out and nothing computed on it — what exposing the activations costs.
  const batchShape = [batch, ...shape.slice(1)];
  const tensors = [...new Set(warm.layers.map((l) => l.tensor))];
  const { pooled } = await hooked.get(
    model,
    await engine.analysis(model, batchShape),
    tensors,
    false,
    { exposeActivations: true },
    batchShape,
  );
  const hooksRun = () => inference(pooled.session, batch);
  await hooksRun();
  // The floor of any statistic of these activations, computed anywhere: the model plus one in-graph
  // ReduceSum of each hooked tensor (nothing copied out, onnxruntime's own threads). Reading a layer's
  // output costs the pass itself and the fusion (Conv+Relu, Conv+Add) that never materialised it.
  const graph = model.proto.graph;
  const readAll = await ort.InferenceSession.create(
    encodeModel({
      ...model.proto,
      graph: graph && {
        ...graph,
        node: [
          ...graph.node,
          ...tensors.map((t, i) =>
            create(NodeProtoSchema, {
              opType: 'ReduceSum',
              input: [t],
              output: [`layerlens/read/${i}`],
              attribute: [{ name: 'keepdims', type: 2, i: 0n }],
            }),
          ),
        ],
        output: [...graph.output, ...tensors.map((_, i) => create(ValueInfoProtoSchema, { name: `layerlens/read/${i}` }))],
      },
    }),
    { graphOptimizationLevel: 'all', logSeverityLevel: 3, executionProviders: ['cpu'] },
  );
  const readRun = () => inference(readAll, batch);
  await readRun();

  const single: Timed[] = [];
  const batched: Timed[] = [];
  const stats: Timed[] = [];
  const statsSingle: Timed[] = [];
  const hooksOnly: Timed[] = [];
  const readOnly: Timed[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    single.push(await timed(() => plainRun(1)));
    batched.push(await timed(() => plainRun(batch)));
    hooksOnly.push(await timed(hooksRun));
    readOnly.push(await timed(readRun));
    stats.push(await timed(() => statsRun()));
    statsSingle.push(await timed(() => statsRun(1)));
  }
  await readAll.release();
  engine.dispose();
  const ratio = (a: Timed[], b: Timed[], key: keyof Timed) => median(a.map((x, i) => x[key] / (b[i] as Timed)[key]));
  const ms = (xs: Timed[]) => median(xs.map((x) => x.ms));
  return [
    { name: `plain inference, ${IMAGES} images, 1 per run`, value: ms(single), unit: 'ms' },
    { name: `plain inference, ${IMAGES} images, ${batch} per run`, value: ms(batched), unit: 'ms' },
    { name: `forward hooks only, ${IMAGES} images, ${batch}/run`, value: ms(hooksOnly), unit: 'ms' },
    { name: `stats run, ${IMAGES} images × ${layers} layers, ${batch}/run`, value: ms(stats), unit: 'ms' },
    { name: `stats run, ${IMAGES} images × ${layers} layers, 1/run`, value: ms(statsSingle), unit: 'ms' },
    { name: 'stats ÷ inference, both 1 per run', value: ratio(statsSingle, single, 'ms'), unit: '×' },
    { name: 'stats ÷ inference, both 1 per run, CPU time', value: ratio(statsSingle, single, 'cpu'), unit: '×' },
    { name: `stats (${batch}/run) ÷ inference (1/run)`, value: ratio(stats, single, 'ms'), unit: '×' },
    { name: 'hooks only ÷ inference, same batches', value: ratio(hooksOnly, batched, 'ms'), unit: '×' },
    { name: 'floor: one in-graph read of each layer ÷ inference', value: ratio(readOnly, batched, 'ms'), unit: '×' },
    { name: 'stats ÷ inference, same batches, CPU time', value: ratio(stats, batched, 'cpu'), unit: '×' },
    {
      name: `stats ÷ inference, same batches (${batch}/run)`,
      value: ratio(stats, batched, 'ms'),
      unit: '×',
      target: { max: 1.1 },
    },
  ];
}
