/**
 * Issue target: a stats run over ≥ 500 images on the demo model costs ≤ 1.10× plain inference over the same
 * images. Inputs are decoded once beforehand, so every side times the model (and, for batches, gathering the
 * images into one tensor), not image decoding. The stats run feeds the images in batches (see
 * src-main/engine/stats/batching.ts), so plain inference is timed both ways: one image per run, as `predict`
 * does it, and in the same batches as the stats run — the like-for-like figure the target is checked on.
 * The machine is shared and noisy: the three are interleaved over several rounds and the medians reported,
 * with the ratio of each round's figures.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Engine } from '../src-main/engine/engine';
import type { InputTensor } from '../src-main/engine/input-tensor';
import { toInputTensor } from '../src-main/engine/input-tensor';
import { HookedSessions } from '../src-main/engine/hooks/hooked-sessions';
import { expandImageArgs } from '../src-main/engine/stats/image-set';
import { runStats } from '../src-main/engine/stats/stats-runner';
import type { Figure } from './run';

const IMAGES = 500;
const ROUNDS = 3;

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
  const plainRun = async (batch: number): Promise<number> => {
    const feed = new Float32Array(batch * size);
    const t0 = performance.now();
    for (let i = 0; i < IMAGES; i += batch) {
      const n = Math.min(batch, IMAGES - i);
      for (let j = 0; j < n; j++) feed.set(input(i + j).data, j * size);
      feed.fill(0, n * size);
      await plain.session.run({ [name]: new ort.Tensor('float32', feed, [batch, ...shape.slice(1)]) });
    }
    return performance.now() - t0;
  };

  const hooked = new HookedSessions((key, bytes, m) =>
    engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
  );
  const deps = { analysis: (m: typeof model, s: number[]) => engine.analysis(m, s), hooked };
  const request = { layers: null, includeParamless: false, bins: 40, range: { kind: 'fixed' as const, lo: 0, hi: 10 } };
  const statsRun = async (count: number) => {
    const t0 = performance.now();
    const result = await runStats(deps, model, { count, load: async (i) => input(i) }, request);
    return { ms: performance.now() - t0, result };
  };
  // Warm-up: builds the sessions (the batched one too) and runs each path once.
  const warm = await statsRun(IMAGES);
  const batch = warm.result.batch;
  await plainRun(1);
  await plainRun(batch);

  const single: number[] = [];
  const batched: number[] = [];
  const stats: number[] = [];
  let layers = 0;
  for (let r = 0; r < ROUNDS; r++) {
    single.push(await plainRun(1));
    batched.push(await plainRun(batch));
    const run = await statsRun(IMAGES);
    stats.push(run.ms);
    layers = run.result.layers.length;
  }
  engine.dispose();
  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / (b[i] as number)));
  return [
    { name: `plain inference, ${IMAGES} images, 1 per run`, value: median(single), unit: 'ms' },
    { name: `plain inference, ${IMAGES} images, ${batch} per run`, value: median(batched), unit: 'ms' },
    { name: `stats run, ${IMAGES} images × ${layers} layers, ${batch}/run`, value: median(stats), unit: 'ms' },
    { name: 'stats ÷ inference, 1 per run', value: ratio(stats, single), unit: '×' },
    { name: `stats ÷ inference, same batches (${batch}/run)`, value: ratio(stats, batched), unit: '×', target: { max: 1.1 } },
  ];
}
