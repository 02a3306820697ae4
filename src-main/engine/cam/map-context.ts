/**
 * What a method's in-graph map builder works from: one hooked layer's activation A and gradient g as [C, Z]
 * (channels × grid positions), and the intermediates several methods share (g⊙A, ReLU(g), channel sums),
 * each emitted once and only if some method asks for it. Weights-based maps Σ_k w_k·A_k go through
 * `weighted`: a [1, C]·[C, Z] MatMul, onnxruntime's matrix-vector kernel, one read of A per map.
 *
 * A batch of N independent items (HookOptions.items) is one context with a leading item axis: A and g are
 * [N, C, Z], per-channel weights [N, C, 1], maps [N, Z]. Methods reduce over `zAxis` and `cAxis`, never a
 * fixed axis, so one builder serves both. (Slicing each item out and building its maps alone made the
 * graph N times as many nodes: 4,000 for the sanity check's 12 states on the demo, a fifth of its run.)
 */
import type { TensorName } from '../../../src-shared/api';
import type { FeatureGrid } from '../graph/feature-grid';
import type { GraphBuilder } from '../hooks/graph-builder';

/** The classifier head's weights as the graph holds them, for CAM. */
export interface HeadWeights {
  /** The linear layer's weight tensor: [classes, C] when `classesFirst`, else [C, classes]. */
  tensor: TensorName;
  classesFirst: boolean;
}

export interface LayerMapInputs {
  activation: TensorName;
  /** ∂score/∂A, or null when the run has no backward pass. */
  gradient: TensorName | null;
  grid: FeatureGrid;
  /**
   * [1, classes]: the explained class's one-hot row (signed for the counterfactual); [N, classes], a row per
   * item, for a batch of items; null without one.
   */
  classRow: TensorName | null;
  /** The head CAM reads, or why there is none. */
  head: HeadWeights | { reason: string };
}

export class LayerMapContext {
  readonly c: number;
  readonly z: number;
  /** The axis of grid positions and of channels in A, g and every [C, Z] or [N, C, Z] intermediate. */
  readonly zAxis: number;
  readonly cAxis: number;
  /** The leading dimensions of the item axis: [N] for a batch of items, [] for one. */
  readonly lead: number[];
  private readonly memo = new Map<string, TensorName>();

  /** `items` > 1: the layer's tensors hold that many items on batch axis 0 (see itemsBatchable). */
  constructor(
    readonly b: GraphBuilder,
    readonly inputs: LayerMapInputs,
    readonly items = 1,
  ) {
    this.c = inputs.grid.channels;
    this.z = inputs.grid.height * inputs.grid.width;
    this.lead = items > 1 ? [items] : [];
    this.zAxis = this.lead.length + 1;
    this.cAxis = this.lead.length;
  }

  /** Channels over all items: the length of a per-channel weight vector. */
  get rows(): number {
    return this.items * this.c;
  }

  /** The shape of a map: [Z], or [N, Z]. */
  get mapShape(): number[] {
    return [...this.lead, this.z];
  }

  /** A shared intermediate under `key`: emitted the first time it is asked for. */
  shared(key: string, make: () => TensorName): TensorName {
    let value = this.memo.get(key);
    if (!value) {
      value = make();
      this.memo.set(key, value);
    }
    return value;
  }

  /** A as [C, Z] ([N, C, Z]). */
  a(): TensorName {
    return this.shared('a', () => channelMajor(this.b, this.inputs.activation, this.inputs.grid, this.lead));
  }

  /** g as [C, Z] ([N, C, Z]); only called by methods that need the gradient (the registry says which). */
  g(): TensorName {
    return this.shared('g', () => channelMajor(this.b, this.inputs.gradient as string, this.inputs.grid, this.lead));
  }

  ga(): TensorName {
    return this.shared('ga', () => this.b.op1('Mul', [this.g(), this.a()]));
  }

  positiveGradient(): TensorName {
    return this.shared('relu(g)', () => this.b.op1('Relu', [this.g()]));
  }

