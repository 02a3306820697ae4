/**
 * The first principal component of a layer's [C, Z] tensor, in the graph: EigenCAM and EigenGradCAM (and the
 * eigen-smooth option) project on it. Small sides square the Gram matrix; larger ones run a few Lanczos steps
 * with full reorthogonalisation, so the tensor is read only in those steps.
 */
import type { TensorName } from '../../../src-shared/api';
import type { GraphBuilder } from '../hooks/graph-builder';

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
/**
 * On a GPU the Lanczos steps' hundreds of tiny nodes cost a dispatch each while a 512² MatMul costs less than
 * one of them: there the squaring path serves sides up to 512 (every stage of a ResNet-50 at 224²). From a
 * largest entry of 1, three squarings reach at most 512⁷ ≈ 10¹⁹, still far from float32's limit.
 */
const GPU_SQUARING_MAX_SIDE = 512;
const SQUARINGS = 10;
/**
 * A Lanczos residual smaller than this fraction of its image is rounding noise (float32 cancellation
 * leaves about 1e-7·√C of it), not a new direction.
 */
const BREAKDOWN = 1e-4;

/** The two matrix axes of a [m, n] tensor, or of each matrix of a batch [N, m, n] (`batched`). */
const matrixAxes = (batched: boolean): number[] => (batched ? [1, 2] : [0, 1]);

/** v / |v| over the whole tensor (each item's, `batched`). */
function normalised(b: GraphBuilder, v: string, batched = false): TensorName {
  const norm = b.op1('Sqrt', [b.reduceSum(b.op1('Mul', [v, v]), matrixAxes(batched), true)]);
  return b.op1('Div', [v, b.op1('Add', [norm, b.scalar(1e-30)])]);
}

/**
 * G^(2^times) for a symmetric positive semi-definite G of side m ≤ 128, scaled by its largest entry (a
 * diagonal one). Rescaling after every third squaring is enough: from a largest entry of 1, three squarings
 * reach at most m⁷ < 10¹⁵, far from float32's limit, and each rescale costs three nodes.
 */
