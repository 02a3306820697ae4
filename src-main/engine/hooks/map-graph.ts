/**
 * The activation-and-gradient methods computed inside the hooked model, by onnxruntime, right after the
 * backward pass: their maps leave the run as small extra outputs, so no large activation or gradient
 * tensor is copied into JavaScript and no JavaScript loop runs over it. Definitions are the same as the
 * reference implementations in cam/methods.ts and cam/eigen.ts (tests compare the two).
 *
 * Cost matters here (on ResNet-50 the maps of four stages once cost a quarter of the whole run): every
 * pass over a full [C, H·W] tensor is shared between the methods that need it (A⊙g, ReLU(g), channel
 * sums), and the weights-based maps (Grad-CAM, XGradCAM, Grad-CAM++ and the plain channel sum EigenCAM
 * uses for its sign) come from one MatMul of their stacked weight rows with A.
 */
import type { TensorName } from '../../../src-shared/api';
import { CAM_METHODS, PERTURBATION_METHODS, type CamMethod } from '../../../src-shared/cam';
import type { GraphBuilder } from './graph-builder';

/** Every method computed from the hooked run alone: all but CAM (head weights) and the perturbation methods. */
export const IN_GRAPH_METHODS: readonly CamMethod[] = CAM_METHODS.filter((m) => m !== 'cam' && !PERTURBATION_METHODS.includes(m));
const NEEDS_GRADIENT = new Set<CamMethod>(['gradcam', 'gradcam++', 'hirescam', 'xgradcam', 'layercam', 'eigengradcam']);

/** Fixed power-iteration count for the Eigen methods (on a small Gram matrix, so cheap). */
export const EIGEN_ITERATIONS = 30;
/** Up to this side (m³ small) the Gram matrix is squared instead: 2^5 = 32 steps from five MatMuls. */
const SQUARING_MAX_SIDE = 128;
const SQUARINGS = 5;
const EPS = 1e-7;

export function mapOutputName(method: CamMethod, tensor: TensorName): TensorName {
  return `layerlens/map/${method}/${tensor}` as TensorName;
}

function reduceMean(b: GraphBuilder, x: string, axes: number[]): TensorName {
  if (b.opset >= 18) return b.op1('ReduceMean', [x, b.int64Const(axes, 'axes')], { keepdims: 1 });
  return b.op1('ReduceMean', [x], { axes, keepdims: 1 });
}

/** v / |v| over the whole tensor. */
function normalised(b: GraphBuilder, v: string): TensorName {
  const norm = b.op1('Sqrt', [b.reduceSum(b.op1('Mul', [v, v]), [0, 1], true)]);
  return b.op1('Div', [v, b.op1('Add', [norm, b.scalar(1e-30)])]);
}

/**
 * How many power-iteration steps may run between normalisations. The Gram matrix is first divided by its
 * largest entry, which for a positive semi-definite matrix is its largest diagonal entry, so its top
 * eigenvalue lies in [1, m]: the vector never shrinks, and grows at most m^k in k steps — kept below 1e30,
 * far inside float32's range. Skipping the normalisations in between changes nothing but rounding (the
 * direction after k steps is the same), and saves five small ops per step.
 */
export function normaliseEvery(m: number): number {
  return Math.max(1, Math.floor((30 * Math.log(10)) / Math.log(Math.max(m, 2))));
}

/**
 * First principal component projection of `x` [C, Z] (channels as features, positions as samples). Power
 * iteration runs on the Gram matrix of the smaller side (C×C or Z×Z), formed by one MatMul, so each
 * iteration is cheap and many of them cost little. `total` [Z] is the channel-summed `x`: the sign of a
 * component is arbitrary, and the map is made to agree with it.
 */
function eigenMap(b: GraphBuilder, x: string, c: number, z: number, total: string): TensorName {
  const centred = b.op1('Sub', [x, reduceMean(b, x, [1])]);
  const transposed = b.op1('Transpose', [centred], { perm: [1, 0] });
  const channelsSide = c <= z;
  const m = channelsSide ? c : z;
  const gram = channelsSide ? b.op1('MatMul', [centred, transposed]) : b.op1('MatMul', [transposed, centred]);
  const byMax = (x: string): TensorName => b.op1('Div', [x, b.op1('Add', [b.reduceMax(x, [0, 1], true), b.scalar(1e-30)])]);
  // Start where the reference does, at the uniform channel vector. In position space that is its image
  // Xᵀ·1, not the uniform position vector: centred rows sum to zero, so 1 lies in the Gram's null space
  // and iterating from it would amplify nothing but rounding noise.
  const uniform = b.floatConst(new Float32Array(c).fill(1 / Math.sqrt(c)), [c, 1], 'eigen_start');
  const start = channelsSide ? uniform : normalised(b, b.op1('MatMul', [transposed, uniform]));
  let v: TensorName;
  if (m <= SQUARING_MAX_SIDE) {
    // A small Gram matrix is squared instead (each power rescaled by its largest entry, its largest
    // diagonal entry): G^(2^k) from k MatMuls, a handful of ops instead of dozens.
    let power = byMax(gram);
    for (let k = 0; k < SQUARINGS; k++) power = byMax(b.op1('MatMul', [power, power]));
    v = normalised(b, b.op1('MatMul', [power, start]));
  } else {
    const scaled = byMax(gram);
    const every = normaliseEvery(m);
    v = start;
    for (let i = 1; i <= EIGEN_ITERATIONS; i++) {
      v = b.op1('MatMul', [scaled, v]);
      if (i % every === 0 || i === EIGEN_ITERATIONS) v = normalised(b, v);
    }
  }
  // In channel space v is the component; in position space, map it back to channels first.
  const component = channelsSide ? v : normalised(b, b.op1('MatMul', [centred, v]));
  const projection = b.reshape(b.op1('MatMul', [transposed, component]), [z]);
  const agreement = b.reduceSum(b.op1('Mul', [total, projection]), [0], true);
  const sign = b.where(b.op1('Less', [agreement, b.scalar(0)]), b.scalar(-1), b.scalar(1));
  return b.op1('Mul', [projection, sign]);
}

