/**
 * Keeping the backward pass in onnxruntime's channel-blocked layout (NCHWc) on the CPU.
 *
 * onnxruntime runs 4-D convolutions in a blocked layout and leaves it (ReorderOutput, a full copy) for any
 * consumer without a blocked kernel. Of the ops a backward pass needs, only Conv, Add/Sum/Mul (every operand
 * blocked, shapes provably equal), Concat on channels and Relu/Sigmoid/Tanh have one. Written naively, each
 * ReLU mask (Greater, Cast) and each MaxUnpool, DepthToSpace or Expand pulls the gradient out of the layout
 * and the next adjoint convolution puts it back: two copies per ReLU, and fan-out sums that cannot fuse into
 * the convolutions. The helpers below compute the same values with depthwise 1×1 convolutions, which
 * onnxruntime keeps blocked, so the gradient leaves the layout only where an op has no blocked kernel
 * (DepthToSpace, MaxUnpool) or the maps read it. Other providers (CUDA) and CPUs whose onnxruntime has no
 * blocked kernels (ARM builds) would only pay for the extra convolutions: the builder's blockedLayout says
 * which forms to write.
 */
import type { TensorName } from '../../../../src-shared/api';
import type { GraphBuilder } from '../graph-builder';

/**
 * A rule of thumb, not onnxruntime's exact rule (which varies with the CPU and the op): channel counts that
 * are multiples of 8 are blocked on every x86 CPU, and smaller or odd ones often are not.
 */
const BLOCK = 8;

/** Whether to write the blocked forms for a tensor of this shape (null: unknown). */
export function blockable(b: GraphBuilder, shape: readonly number[] | null): shape is number[] {
  return b.blockedLayout && shape !== null && shape.length === 4 && (shape[1] as number) % BLOCK === 0;
}

function depthwise1x1(b: GraphBuilder, x: string, channels: number, weight: number): TensorName {
  const w = b.floatConst(new Float32Array(channels).fill(weight), [channels, 1, 1, 1], 'depthwise');
  return b.op1('Conv', [x, w], { group: channels, kernel_shape: [1, 1] });
}

/** `x` unchanged, through a convolution: onnxruntime reorders its input once and keeps its output blocked. */
export function intoBlocked(b: GraphBuilder, x: string, channels: number): TensorName {
  return depthwise1x1(b, x, channels, 1);
}

/**
 * 1 where y > 0 and 0 where y = 0, for y ≥ 0 (a ReLU's output), as one blocked convolution with a fused
 * HardSigmoid: clamp(2¹²⁶ · (2²⁴ · y), 0, 1). Exact for every float but NaN: 2²⁴ · y is exact and normal even
 * for the smallest subnormal y = 2⁻¹⁴⁹, so the clamp sees at least 2 there; an overflow to +∞ clamps to 1 as
 * well. A NaN activation gives a NaN mask (Greater would give 0), but it has made the score NaN already.
 */
export function positiveMask(b: GraphBuilder, y: string, channels: number): TensorName {
  return b.op1('HardSigmoid', [depthwise1x1(b, y, channels, 2 ** 24)], { alpha: { float: 2 ** 126 }, beta: { float: 0 } });
}
