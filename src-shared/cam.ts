/**
 * Class activation maps as the engine returns them: one raw map per (layer, method) at feature resolution,
 * signed and unscaled, so that the renderer and the CLI decide how to display them (ReLU or signed, scaling,
 * upsampling) without recomputing anything.
 */
import type { ExecutionProvider, TensorName } from './primitives';

export const CAM_METHODS = [
  'cam',
  'gradcam',
  'gradcam++',
  'hirescam',
  'xgradcam',
  'layercam',
  'eigencam',
  'eigengradcam',
  'scorecam',
  'ablationcam',
] as const;
export type CamMethod = (typeof CAM_METHODS)[number];

export const GRADIENT_METHODS: readonly CamMethod[] = [
  'gradcam',
  'gradcam++',
  'hirescam',
  'xgradcam',
  'layercam',
  'eigengradcam',
];
/** Methods that need one extra forward pass per channel. */
export const PERTURBATION_METHODS: readonly CamMethod[] = ['scorecam', 'ablationcam'];

export const CAM_METHOD_LABELS: Record<CamMethod, string> = {
  cam: 'CAM',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  hirescam: 'HiResCAM',
  xgradcam: 'XGradCAM',
  layercam: 'LayerCAM',
  eigencam: 'EigenCAM',
  eigengradcam: 'EigenGradCAM',
  scorecam: 'ScoreCAM',
  ablationcam: 'AblationCAM',
};

export function isCamMethod(name: string): name is CamMethod {
  return (CAM_METHODS as readonly string[]).includes(name);
}

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
  logits: Float32Array;
  provider: ExecutionProvider;
  inputShape: number[];
  layers: LayerMaps[];
  timings: { totalMs: number; hookedRunMs: number; perturbationMs: number };
}