function squared(b: GraphBuilder, gram: string, times: number, batched = false): TensorName {
  const byMax = (t: string): TensorName =>
    b.op1('Div', [t, b.op1('Add', [b.reduceMax(t, matrixAxes(batched), true), b.scalar(1e-30)])]);
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
 * `batched`: x is [N, C, Z] and every product a batched MatMul, giving [N, C, 1].
 */
function componentBySquaring(b: GraphBuilder, x: string, c: number, z: number, start: string, batched: boolean): TensorName {
  const transposed = b.op1('Transpose', [x], { perm: batched ? [0, 2, 1] : [1, 0] });
  const channelsSide = c <= z;
  const gram = channelsSide ? b.op1('MatMul', [x, transposed]) : b.op1('MatMul', [transposed, x]);
  const power = squared(b, gram, SQUARINGS, batched);
  // In position space, start at the image Xᵀ·v₀ of the channel start: centred rows sum to zero, so the
  // uniform position vector lies in that Gram's null space and would amplify nothing but rounding noise.
  // (The same trap in channel space is why v₀ is not uniform: see startVector.)
  if (channelsSide) return normalised(b, b.op1('MatMul', [power, start]), batched);
  const v = b.op1('MatMul', [power, b.op1('MatMul', [transposed, start])]);
  return normalised(b, b.op1('MatMul', [x, v]), batched);
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
  const rows: TensorName[] = [];
  const matvec = (q: string): TensorName => {
    const raw = b.op1('MatMul', [q, x]);
    const p = b.op1('Sub', [raw, b.reduceMean(raw, [1], true)]);
    rows.push(p);
    // X̄·pᵀ = X·pᵀ, p being centred. A matrix-vector product (a Gemm with transB would repack X every call).
    return b.reshape(b.op1('MatMul', [x, b.reshape(p, [z, 1])]), [1, c]);
  };
  const { ritz } = lanczosRitz(b, matvec, Math.min(LANCZOS_STEPS, c, z), b.reshape(start, [1, c]), RITZ_SQUARINGS);
  // vᵀ·X̄ with v = rᵀ·Q a unit vector (Q's rows orthonormal or zero, and r zero on the latter): rᵀ·P.
  return b.reshape(b.op1('MatMul', [ritz, stack(b, rows)]), [z]);
}

/**
 * `steps` steps of Lanczos with full reorthogonalisation from the row `start` [1, n], for the symmetric positive
 * semi-definite operator given by its product with a row (`matvec`): the basis Q [steps, n] and the unit top
 * eigenvector r [1, steps] of the projected matrix, found by squaring it `squarings` times. Classical
 * Gram–Schmidt runs twice: one pass loses orthogonality as ε·(|image| / |residual|)², and near an invariant
 * subspace that ratio is large enough to bring back a direction already found (measured: a layer with 12
 * live channels gave r = 0.26 against the exact component).
 */
function lanczosRitz(
  b: GraphBuilder,
  matvec: (q: string) => TensorName,
  steps: number,
  start: TensorName,
  squarings: number,
): { q: TensorName; ritz: TensorName } {
  const basis: TensorName[] = [start];
  const images: TensorName[] = [];
  for (let j = 0; j < steps; j++) {
    const image = matvec(basis[j] as TensorName);
    images.push(image);
    if (j === steps - 1) break;
    const sofar = stack(b, basis);
    const orthogonal = (v: string): TensorName => b.gemm(b.gemm(v, sofar, { transB: 1 }), sofar, { alpha: -1, beta: 1 }, v);
    const residual = orthogonal(orthogonal(image));
    basis.push(b.op1('LpNormalization', [exhaustedToZero(b, residual, image)], { axis: 1, p: 2 }));
  }
  const q = stack(b, basis);
  const power = squared(b, b.gemm(q, stack(b, images), { transB: 1 }), squarings);
  const first = new Float32Array(steps);
  first[0] = 1;
  const ritz = b.reshape(b.op1('MatMul', [power, b.floatConst(first, [steps, 1], 'ritz_start')]), [1, steps]);
  return { q, ritz: b.op1('LpNormalization', [ritz], { axis: 1, p: 2 }) };
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
 * agree with it. With `items` > 1, x is [N, C, Z], total [N, Z], and so is the map: the squaring path runs
 * batched; the Lanczos path, on layers large enough that its nodes do real work, item by item.
 */
export function eigenMap(b: GraphBuilder, x: string, c: number, z: number, total: string, items = 1): TensorName {
  const start = b.floatConst(startVector(c), [c, 1], 'eigen_start');
  const batched = items > 1;
  const squaringMax = b.form === 'gpu' ? GPU_SQUARING_MAX_SIDE : SQUARING_MAX_SIDE;
  if (Math.min(c, z) <= squaringMax) {
    const centred = b.op1('Sub', [x, b.reduceMean(x, [batched ? 2 : 1], true)]);
    const component = componentBySquaring(b, centred, c, z, start, batched);
    const lead = batched ? [items] : [];
    const projection = b.reshape(b.op1('MatMul', [b.reshape(component, [...lead, 1, c]), centred]), [...lead, z]);
    return signedLike(b, projection, total, batched);
  }
  if (!batched) return signedLike(b, projectionByLanczos(b, x, c, z, start), total);
  const maps = Array.from({ length: items }, (_, i) => {
    const item = (t: string, shape: number[]): TensorName => b.reshape(b.slice(t, [i], [i + 1], [0]), shape);
    const map = signedLike(b, projectionByLanczos(b, item(x, [c, z]), c, z, start), item(total, [z]));
    return b.reshape(map, [1, z]);
  });
  return b.op1('Concat', maps, { axis: 0 });
}

/**
 * `projection` [Z] with the sign that agrees with `total` [Z] (a component's own sign is arbitrary); each
 * item's, for [N, Z] (`batched`).
 */
function signedLike(b: GraphBuilder, projection: string, total: string, batched = false): TensorName {
  // Against the centred total: the projection sums to zero only up to rounding, which a large common
  // offset in the total would multiply into the wrong sign.
  const axis = batched ? 1 : 0;
  const centredTotal = b.op1('Sub', [total, b.reduceMean(total, [axis], true)]);
  const agreement = b.reduceSum(b.op1('Mul', [centredTotal, projection]), [axis], true);
  // 1 − 2·[agreement < 0]: Cast exists in every opset (Where only from 9).
  const negative = b.op1('Cast', [b.op1('Less', [agreement, b.scalar(0)])], { to: 1 });
  const sign = b.op1('Sub', [b.scalar(1), b.op1('Mul', [negative, b.scalar(2)])]);
  return b.op1('Mul', [projection, sign]);
}

/**
 * Squarings of a shifted kernel matrix: the shift (see kernelComponent) brings its eigenvalues closer in
 * ratio, so more than the Gram matrix gets (power 2^16).
 */
const KERNEL_SQUARINGS = 16;

/**
 * The first kernel principal component of n samples (KPCA-CAM): for a centred symmetric kernel matrix
 * `k` [n, n], its eigenvector v of the largest eigenvalue λ, as the map K·v/√λ = √λ·v (what KernelPCA's
 * fit_transform returns), signed to agree with `total` [n]. K need not be positive semi-definite (a sigmoid
 * kernel's is not): shifted by its largest row L1 norm, a bound on its spectral radius, it is, and its
 * largest eigenvalue stays the largest. Small sides square the shifted matrix; larger ones run Lanczos
 * steps on it, each one product K·q.
 */
export function kernelComponent(b: GraphBuilder, k: string, n: number, total: string): TensorName {
  const shift = b.op1('ReduceMax', [b.reduceL1(k, [1], false)], { keepdims: 1 });
  const start = b.floatConst(startVector(n), [n, 1], 'kernel_start');
  const squaringMax = b.form === 'gpu' ? GPU_SQUARING_MAX_SIDE : SQUARING_MAX_SIDE;
  let v: TensorName;
  if (n <= squaringMax) {
    const identity = new Float32Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    const shifted = b.op1('Add', [k, b.op1('Mul', [b.floatConst(identity, [n, n], 'identity'), shift])]);
    v = normalised(b, b.op1('MatMul', [squared(b, shifted, KERNEL_SQUARINGS), start]));
  } else {
    const matvec = (q: string): TensorName => b.op1('Add', [b.op1('MatMul', [q, k]), b.op1('Mul', [q, shift])]);
    v = b.reshape(topByLanczos(b, matvec, n, b.reshape(start, [1, n])), [n, 1]);
  }
  const kv = b.op1('MatMul', [k, v]);
  const lambda = b.op1('Max', [b.reduceSum(b.op1('Mul', [v, kv]), [0, 1], true), b.scalar(1e-30)]);
  return signedLike(b, b.reshape(b.op1('Div', [kv, b.op1('Sqrt', [lambda])]), [n]), total);
}

/** The top eigenvector [1, n] of a symmetric positive semi-definite operator given by its product with a row. */
function topByLanczos(b: GraphBuilder, matvec: (q: string) => TensorName, n: number, start: string): TensorName {
  const { q, ritz } = lanczosRitz(b, matvec, Math.min(LANCZOS_STEPS, n), start as TensorName, KERNEL_SQUARINGS);
  return b.op1('LpNormalization', [b.op1('MatMul', [ritz, q])], { axis: 1, p: 2 });
}