  /** Σ_ij A_k as [C, 1] ([N, C, 1]). */
  channelSums(): TensorName {
    return this.shared('sums', () => this.perChannel('sum', this.a()));
  }

  /** The sum or mean of x [C, Z] over positions, per channel: [C, 1] ([N, C, 1]). */
  perChannel(kind: 'sum' | 'mean', x: string): TensorName {
    return kind === 'sum' ? this.b.reduceSum(x, [this.zAxis], true) : this.b.reduceMean(x, [this.zAxis], true);
  }

  /** Σ_k x_k for x [C, Z]: a map, [Z] ([N, Z]). */
  columnSum(x: string): TensorName {
    return this.b.reduceSum(x, [this.cAxis], false);
  }

  /** The largest value of a map [Z] ([N, Z]): a scalar (one per item, [N]). */
  mapMax(map: string): TensorName {
    return this.lead.length ? this.b.reduceMax(map, [1], false) : this.b.op1('ReduceMax', [map], { keepdims: 0 });
  }

  /** Σ_k g_k⊙A_k: HiResCAM's map, and the sign EigenGradCAM agrees with. */
  hires(): TensorName {
    return this.shared('hires', () => this.columnSum(this.ga()));
  }

  /**
   * Σ_k w_k·x_k [Z] for per-channel weights w ([C, 1], [1, C] or [C]; N·C values for items) and x [C, Z],
   * A by default.
   */
  weighted(weights: string, x: string = this.a()): TensorName {
    const { b, c } = this;
    // A single-row MatMul is onnxruntime's matrix-vector kernel, one read of A. (Stacking the rows into one
    // MatMul, or a transposed operand, makes it repack A first: twice the cost.) Items: one row per item.
    return b.reshape(b.op1('MatMul', [b.reshape(weights, [...this.lead, 1, c]), x]), this.mapShape);
  }

  /** w_k·A_k [C, Z] for per-channel weights w: the terms whose channel sum `weighted` is (for eigen-smooth). */
  weightedTerms(weights: string): TensorName {
    return this.b.op1('Mul', [this.b.reshape(weights, [...this.lead, this.c, 1]), this.a()]);
  }

  /** A map that is Σ_k w_k·A_k, with its terms for eigen-smooth. */
  byWeights(weights: string): { map: TensorName; terms: () => TensorName } {
    return { map: this.weighted(weights), terms: () => this.weightedTerms(weights) };
  }

  /** A map that is the channel sum of `terms` [C, Z]. */
  byTerms(terms: string): { map: TensorName; terms: () => TensorName } {
    return { map: this.columnSum(terms), terms: () => terms as TensorName };
  }

  /** Σ_k A_k: the sign EigenCAM agrees with. */
  total(): TensorName {
    return this.shared('total', () =>
      this.weighted(this.b.floatConst(new Float32Array(this.rows).fill(1), [this.rows, 1], 'ones')),
    );
  }
}

/**
 * Whether a layer's items can be one context with a leading item axis: they lie on batch axis 0 (a
 * sequence-first transformer's [T, N, C] does not).
 */
export function itemsBatchable(inputs: LayerMapInputs): boolean {
  return inputs.grid.batchAxis === 0;
}

/**
 * The [C, Z] view of a layer's tensor (activation or gradient), [N, C, Z] with the item axis `lead`: a
 * reshape for NCHW maps; channels-last maps and transformer tokens are transposed, and tokens that are not
 * grid positions (a class token) dropped.
 */
function channelMajor(b: GraphBuilder, x: string, grid: FeatureGrid, lead: number[]): TensorName {
  const c = grid.channels;
  const z = grid.height * grid.width;
  const rows = grid.prefix + z;
  const at = lead.length;
  const flat = b.reshape(x, grid.channelsFirst ? [...lead, c, rows] : [...lead, rows, c]);
  const axis = grid.channelsFirst ? at + 1 : at;
  const grid2d = grid.prefix > 0 ? b.slice(flat, [grid.prefix], [rows], [axis]) : flat;
  return grid.channelsFirst ? grid2d : b.op1('Transpose', [grid2d], { perm: at ? [0, 2, 1] : [1, 0] });
}
