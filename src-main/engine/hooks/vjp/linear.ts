/** Gemm and MatMul. */
import type { TensorName } from '../../../../src-shared/api';
import { reduceToShape } from './elementwise';
import type { VjpRule } from './context';

const gemm: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return ctx.node.input.map(() => null);
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const transA = ctx.int('transA', 0);
  const transB = ctx.int('transB', 0);
  const [a, bb] = [ctx.input(0), ctx.input(1)];
  // Y = α·op(A)·op(B) + β·C  ⇒  d op(A) = α·g·op(B)ᵀ,  d op(B) = α·op(A)ᵀ·g
  const ga = ctx.needs[0]
    ? transA === 0
      ? b.gemm(g, bb, { alpha, transA: 0, transB: transB === 0 ? 1 : 0 })
      : b.gemm(bb, g, { alpha, transA: transB, transB: 1 })
    : null;
  const gb = ctx.needs[1]
    ? transB === 0
      ? b.gemm(a, g, { alpha, transA: transA === 0 ? 1 : 0, transB: 0 })
      : b.gemm(g, a, { alpha, transA: 1, transB: transA })
    : null;
  let gc: TensorName | null = null;
  const c = ctx.node.input[2];
  if (c && ctx.needs[2]) {
    const scaled = beta === 1 ? g : b.op1('Mul', [g, b.scalar(beta)]);
    gc = reduceToShape(b, scaled, ctx.shape(ctx.output()), ctx.shape(c));
  }
  return [ga, gb, gc];
};

const swapLast = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

const matMul: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  const [a, c] = [ctx.input(0), ctx.input(1)];
  const aShape = ctx.shape(a);
  const cShape = ctx.shape(c);
  if (aShape.length < 2 || cShape.length < 2) ctx.unsupported('1-D operands are not supported yet');
  const out = ctx.shape(ctx.output());
  // Broadcast batch dims: compute at the output's batch shape, then sum back to each operand's.
  const ga = ctx.needs[0]
    ? reduceToShape(
        b,
        b.op1('MatMul', [g, b.op1('Transpose', [c], { perm: swapLast(cShape.length) })]),
        [...out.slice(0, -2), aShape.at(-2) as number, aShape.at(-1) as number],
        aShape,
      )
    : null;
  const gc = ctx.needs[1]
    ? reduceToShape(
        b,
        b.op1('MatMul', [b.op1('Transpose', [a], { perm: swapLast(aShape.length) }), g]),
        [...out.slice(0, -2), cShape.at(-2) as number, cShape.at(-1) as number],
        cShape,
      )
    : null;
  return [ga, gc];
};

export const linearRules: Record<string, VjpRule> = { Gemm: gemm, MatMul: matMul };
