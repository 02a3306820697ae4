/**
 * The activation-and-gradient methods computed inside the hooked model, by onnxruntime, right after the
 * backward pass: their maps leave the run as small extra outputs, so no large activation or gradient
 * tensor is copied into JavaScript and no JavaScript loop runs over it. Definitions are the same as the
 * reference implementations in cam/methods.ts and cam/eigen.ts (tests compare the two).
 *
 * Cost matters here (on ResNet-50 the maps of four stages once cost a quarter of the whole run): every
 * pass over a full [C, H·W] tensor is shared between the methods that need it (A⊙g, ReLU(g), channel
 * sums), the weights-based maps (Grad-CAM, XGradCAM, Grad-CAM++ and the plain channel sum EigenCAM
 * uses for its sign) are each one matrix-vector product with A, and the Eigen methods read their tensor
 * only in their Krylov steps.
 */
import type { TensorName } from '../../../src-shared/api';
import { CAM_METHODS, PERTURBATION_METHODS, type CamMethod } from '../../../src-shared/cam';
import type { FeatureGrid } from '../graph/feature-grid';
import type { GraphBuilder } from './graph-builder';

/** Every method computed from the hooked run alone: all but CAM (head weights) and the perturbation methods. */
export const IN_GRAPH_METHODS: readonly CamMethod[] = CAM_METHODS.filter((m) => m !== 'cam' && !PERTURBATION_METHODS.includes(m));
const NEEDS_GRADIENT = new Set<CamMethod>(['gradcam', 'gradcam++', 'hirescam', 'xgradcam', 'layercam', 'eigengradcam']);

/**
 * Lanczos steps on larger layers (each reads the tensor twice); see projectionByLanczos. Against an exact
 * eigensolver, 1 − r of the map falls tenfold per step on flat (random-layer) spectra: 10⁻³ at 12, 10⁻⁵ at 14.
 */
const LANCZOS_STEPS = 14;
/** Squarings of the small projected matrix: power 2^10, converged whatever its eigenvalue gap. */
const RITZ_SQUARINGS = 10;
/**
 * Up to this smaller side the Gram matrix is formed and squared: 2^10 power steps from ten small MatMuls,
 * enough for eigenvalue ratios up to 0.98 or so (a 2×2 map's four positions often come that close).
 */
const SQUARING_MAX_SIDE = 128;
const SQUARINGS = 10;
/**
 * A Lanczos residual smaller than this fraction of its image is rounding noise (float32 cancellation
 * leaves about 1e-7·√C of it), not a new direction.
 */
const BREAKDOWN = 1e-4;
const EPS = 1e-7;

export function mapOutputName(method: CamMethod, tensor: TensorName): TensorName {
  return `layerlens/map/${method}/${tensor}` as TensorName;
}

/** The maps of one layer, and for the channel sums among them the scale their rounding is relative to. */
export interface LayerMapOutputs {
  maps: Map<CamMethod, TensorName>;
  /** max over positions of Σ_k |term_k|: a map far below it cancelled to rounding (see cam-runner). */
  termScales: Map<CamMethod, TensorName>;
}

/** v / |v| over the whole tensor. */
function normalised(b: GraphBuilder, v: string): TensorName {
  const norm = b.op1('Sqrt', [b.reduceSum(b.op1('Mul', [v, v]), [0, 1], true)]);
  return b.op1('Div', [v, b.op1('Add', [norm, b.scalar(1e-30)])]);
}

/**
 * G^(2^times) for a symmetric positive semi-definite G of side m ≤ 128, scaled by its largest entry (a
 * diagonal one). Rescaling after every third squaring is enough: from a largest entry of 1, three squarings
 * reach at most m⁷ < 10¹⁵, far from float32's limit, and each rescale costs three nodes.
 */
function squared(b: GraphBuilder, gram: string, times: number): TensorName {
  const byMax = (t: string): TensorName => b.op1('Div', [t, b.op1('Add', [b.reduceMax(t, [0, 1], true), b.scalar(1e-30)])]);
  let power = byMax(gram);
  for (let k = 0; k < times; k++) {
    power = b.op1('MatMul', [power, power]);
    if (k % 3 === 2 || k === times - 1) power = byMax(power);
  }
  return power;
}

