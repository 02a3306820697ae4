/**
 * Checks LayerLens's backward graphs against central finite differences of onnxruntime's own forward pass:
 * for a random seed r and random directions v, ⟨∂(r·y)/∂x, v⟩ must equal (f(x+εv) − f(x−εv)) / 2ε.
 */
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../src-shared/api';
import { analyzeGraph } from '../../src-main/engine/graph/analyze-graph';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../../src-main/engine/hooks/hooked-model';
import type { GraphForm } from '../../src-main/engine/hooks/graph-builder';
import { describeModel } from '../../src-main/engine/model-registry';
import { floatTensor } from './onnx-builder';

/** Deterministic pseudo-random numbers (mulberry32, the trust checks' generator) so a failing case can be replayed. */
import { mulberry32 as rng } from '../../src-main/engine/trust/random';

export { rng };

export function randomArray(n: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Sum of uniforms: roughly normal, bounded.
    out[i] = (random() + random() + random() - 1.5) * scale;
  }
  return out;
}

/** A random permutation of values 0.02 apart: no two inputs come within a finite-difference step of each other. */
export function distinctValues(n: number, random: () => number): Float32Array {
  const out = Float32Array.from({ length: n }, (_, i) => (i - n / 2 + 0.5) * 0.02);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

/** A float initializer of roughly normal random values (deterministic for a given `random`). */
export function randomTensor(name: string, dims: number[], random: () => number, scale = 0.5): ReturnType<typeof floatTensor> {
  return floatTensor(
    name,
    dims,
    Array.from(
      randomArray(
        dims.reduce((a, b) => a * b, 1),
        random,
        scale,
      ),
    ),
  );
}

export interface GradCheckResult {
  analytic: number[];
  numeric: number[];
  maxRelativeError: number;
}

export async function gradCheck(
  modelBytes: Uint8Array,
  inputShape: number[],
  options: {
    seed?: number;
    epsilon?: number;
    directions?: number;
    inputScale?: number;
    distinct?: boolean;
    form?: GraphForm;
  } = {},
): Promise<GradCheckResult> {
  const random = rng(options.seed ?? 1);
  const epsilon = options.epsilon ?? 1e-2;
  const model = describeModel(modelBytes, 'case.onnx', null);
  const input = model.summary.inputs[0]?.name as TensorName;
  const analysis = await analyzeGraph(model, new Map([[input, inputShape]]));
  // By default the blocked-layout forms where they apply (channels a multiple of 8), as the engine on an x86
  // CPU; the GPU form's rules are the same math in other ops, checked here on the CPU provider.
  const hooked = buildHookedModel(analysis, [input], true, { form: options.form ?? 'blocked' });
  if (!hooked.gradients) throw new Error(hooked.gradientError ?? 'no gradients');
  const gradName = hooked.gradients.get(input) as string;

  const n = inputShape.reduce((a, b) => a * b, 1);
  const x = options.distinct ? distinctValues(n, random) : randomArray(n, random, options.inputScale ?? 1);
  const seed = randomArray(
    hooked.scoreShape.reduce((a, b) => a * b, 1),
    random,
  );

  const backward = await ort.InferenceSession.create(hooked.bytes);
  const forward = await ort.InferenceSession.create(modelBytes);
  const outName = forward.outputNames[0] as string;
  const score = async (values: Float32Array): Promise<number> => {
    const r = await forward.run({ [input]: new ort.Tensor('float32', values, inputShape) });
    const y = r[outName]?.data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (y[i] as number) * (seed[i] as number);
    return s;
  };
  const result = await backward.run({
    [input]: new ort.Tensor('float32', x, inputShape),
    [SEED_INPUT]: new ort.Tensor('float32', seed, hooked.scoreShape),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', new Float32Array([0]), []),
  });
  const grad = result[gradName]?.data as Float32Array;

  const analytic: number[] = [];
  const numeric: number[] = [];
  let maxRelativeError = 0;
  for (let k = 0; k < (options.directions ?? 3); k++) {
    const v = randomArray(n, random);
    const plus = Float32Array.from(x, (xi, i) => xi + epsilon * (v[i] as number));
    const minus = Float32Array.from(x, (xi, i) => xi - epsilon * (v[i] as number));
    const fd = ((await score(plus)) - (await score(minus))) / (2 * epsilon);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += (grad[i] as number) * (v[i] as number);
    analytic.push(dot);
    numeric.push(fd);
    maxRelativeError = Math.max(maxRelativeError, Math.abs(dot - fd) / Math.max(Math.abs(fd), Math.abs(dot), 1e-2));
  }
  await backward.release();
  await forward.release();
  return { analytic, numeric, maxRelativeError };
}
