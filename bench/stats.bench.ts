/**
 * Issue target: a stats run over ≥ 500 images on the demo model costs ≤ 1.10× plain inference over the same
 * images. Inputs are decoded once beforehand so both sides time the model, not image decoding.
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

export async function statsBenchmark(): Promise<Figure[]> {
  const engine = await Engine.create({ device: 'cpu' });
  const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
  const files = await expandImageArgs(['test/fixtures/demo-heldout']);
  const decoded: InputTensor[] = [];
  for (const f of files)
    decoded.push(await toInputTensor(model, (await engine.resolveImage({ kind: 'path', path: f })).bytes, f));
  const input = (i: number): InputTensor => decoded[i % decoded.length] as InputTensor;

  const plain = await engine.plainSession(model);
  const name = model.summary.inputs[0]?.name as string;
  await plain.session.run({ [name]: new ort.Tensor('float32', input(0).data, input(0).shape) });
  let t0 = performance.now();
  for (let i = 0; i < IMAGES; i++) await plain.session.run({ [name]: new ort.Tensor('float32', input(i).data, input(i).shape) });
  const inference = performance.now() - t0;

  const hooked = new HookedSessions((key, bytes, m) =>
    engine.sessions.get(key, () => ({ bytes: bytes() }), 'cpu', m.summary.name),
  );
  const deps = { analysis: (m: typeof model, shape: number[]) => engine.analysis(m, shape), hooked };
  const request = { layers: null, includeParamless: false, bins: 40, range: { kind: 'fixed' as const, lo: 0, hi: 10 } };
  await runStats(deps, model, { count: 1, load: async () => input(0) }, request); // builds the session once
  t0 = performance.now();
  const result = await runStats(deps, model, { count: IMAGES, load: async (i) => input(i) }, request);
  const stats = performance.now() - t0;
  engine.dispose();
  return [
    { name: `plain inference, ${IMAGES} images`, value: inference, unit: 'ms' },
    { name: `stats run, ${IMAGES} images × ${result.layers.length} layers`, value: stats, unit: 'ms' },
    { name: 'stats ÷ inference', value: stats / inference, unit: '×', target: { max: 1.1 } },
  ];
}
