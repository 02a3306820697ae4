/**
 * What a method's in-graph map builder works from: one hooked layer's activation A and gradient g as [C, Z]
 * (channels × grid positions), and the intermediates several methods share (g⊙A, ReLU(g), channel sums),
 * each emitted once and only if some method asks for it. Weights-based maps Σ_k w_k·A_k go through
 * `weighted`: a [1, C]·[C, Z] MatMul, onnxruntime's matrix-vector kernel, one read of A per map.
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
  /** [1, classes]: the explained class's one-hot row (signed for the counterfactual), or null without one. */
  classRow: TensorName | null;
  /** The head CAM reads, or why there is none. */
  head: HeadWeights | { reason: string };
}

export class LayerMapContext {
  readonly c: number;
  readonly z: number;
  private readonly memo = new Map<string, TensorName>();

  constructor(
    readonly b: GraphBuilder,
    readonly inputs: LayerMapInputs,
  ) {
    this.c = inputs.grid.channels;
    this.z = inputs.grid.height * inputs.grid.width;
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

  /** A as [C, Z]. */
  a(): TensorName {
    return this.shared('a', () => channelMajor(this.b, this.inputs.activation, this.inputs.grid));
  }

  /** g as [C, Z]; only called by methods that need the gradient (the registry says which). */
  g(): TensorName {
    return this.shared('g', () => channelMajor(this.b, this.inputs.gradient as string, this.inputs.grid));
  }

  ga(): TensorName {
    return this.shared('ga', () => this.b.op1('Mul', [this.g(), this.a()]));
  }

  positiveGradient(): TensorName {
    return this.shared('relu(g)', () => this.b.op1('Relu', [this.g()]));
  }

  /** Σ_ij A_k as [C, 1]. */
  channelSums(): TensorName {
    return this.shared('sums', () => this.b.reduceSum(this.a(), [1], true));
  }

  /** Σ_k x_k for x [C, Z]: [Z]. */
  columnSum(x: string): TensorName {
    return this.b.reduceSum(x, [0], false);
  }

  /** Σ_k g_k⊙A_k: HiResCAM's map, and the sign EigenGradCAM agrees with. */
  hires(): TensorName {
    return this.shared('hires', () => this.columnSum(this.ga()));
  }

  /** Σ_k w_k·A_k [Z] for per-channel weights w ([C, 1], [1, C] or [C]). */
  weighted(weights: string): TensorName {
    const { b, c, z } = this;
    // A single-row MatMul is onnxruntime's matrix-vector kernel, one read of A. (Stacking the rows into one
    // MatMul, or a transposed operand, makes it repack A first: twice the cost.)
    return b.reshape(b.op1('MatMul', [b.reshape(weights, [1, c]), this.a()]), [z]);
  }

  /** w_k·A_k [C, Z] for per-channel weights w: the terms whose channel sum `weighted` is (for eigen-smooth). */
  weightedTerms(weights: string): TensorName {
    return this.b.op1('Mul', [this.b.reshape(weights, [this.c, 1]), this.a()]);
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
    return this.shared('total', () => this.weighted(this.b.floatConst(new Float32Array(this.c).fill(1), [this.c, 1], 'ones')));
  }
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
