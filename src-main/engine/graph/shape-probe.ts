/**
 * Shapes of every intermediate tensor: declared ones from value_info, completed by one probe run that
 * exposes all node outputs (a forward hook on everything) on a zero input. The result is cached by the
 * caller per model and input shape.
 */
import * as ort from 'onnxruntime-node';
import '../inference/runtime-env';
import type { Dim, TensorName } from '../../../src-shared/api';
import { runtimeMessage } from '../errors';
import type { ModelProto } from '../onnx/decode-model';
import { tensorInfo } from '../onnx/model-summary';
import { encodeModel, withExtraOutputs } from '../onnx/rewrite';
import { dtypeName } from '../onnx/tensor-types';
import type { GraphIndex } from './graph-index';

export interface TensorShape {
  dtype: string;
  shape: Dim[];
  source: 'declared' | 'probe';
}

export function declaredShapes(model: ModelProto): Map<TensorName, TensorShape> {
  const out = new Map<TensorName, TensorShape>();
  const graph = model.graph;
  if (!graph) return out;
  for (const v of [...graph.input, ...graph.valueInfo, ...graph.output]) {
    const info = tensorInfo(v);
    if (info.shape.length > 0 || v.type?.value.case === 'tensorType')
      out.set(info.name, { dtype: info.dtype, shape: info.shape, source: 'declared' });
  }
  for (const t of graph.initializer)
    out.set(t.name as TensorName, { dtype: dtypeName(t.dataType), shape: t.dims.map(Number), source: 'declared' });
  return out;
}

const ZERO_INPUTS: Record<string, (n: number) => ort.Tensor['data']> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int64: (n) => new BigInt64Array(n),
  int32: (n) => new Int32Array(n),
  uint8: (n) => new Uint8Array(n),
  bool: (n) => new Uint8Array(n),
};

/** A probe input above this many elements would allocate gigabytes: only declared shapes are used then. */
const MAX_PROBE_ELEMENTS = 2 ** 28;

export interface ProbeResult {
  shapes: Map<TensorName, TensorShape>;
  warning: string | null;
  /** onnxruntime's reason when the model could not be loaded or run at all (first line). */
  failure: string | null;
}

/**
 * @param inputShapes concrete shape per real input (dynamic dimensions already filled in)
 */
export async function probeShapes(
  model: ModelProto,
  index: GraphIndex,
  inputShapes: Map<TensorName, number[]>,
): Promise<ProbeResult> {
  const shapes = declaredShapes(model);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of index.inputs) {
    const shape = inputShapes.get(name);
    const dtype = shapes.get(name)?.dtype ?? 'float32';
    const make = ZERO_INPUTS[dtype];
    if (!shape || !make)
      return {
        shapes,
        warning: `Input "${name}" (${dtype}) cannot be probed; only declared shapes are shown.`,
        failure: null,
      };
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || n > MAX_PROBE_ELEMENTS) {
      return {
        shapes,
        warning: `Input "${name}" has shape [${shape.join(', ')}], too large to probe; only declared shapes are shown.`,
        failure: null,
      };
    }
    feeds[name] = new ort.Tensor(dtype as 'float32', make(n) as Float32Array, shape);
  }
  const wanted = index.nodes.flatMap((n) => n.output).filter((o) => o !== '') as TensorName[];
  let session: ort.InferenceSession | null = null;
  try {
    session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, wanted)), {
      graphOptimizationLevel: 'disabled',
      // Its failure is reported as a warning; onnxruntime's own coloured log lines must not reach the terminal.
      logSeverityLevel: 4,
    });
    const results = await session.run(feeds);
    for (const [name, tensor] of Object.entries(results)) {
      shapes.set(name as TensorName, { dtype: tensor.type, shape: [...tensor.dims], source: 'probe' });
      tensor.dispose();
    }
    return { shapes, warning: null, failure: null };
  } catch (error) {
    const failure = runtimeMessage(error);
    return { shapes, warning: `The shape probe run failed (${failure}); only declared shapes are shown.`, failure };
  } finally {
    await session?.release();
  }
}