/** Memoises a node-emitting thunk: a shared intermediate is emitted once, and only if some method uses it. */
function once(make: () => TensorName): () => TensorName {
  let value: TensorName | null = null;
  return () => (value ??= make());
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
  const wanted = methods.filter((m) => IN_GRAPH_METHODS.includes(m) && (gradient !== null || !NEEDS_GRADIENT.has(m)));
  // Everything below works on [C, Z] views (reshapes cost nothing).
  const a = once(() => b.reshape(activation, [c, z]));
  const g = once(() => b.reshape(gradient as string, [c, z]));
  const ga = once(() => b.op1('Mul', [g(), a()]));
  const positive = once(() => b.op1('Relu', [g()]));
  const sums = once(() => b.reduceSum(a(), [1], true));
  const columnSum = (x: string): TensorName => b.reduceSum(x, [0], false);
  const hires = once(() => columnSum(ga()));

  // Per-channel weights [C, 1] of the methods whose map is Σ_k w_k A_k.
  const weightsOf = (method: CamMethod): TensorName | null => {
    switch (method) {
      case 'gradcam':
        return reduceMean(b, g(), [1]);
      case 'xgradcam':
        return b.op1('Div', [b.reduceSum(ga(), [1], true), b.op1('Add', [sums(), b.scalar(EPS)])]);
      case 'gradcam++': {
        // α·ReLU(g) with α = g²/(2g² + S·g³ + ε), written on r = ReLU(g): equal where g > 0, and 0 (not
        // 0·α) where g ≤ 0, which is what skipping g = 0 in the definition means.
        const r = positive();
        const r2 = b.op1('Mul', [r, r]);
        const r3 = b.op1('Mul', [r2, r]);
        const denominator = b.op1('Add', [
          b.op1('Add', [b.op1('Mul', [r2, b.scalar(2)]), b.op1('Mul', [sums(), r3])]),
          b.scalar(EPS),
        ]);
        return b.reduceSum(b.op1('Div', [r3, denominator]), [1], true);
      }
      default:
        return null;
    }
  };
  const rows: { method: CamMethod | 'total'; weights: TensorName }[] = [];
  for (const m of wanted) {
    const weights = weightsOf(m);
    if (weights) rows.push({ method: m, weights });
  }
  // EigenCAM's sign needs Σ_k A_k: one more row of ones in the same MatMul.
  if (wanted.includes('eigencam'))
    rows.push({ method: 'total', weights: b.floatConst(new Float32Array(c).fill(1), [c, 1], 'ones') });
  const weighted = new Map<CamMethod | 'total', TensorName>();
  if (rows.length > 0) {
    const stacked =
      rows.length === 1
        ? (rows[0]?.weights as string)
        : b.op1(
            'Concat',
            rows.map((r) => r.weights),
            { axis: 1 },
          );
    // [C, M]ᵀ · [C, Z] → [M, Z]; the transpose is folded into the MatMul by onnxruntime.
    const all = b.op1('MatMul', [b.op1('Transpose', [stacked], { perm: [1, 0] }), a()]);
    rows.forEach((r, i) => weighted.set(r.method, b.reshape(b.slice(all, [i], [i + 1], [0]), [z])));
  }

  const out = new Map<CamMethod, TensorName>();
  for (const method of wanted) {
    let map: TensorName | undefined;
    switch (method) {
      case 'gradcam':
      case 'xgradcam':
      case 'gradcam++':
        map = weighted.get(method);
        break;
      case 'hirescam':
        map = hires();
        break;
      case 'layercam':
        map = columnSum(b.op1('Mul', [positive(), a()]));
        break;
      case 'eigencam':
        map = eigenMap(b, a(), c, z, weighted.get('total') as string);
        break;
      case 'eigengradcam':
        map = eigenMap(b, ga(), c, z, hires());
        break;
      default:
        break;
    }
    if (map) out.set(method, b.named('Identity', [map], mapOutputName(method, activation)));
  }
  return out;
}
