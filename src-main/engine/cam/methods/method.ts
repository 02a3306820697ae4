/**
 * What a CAM method is to the engine: an in-graph map builder (the map is computed by onnxruntime inside the
 * hooked run) or a perturbation procedure (extra forward runs, batched, with progress and cancellation).
 * CamRunner dispatches on `kind`; what a method reads is in the registry (src-shared/cam-methods.ts).
 */
import type { PooledSession } from '../../inference/session-pool';
import type { TensorName } from '../../../../src-shared/api';
import type { FeatureGrid } from '../../graph/feature-grid';
import type { LayerTensors } from '../layer-tensors';
import type { LayerMapContext } from '../map-context';
import type { Progress } from '../perturbation';

/**
 * A built map [Z], with the scalar its rounding is measured against where the map is a cancelling sum, and,
 * for a map that is the channel sum of per-channel terms, those terms [C, Z] (made only when asked for: the
 * eigen-smooth option replaces the sum by their first principal component).
 */
export type BuiltMap = { map: TensorName; termScale?: TensorName; terms?: () => TensorName } | { unavailable: string };

/**
 * The score a gradient method differentiates: the explained class's logit (every method but one), or
 * FinerCAM's weighted difference from the most similar classes (hooks/score-target.ts). Methods with
 * different targets need different backward passes, so each target is its own hooked run.
 */
export type ScoreTarget = 'class' | 'finer';

export interface InGraphMethod {
  kind: 'in-graph';
  build(ctx: LayerMapContext): BuiltMap;
  /** The score its gradient is of; 'class' when absent. */
  target?: ScoreTarget;
  /** Built on one item at a time (its context has no item axis), for a builder that has no batched form. */
  perItem?: true;
}

/** Everything a perturbation procedure may use for one layer. */
export interface PerturbationJob {
  /** The layer's activation, channel-major. */
  layer: LayerTensors;
  grid: FeatureGrid;
  /** The activation as the model laid it out. */
  native: Float32Array;
  tensor: TensorName;
  /** The model's input, and whether its layout is channels-last. */
  input: { name: string; data: Float32Array; shape: number[]; channelsLast: boolean };
  scoreName: string;
  classIndex: number;
  classes: number;
  /** The class's logit in the unperturbed run. */
  baseline: number;
  /** The model with its input masked by a batch of this layer's channels (masked-score-model.ts). */
  maskedScore(): Promise<PooledSession>;
  /** The model from the layer to the score (the layer is its input). */
  tail(): Promise<PooledSession>;
}

export interface PerturbationMethod {
  kind: 'perturbation';
  run(job: PerturbationJob, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array>;
}

export type CamMethodImpl = InGraphMethod | PerturbationMethod;
