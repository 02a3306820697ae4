/**
 * The batch of states (state-batch.ts): item i of the rewritten demo model, with its constant original or
 * randomised weights, must give the logits, hooked activations and hooked gradients that the model with
 * the weights fed as inputs gives for state i — the gradients go back through the Splits and Concats
 * between the runs of items (their rules are checked against finite differences in vjp-rules.test.ts).
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { Engine } from '../../../../src-main/engine/engine';
import { knownShape, type GraphAnalysis } from '../../../../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../../../../src-main/engine/graph/layers';
import { buildHookedModel, scoreTensor, SEED_INPUT, TOP_WEIGHT_INPUT } from '../../../../src-main/engine/hooks/hooked-model';
import { floatValues } from '../../../../src-main/engine/onnx/tensor-data';
import { stateBatchModel, stateOrder } from '../../../../src-main/engine/trust/state-batch';
import { randomisedValues, weightModules } from '../../../../src-main/engine/trust/weight-modules';
import { weightsAsInputs } from '../../../../src-main/engine/trust/weights-as-inputs';

const SHAPE = [3, 96, 96];

describe('the batch of states', () => {
  let engine: Engine;
  let one: GraphAnalysis;
  let rewritten: GraphAnalysis;
  let tensors: TensorName[];
  let items: Set<string>[];

  beforeAll(async () => {
    engine = await Engine.create({});
    const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
    one = await engine.analysis(model, [1, ...SHAPE]);
    tensors = [...new Set(resolveLayers(one, ['stages'], model.summary.name).map((l) => l.tensor))];
    const modules = weightModules(one);
    const names = modules.map((m) => m.weights.map((w) => w.name));
    items = stateOrder(modules.length).map(
      (s) => new Set(s.kind === 'original' ? [] : s.kind === 'cascading' ? names.slice(0, s.step + 1).flat() : names[s.step]),
    );
    const randomised = new Map(modules.flatMap((m) => m.weights).map((w) => [w.name, randomisedValues(w, 5)]));
    const batched = { ...(await engine.analysis(model, [items.length, ...SHAPE])), gridOf: one.gridOf };
    rewritten = stateBatchModel(batched, items, randomised, new Set([...tensors, scoreTensor(batched)]));
  }, 60_000);

  afterAll(() => engine?.dispose());

  it('orders the states so that each module changes weights at most three times along the batch', () => {
    expect(items).toHaveLength(12);
    expect(stateOrder(6).map((s) => `${s.kind[0]}${s.step}`)).toEqual([
      'c5',
      'c4',
      'c3',
      'c2',
      'c1',
      'c0',
      'o0',
      'i1',
      'i2',
      'i3',
      'i4',
      'i5',
    ]);
  });

  it('splits the batch about once per module, and runs equal items once below the hooked layers', () => {
    const ops = rewritten.index.nodes.map((n) => n.opType);
    const convs = ops.filter((o) => o === 'Conv').length;
    const count = (op: string): number => ops.filter((o) => o === op).length;
    expect(convs).toBeGreaterThan(40);
    // At most one Split into each module's runs of items and one Concat back (the stage outputs are
    // hooked), where a Split and a Concat around each of the 21 split convolutions would be 21 of each.
    expect(count('Split')).toBeLessThanOrEqual(6);
    expect(count('Concat')).toBeLessThanOrEqual(6);
    // The stem's convolution: its runs of items ([full randomisation], [the 10 states with the original
    // stem], [the stem alone]) hold equal items, so each is one row (3 rows where 12 items go in).
    const stem = one.index.nodes.find((n) => n.opType === 'Conv')?.name as string;
    const rows = rewritten.index.nodes
      .filter((n) => n.name.startsWith(`${stem}/states_`))
      .map((n) => knownShape(rewritten, n.output[0] as string)?.[0]);
    expect(rows).toEqual([1, 1, 1]);
  });

  it("gives each item its state's logits, activations and gradients", async () => {
    const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 } as const;
    const options = { maps: [], exposeActivations: true, exposeGradients: true, form: 'blocked' } as const;
    const batch = buildHookedModel(rewritten, tensors, true, options);
    const weights = weightModules(one).flatMap((m) => m.weights);
    const fedModel = buildHookedModel(weightsAsInputs(one, weights, 'demo'), tensors, true, options);
    expect(batch.gradientError).toBeNull();
    const count = items.length;
    const classes = batch.scoreShape.at(-1) as number;
    const image = Float32Array.from({ length: 3 * 96 * 96 }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 0.011));
    const data = new Float32Array(count * image.length);
    const seed = new Float32Array(count * classes);
    for (let i = 0; i < count; i++) {
      data.set(image, i * image.length);
      seed[i * classes + 2] = 1;
    }
    const batchSession = await ort.InferenceSession.create(batch.bytes, opts);
    const out = await batchSession.run({
      [batch.inputName]: new ort.Tensor('float32', data, [count, ...SHAPE]),
      [SEED_INPUT]: new ort.Tensor('float32', seed, [count, classes]),
      [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
    });
    const fedSession = await ort.InferenceSession.create(fedModel.bytes, opts);
    const randomised = new Map(weights.map((w) => [w.name, randomisedValues(w, 5)]));
    const compared: [string, string][] = [
      [batch.score, fedModel.score],
      ...tensors.map((t) => [t, t] as [string, string]),
      ...[...(batch.gradients ?? new Map<TensorName, TensorName>())].map(
        ([t, g]) => [g, fedModel.gradients?.get(t) as string] as [string, string],
      ),
    ];
    expect(compared).toHaveLength(1 + 2 * tensors.length);
    for (let i = 0; i < count; i++) {
      const feeds: Record<string, ort.Tensor> = {
        [fedModel.inputName]: new ort.Tensor('float32', image, [1, ...SHAPE]),
        [SEED_INPUT]: new ort.Tensor('float32', seed.subarray(0, classes), [1, classes]),
        [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
      };
      for (const w of weights) {
        const values = items[i]?.has(w.name) ? (randomised.get(w.name) as Float32Array) : (floatValues(w) as Float32Array);
        feeds[w.name] = new ort.Tensor('float32', values, w.dims.map(Number));
      }
      const ref = await fedSession.run(feeds);
      for (const [mine, theirs] of compared) {
        const a = out[mine]?.data as Float32Array;
        const b = ref[theirs]?.data as Float32Array;
        const n = b.length;
        let diff = 0;
        let scale = 0;
        for (let k = 0; k < n; k++) {
          diff = Math.max(diff, Math.abs((a[i * n + k] as number) - (b[k] as number)));
          scale = Math.max(scale, Math.abs(b[k] as number));
        }
        expect(diff / (scale || 1), `item ${i} ${mine}`).toBeLessThan(1e-5);
      }
    }
    await batchSession.release();
    await fedSession.release();
  }, 120_000);
});
