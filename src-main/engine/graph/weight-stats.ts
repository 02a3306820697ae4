import type { TensorName } from '../../../src-shared/api';
import type { WeightStats } from '../../../src-shared/graph';
import { floatValues } from '../onnx/tensor-data';
import type { TensorProto } from 'onnx-buf';

/** min / max / mean / std (population) / sparsity of a weight tensor, in float64 accumulation. */
export function weightStats(t: TensorProto): WeightStats | null {
  const values = floatValues(t);
  if (!values) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    if (v === 0) zeros++;
  }
  const count = values.length;
  const mean = count ? sum / count : 0;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return {
    tensor: t.name as TensorName,
    shape: t.dims.map(Number),
    count,
    min: count ? min : 0,
    max: count ? max : 0,
    mean,
    std: count ? Math.sqrt(sq / count) : 0,
    sparsity: count ? zeros / count : 0,
  };
}
