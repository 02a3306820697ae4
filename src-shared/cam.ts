/**
 * Class activation maps as the engine returns them: one raw map per (layer, method) at feature resolution,
 * signed and unscaled, so that the renderer and the CLI decide how to display them (ReLU or signed, scaling,
 * upsampling) without recomputing anything.
 */
import type { ExecutionProvider, TensorName } from './primitives';

export {
  CAM_METHOD_LABELS,
  CAM_METHOD_REGISTRY,
  CAM_METHODS,
  DEFAULT_METHODS,
  EIGEN_SMOOTH_METHODS,
  FAST_METHODS,
  GRADIENT_FREE_METHODS,
  GRADIENT_METHODS,
  isCamMethod,
  methodLabels,
  PERTURBATION_METHODS,
  type CamMethod,
  type CamMethodInfo,
} from './cam-methods';
import type { CamMethod } from './cam-methods';

/** A map at feature resolution, row-major. */
export interface RawMap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface LayerMaps {
  /** The layer as it was asked for (module path or tensor name). */
  label: string;
  tensor: TensorName;
  module: string | null;
  /** [C, H, W] of the activation (batch dimension dropped). */
  shape: [number, number, number];
  maps: Partial<Record<CamMethod, RawMap>>;
  /** Methods that could not run for this layer, with the reason (e.g. CAM needs GAP → linear after it). */
  unavailable: Partial<Record<CamMethod, string>>;
  /** Maps that exist but say little, with why (a channel sum that cancelled to rounding). */
  notes?: Partial<Record<CamMethod, string>>;
}

export interface CamResult {
  /** The class explained. */
  classIndex: number;
  label: string;
  counterfactual: boolean;
  /** The eigen-smooth option was on (absent: off): the maps of EIGEN_SMOOTH_METHODS are their terms' first component. */
  eigenSmooth?: boolean;
  /** The aug-smooth option was on (absent: off): each in-graph map is the mean over six augmented inputs. */
  augSmooth?: boolean;
  logits: Float32Array;
  provider: ExecutionProvider;
  inputShape: number[];
  layers: LayerMaps[];
  timings: { totalMs: number; hookedRunMs: number; perturbationMs: number };
}