/**
 * The first principal direction in channel space, [C, 1], of the centred `x` [C, Z] whose smaller side m
 * is at most SQUARING_MAX_SIDE: the Gram matrix of that side (one MatMul), squared SQUARINGS times (each
 * power rescaled by its largest entry, which for a positive semi-definite matrix is a diagonal one).
 */
function componentBySquaring(b: GraphBuilder, x: string, c: number, z: number, start: string): TensorName {
  const transposed = b.op1('Transpose', [x], { perm: [1, 0] });
  const channelsSide = c <= z;
  const power = squared(b, channelsSide ? b.op1('MatMul', [x, transposed]) : b.op1('MatMul', [transposed, x]), SQUARINGS);
  // In position space, start at the image Xᵀ·v₀ of the channel start: centred rows sum to zero, so the
  // uniform position vector lies in that Gram's null space and would amplify nothing but rounding noise.
  // (The same trap in channel space is why v₀ is not uniform: see startVector.)
  if (channelsSide) return normalised(b, b.op1('MatMul', [power, start]));
  const v = b.op1('MatMul', [power, b.op1('MatMul', [transposed, start])]);
  return normalised(b, b.op1('MatMul', [x, v]));
}

/**
 * The same projection for larger sides, from a Krylov space instead of plain power iteration: LANCZOS_STEPS
 * steps of Lanczos with full reorthogonalisation (so rounding cannot bring back directions already found;
 * a residual that is only rounding noise ends the space with zero rows)
 * span {v₀, A·v₀, …} for A = X̄·X̄ᵀ (X̄ the centred `x`), and the top eigenvector of the small projected
 * matrix Q·A·Qᵀ, found by squaring it, mapped back through Q, is far closer to the true component than as
 * many power steps would get. Each step reads `x` twice; nothing else does. X̄ is never formed: a step's
 * qᵀ·X̄ is qᵀ·X less its mean, and X̄·pᵀ = X·pᵀ for that centred p. Those rows p = qᵀ·X̄ are kept, so the
 * map, vᵀ·X̄ for v = rᵀ·Q, is rᵀ·P: no further pass over `x`.
 */
function projectionByLanczos(b: GraphBuilder, x: string, c: number, z: number, start: string): TensorName {
  const steps = Math.min(LANCZOS_STEPS, c, z);
  const basis: TensorName[] = [b.reshape(start, [1, c])];
  const images: TensorName[] = [];
  const rows: TensorName[] = [];
  for (let j = 0; j < steps; j++) {
    const q = basis[j] as TensorName;
    const raw = b.op1('MatMul', [q, x]);
    const p = b.op1('Sub', [raw, b.reduceMean(raw, [1], true)]);
    rows.push(p);
    // X̄·pᵀ = X·pᵀ, p being centred. A matrix-vector product (a Gemm with transB would repack X every call).
    const image = b.reshape(b.op1('MatMul', [x, b.reshape(p, [z, 1])]), [1, c]);
    images.push(image);
    if (j === steps - 1) break;
    // Classical Gram–Schmidt against the basis so far, twice: one pass loses orthogonality as ε·(|image| /
    // |residual|)², and near an invariant subspace that ratio is large enough to bring back a direction
    // already found (measured: a layer with 12 live channels gave r = 0.26 against the exact component).
    const sofar = stack(b, basis);
    const orthogonal = (v: string): TensorName => b.gemm(b.gemm(v, sofar, { transB: 1 }), sofar, { alpha: -1, beta: 1 }, v);
    const residual = orthogonal(orthogonal(image));
    basis.push(b.op1('LpNormalization', [exhaustedToZero(b, residual, image)], { axis: 1, p: 2 }));
  }
  const q = stack(b, basis);
  const projected = b.gemm(q, stack(b, images), { transB: 1 });
  const power = squared(b, projected, RITZ_SQUARINGS);
  const first = new Float32Array(steps);
  first[0] = 1;
  const ritz = b.reshape(b.op1('MatMul', [power, b.floatConst(first, [steps, 1], 'ritz_start')]), [1, steps]);
  // vᵀ·X̄ with v = rᵀ·Q a unit vector (Q's rows orthonormal or zero, and r zero on the latter): rᵀ·P.
  const unitRitz = b.op1('LpNormalization', [ritz], { axis: 1, p: 2 });
  return b.reshape(b.op1('MatMul', [unitRitz, stack(b, rows)]), [z]);
}

