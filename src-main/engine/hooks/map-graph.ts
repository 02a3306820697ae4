/**
 * The activation-and-gradient methods computed inside the hooked model, by onnxruntime, right after the
 * backward pass: their maps leave the run as small extra outputs, so no large activation or gradient
 * tensor is copied into JavaScript and no JavaScript loop runs over it. Definitions are the same as the
 * reference implementations in cam/methods.ts and cam/eigen.ts (tests compare the two).
 */
import type { TensorName } from '../../../src-shared/api';
import { CAM_METHODS, PERTURBATION_METHODS, type CamMethod } from '../../../src-shared/cam';
import type { GraphBuilder } from './graph-builder';

/** Every method computed from the hooked run alone: all but CAM (head weights) and the perturbation methods. */
export const IN_GRAPH_METHODS: readonly CamMethod[] = CAM_METHODS.filter((m) => m !== 'cam' && !PERTURBATION_METHODS.includes(m));
const NEEDS_GRADIENT = new Set<CamMethod>(['gradcam', 'gradcam++', 'hirescam', 'xgradcam', 'layercam', 'eigengradcam']);

/** Fixed power-iteration count for the Eigen methods (on a small Gram matrix, so cheap). */
export const EIGEN_ITERATIONS = 30;
const EPS = 1e-7;

export function mapOutputName(method: CamMethod, tensor: TensorName): TensorName {
  return `layerlens/map/${method}/${tensor}` as TensorName;
}

function reduceMean(b: GraphBuilder, x: string, axes: number[]): TensorName {
  if (b.opset >= 18) return b.op1('ReduceMean', [x, b.int64Const(axes, 'axes')], { keepdims: 1 });
  return b.op1('ReduceMean', [x], { axes, keepdims: 1 });
}

/** Σ_k w_k A_k for per-channel weights w [1, C, 1, 1]. */
const weighted = (b: GraphBuilder, w: string, a: string): TensorName => b.reduceSum(b.op1('Mul', [w, a]), [1], true);

/** v / |v| over the whole tensor. */
function normalised(b: GraphBuilder, v: string): TensorName {
  const norm = b.op1('Sqrt', [b.reduceSum(b.op1('Mul', [v, v]), [0, 1], true)]);
  return b.op1('Div', [v, b.op1('Add', [norm, b.scalar(1e-30)])]);
}

/**
 * First principal component projection of `values` [1, C, H, W] (channels as features, positions as
 * samples). Power iteration runs on the Gram matrix of the smaller side (C×C or Z×Z), formed by one
 * MatMul, so each iteration is cheap and many of them cost little.
 */
function eigenMap(b: GraphBuilder, values: string, c: number, z: number): TensorName {
  const x = b.reshape(values, [c, z]);
  const centred = b.op1('Sub', [x, reduceMean(b, x, [1])]);
  const transposed = b.op1('Transpose', [centred], { perm: [1, 0] });
  const channelsSide = c <= z;
  const m = channelsSide ? c : z;
  const gram = channelsSide ? b.op1('MatMul', [centred, transposed]) : b.op1('MatMul', [transposed, centred]);
  let v: TensorName = b.floatConst(new Float32Array(m).fill(1 / Math.sqrt(m)), [m, 1], 'eigen_start');
  for (let i = 0; i < EIGEN_ITERATIONS; i++) v = normalised(b, b.op1('MatMul', [gram, v]));
  // In channel space v is the component; in position space, map it back to channels first.
  const component = channelsSide ? v : normalised(b, b.op1('MatMul', [centred, v]));
  const projection = b.op1('MatMul', [transposed, component]);
  // The sign of a component is arbitrary: make the map agree with the channel-summed values.
  const total = b.reshape(b.reduceSum(values, [1], true), [z, 1]);
  const agreement = b.reduceSum(b.op1('Mul', [total, projection]), [0, 1], true);
  const sign = b.where(b.op1('Less', [agreement, b.scalar(0)]), b.scalar(-1), b.scalar(1));
  return b.op1('Mul', [projection, sign]);
}

/**
 * Appends the maps of `methods` for one hooked layer (activation [1, C, H, W], gradient or null) and
 * returns the output name of each map (H·W values).
 */
export function appendMaps(
  b: GraphBuilder,
  activation: TensorName,
  gradient: TensorName | null,
  shape: [number, number, number, number],
  methods: readonly CamMethod[],
): Map<CamMethod, TensorName> {
  const [, c, h, w] = shape;
  const z = h * w;
  const out = new Map<CamMethod, TensorName>();
  const a = activation;
  const g = gradient;
  let channelSums: TensorName | null = null;
  const sums = (): TensorName => (channelSums ??= b.reduceSum(a, [2, 3], true));
  for (const method of methods) {
    if (!IN_GRAPH_METHODS.includes(method) || (NEEDS_GRADIENT.has(method) && !g)) continue;
    let map: TensorName;
    switch (method) {
      case 'gradcam':
        map = weighted(b, reduceMean(b, g as string, [2, 3]), a);
        break;
      case 'hirescam':
        map = b.reduceSum(b.op1('Mul', [g as string, a]), [1], true);
        break;
      case 'layercam':
        map = b.reduceSum(b.op1('Mul', [b.op1('Relu', [g as string]), a]), [1], true);
        break;
      case 'xgradcam': {
        const num = b.reduceSum(b.op1('Mul', [g as string, a]), [2, 3], true);
        map = weighted(b, b.op1('Div', [num, b.op1('Add', [sums(), b.scalar(EPS)])]), a);
        break;
      }
      case 'gradcam++': {
        const g2 = b.op1('Mul', [g as string, g as string]);
        const g3 = b.op1('Mul', [g2, g as string]);
        const denominator = b.op1('Add', [
          b.op1('Add', [b.op1('Mul', [g2, b.scalar(2)]), b.op1('Mul', [sums(), g3])]),
          b.scalar(EPS),
        ]);
        const alpha = b.where(b.equal(g as string, b.scalar(0)), b.scalar(0), b.op1('Div', [g2, denominator]));
        map = weighted(b, b.reduceSum(b.op1('Mul', [alpha, b.op1('Relu', [g as string])]), [2, 3], true), a);
        break;
      }
      case 'eigencam':
        map = eigenMap(b, a, c, z);
        break;
      case 'eigengradcam':
        map = eigenMap(b, b.op1('Mul', [a, g as string]), c, z);
        break;
      default:
        continue;
    }
    out.set(method, b.named('Reshape', [map, b.int64Const([z], 'map_shape')], mapOutputName(method, activation)));
  }
  return out;
}
