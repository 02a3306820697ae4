/**
 * One layer's activation statistics as the studio draws them (fastai's ActivationStats): shared by the
 * statistics runs (api.ts) and the per-class statistics of a data set (dataset.ts).
 */
import type { TensorName } from './primitives';

export interface LayerStatsView {
  label: string;
  tensor: TensorName;
  mean: number;
  std: number;
  nearZero: number;
  range: [number, number];
  hist: Float64Array;
  outside: number;
  perImage: { mean: number; std: number; near_zero: number }[];
  /** images × bins, row-major: one histogram per image (the colorful dimension before log1p). */
  imageHists: Float32Array;
  channelMean: Float64Array;
  channelNearZero: Float64Array;
  deadChannels: number[];
}