/**
 * The residual, or zeros where it is below BREAKDOWN of the image it came from. Once the Krylov space is
 * exhausted (a layer with fewer live channels than steps) the residual is rounding noise: normalised, it
 * is far from orthogonal to the basis and the Ritz values come out larger than any eigenvalue. A zero
 * row stays zero through every later step (LpNormalization maps it to zero, not NaN).
 */
function exhaustedToZero(b: GraphBuilder, residual: string, image: string): TensorName {
  const energy = b.gemm(residual, residual, { transB: 1 });
  const floor = b.gemm(image, image, { transB: 1, alpha: BREAKDOWN * BREAKDOWN });
  const kept = b.op1('Greater', [energy, floor]);
  if (b.opset >= 9) return b.op1('Where', [kept, residual, b.scalar(0)]);
  return b.op1('Mul', [residual, b.op1('Cast', [kept], { to: 1 })]);
}

/** Rows [1, C] stacked into [n, C]. */
function stack(b: GraphBuilder, rows: TensorName[]): TensorName {
  // A copy: the caller keeps appending to its list, and a node must not see that.
  return rows.length === 1 ? (rows[0] as TensorName) : b.op1('Concat', [...rows], { axis: 0 });
}

/**
 * A fixed pseudo-random unit vector to start the iterations from. Not the uniform vector: wherever the
 * channels of a position sum to zero it is orthogonal to every component — and they do for A⊙g at any
 * layer that feeds a LayerNorm over channels (ConvNeXt's stages), whose gradient is orthogonal to its
 * centred input at each position.
 */
function startVector(c: number): Float32Array {
  const v = new Float32Array(c);
  let state = 0x9e3779b9;
  for (let k = 0; k < c; k++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    v[k] = state / 2 ** 32 - 0.5;
  }
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * First principal component projection of `x` [C, Z] (channels as features, positions as samples).
 * `total` [Z] is the channel-summed `x`: the sign of a component is arbitrary, and the map is made to
 * agree with it.
 */
function eigenMap(b: GraphBuilder, x: string, c: number, z: number, total: string): TensorName {
  const start = b.floatConst(startVector(c), [c, 1], 'eigen_start');
  let projection: TensorName;
  if (Math.min(c, z) <= SQUARING_MAX_SIDE) {
    const centred = b.op1('Sub', [x, b.reduceMean(x, [1], true)]);
    const component = componentBySquaring(b, centred, c, z, start);
    projection = b.reshape(b.op1('MatMul', [b.reshape(component, [1, c]), centred]), [z]);
  } else projection = projectionByLanczos(b, x, c, z, start);
  // Against the centred total: the projection sums to zero only up to rounding, which a large common
  // offset in the total would multiply into the wrong sign.
  const centredTotal = b.op1('Sub', [total, b.reduceMean(total, [0], true)]);
  const agreement = b.reduceSum(b.op1('Mul', [centredTotal, projection]), [0], true);
  // 1 − 2·[agreement < 0]: Cast exists in every opset (Where only from 9).
  const negative = b.op1('Cast', [b.op1('Less', [agreement, b.scalar(0)])], { to: 1 });
  const sign = b.op1('Sub', [b.scalar(1), b.op1('Mul', [negative, b.scalar(2)])]);
  return b.op1('Mul', [projection, sign]);
}

/**
 * s·x + t for x [C, Z] and per-channel s [C, 1], in one pass where the opset has the per-channel affine
 * map of inference-mode BatchNormalization (mean 0, variance 1, ε 0), else as a Mul and an Add.
 */
function channelAffine(b: GraphBuilder, x: string, c: number, s: string, t: number): TensorName {
  if (b.opset < 9) return b.op1('Add', [b.op1('Mul', [x, s]), b.scalar(t)]);
  const flat = (v: string): TensorName => b.reshape(v, [c]);
  const y = b.op1(
    'BatchNormalization',
    [
      b.reshape(x, [1, c, -1]),
      flat(s),
      b.floatConst(new Float32Array(c).fill(t), [c], 'shift'),
      b.floatConst(new Float32Array(c), [c], 'zeros'),
      b.floatConst(new Float32Array(c).fill(1), [c], 'ones'),
    ],
    { epsilon: { float: 0 } },
  );
  return b.reshape(y, [c, -1]);
}

/** Memoises a node-emitting thunk: a shared intermediate is emitted once, and only if some method uses it. */
function once(make: () => TensorName): () => TensorName {
  let value: TensorName | null = null;
  return () => (value ??= make());
}

/**
 * The [C, Z] view of a layer's tensor (activation or gradient): a reshape for NCHW maps; channels-last maps
 * and transformer tokens are transposed, and tokens that are not grid positions (a class token) dropped.
 */
function channelMajor(b: GraphBuilder, x: string, grid: FeatureGrid): TensorName {
  const c = grid.channels;
  const z = grid.height * grid.width;
  const rows = grid.prefix + z;
  const flat = b.reshape(x, grid.channelsFirst ? [c, rows] : [rows, c]);
  const axis = grid.channelsFirst ? 1 : 0;
  const grid2d = grid.prefix > 0 ? b.slice(flat, [grid.prefix], [rows], [axis]) : flat;
  return grid.channelsFirst ? grid2d : b.op1('Transpose', [grid2d], { perm: [1, 0] });
}

/**
 * Appends the maps of `methods` for one hooked layer (its activation and gradient, or null, laid out as
 * `grid` says) and returns the output name of each map (H·W values).
 */
export function appendMaps(
  b: GraphBuilder,
  activation: TensorName,
  gradient: TensorName | null,
  grid: FeatureGrid,
  methods: readonly CamMethod[],
): LayerMapOutputs {
  const c = grid.channels;
  const z = grid.height * grid.width;
  const wanted = methods.filter((m) => IN_GRAPH_METHODS.includes(m) && (gradient !== null || !NEEDS_GRADIENT.has(m)));
  const a = once(() => channelMajor(b, activation, grid));
  const g = once(() => channelMajor(b, gradient as string, grid));
  const ga = once(() => b.op1('Mul', [g(), a()]));
  const positive = once(() => b.op1('Relu', [g()]));
  const sums = once(() => b.reduceSum(a(), [1], true));
  const columnSum = (x: string): TensorName => b.reduceSum(x, [0], false);
  const hires = once(() => columnSum(ga()));

  // Per-channel weights [C, 1] of the methods whose map is Σ_k w_k A_k.
  const weightsOf = (method: CamMethod): TensorName | null => {
    switch (method) {
      case 'gradcam':
        return b.reduceMean(g(), [1], true);
      case 'xgradcam':
        return b.op1('Div', [b.reduceSum(ga(), [1], true), b.op1('Add', [sums(), b.scalar(EPS)])]);
      case 'gradcam++': {
        // α·ReLU(g) with α = g²/(2g² + S·g³ + ε), written on r = ReLU(g) as r / (2 + S·r + ε/r²): equal
        // where r > 0 (and free of the r³ overflow), and 0 where r = 0 (ε/0 = ∞), which is what skipping
        // g = 0 in the definition means. Five elementwise passes over [C, Z] instead of seven.
        const r = positive();
        const small = b.op1('Div', [b.scalar(EPS), b.op1('Mul', [r, r])]);
        return b.reduceSum(b.op1('Div', [r, b.op1('Add', [channelAffine(b, r, c, sums(), 2), small])]), [1], true);
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
  // Σ_k w_k·A_k as [1, C]·[C, Z]: a single-row MatMul is onnxruntime's matrix-vector kernel, one read of A.
  // (Stacking the rows into one MatMul, or a transposed operand, makes it repack A first: twice the cost.)
  const weighted = new Map<CamMethod | 'total', TensorName>();
  for (const r of rows) weighted.set(r.method, b.reshape(b.op1('MatMul', [b.reshape(r.weights, [1, c]), a()]), [z]));

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
  // HiResCAM sums C signed terms per position: where they cancel (a layer whose gradient reaches the score
  // only through a LayerNorm over channels is orthogonal to it), the map is rounding noise.
  const termScales = new Map<CamMethod, TensorName>();
  if (out.has('hirescam')) {
    const scale = b.op1('ReduceMax', [b.reduceL1(ga(), [0], false)], { keepdims: 0 });
    termScales.set('hirescam', b.named('Identity', [scale], `${mapOutputName('hirescam', activation)}/scale` as TensorName));
  }
  return { maps: out, termScales };
}
