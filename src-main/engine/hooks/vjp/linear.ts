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

/** An Einsum operand or result as index tokens: one letter each, '...' as a single token. */
type Indices = string[];

function tokens(term: string): Indices {
  return term
    .replace(/\s/g, '')
    .replace(/\.\.\./g, '*')
    .split('');
}

/** The equation's operands and result; an implicit result is numpy's (ellipsis, then once-seen letters sorted). */
function parseEquation(equation: string): { inputs: Indices[]; output: Indices } {
  const [lhs = '', rhs] = equation.split('->');
  const inputs = lhs.split(',').map(tokens);
  if (rhs !== undefined) return { inputs, output: tokens(rhs) };
  const all = inputs.flat();
  const once = [...new Set(all)].filter((t) => t !== '*' && all.filter((x) => x === t).length === 1).sort();
  return { inputs, output: [...(all.includes('*') ? ['*'] : []), ...once] };
}

const term = (indices: Indices): string => indices.map((t) => (t === '*' ? '...' : t)).join('');

/**
 * Einsum with one or two operands. The adjoint of each operand is an Einsum too: the result's gradient
 * with the other operand, to that operand's indices. An index only that operand has was summed away in
 * the forward pass: its gradient is broadcast back (Unsqueeze + Expand). A repeated index (a diagonal)
 * and ellipses that broadcast are refused.
 */
const einsum: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return ctx.node.input.map(() => null);
  const { inputs, output } = parseEquation(ctx.string('equation', ''));
  if (inputs.length > 2 || inputs.length !== ctx.node.input.length)
    ctx.unsupported('only Einsums of one or two operands are supported');
  const operands = inputs.map((_, i) => ctx.input(i));
  const shapes = operands.map((x) => ctx.shape(x));
  // The dims each operand's ellipsis stands for must be the same everywhere (no broadcasting).
  const ellipsis = (indices: Indices, shape: number[]): string | null => {
    const at = indices.indexOf('*');
    return at < 0 ? null : shape.slice(at, at + shape.length - indices.length + 1).join();
  };
  const spans = [...inputs.map((ix, i) => ellipsis(ix, shapes[i] as number[])), ellipsis(output, ctx.shape(ctx.output()))];
  if (new Set(spans.filter((x) => x !== null)).size > 1) ctx.unsupported('ellipses that broadcast are not supported');
  if ([...inputs, output].some((ix) => new Set(ix).size !== ix.length))
    ctx.unsupported('repeated indices (diagonals) are not supported');
  const ellipsisRank = (indices: Indices, shape: number[]): number => shape.length - indices.length + 1;
  return inputs.map((indices, i) => {
    if (!ctx.needs[i]) return null;
    const other = inputs.length === 2 ? (inputs[1 - i] as Indices) : [];
    const kept = indices.filter((t) => output.includes(t) || other.includes(t));
    // An operand without the ellipsis the others have (ij,...jk->...ik) was broadcast over it: its gradient
    // is computed over the ellipsis too, then summed over it (Einsum cannot drop an ellipsis).
    const spread = !indices.includes('*') && (output.includes('*') || other.includes('*'));
    const equation = `${term(output)}${other.length ? `,${term(other)}` : ''}->${term(spread ? ['*', ...kept] : kept)}`;
    let partial = b.op1('Einsum', other.length ? [g, operands[1 - i] as string] : [g], { equation });
    if (spread) {
      const rank = output.includes('*')
        ? ellipsisRank(output, ctx.shape(ctx.output()))
        : ellipsisRank(other, shapes[1 - i] as number[]);
      if (rank > 0) partial = b.reduceSum(partial, [...Array(rank).keys()], false);
    }
    if (kept.length === indices.length) return partial;
    // Indices summed in the forward pass: every element of them got the same gradient.
    const shape = shapes[i] as number[];
    const axes = indices.flatMap((t, k) => (kept.includes(t) ? [] : [k]));
    if (indices.includes('*') && shape.length !== indices.length)
      ctx.unsupported('summed indices beside an ellipsis are not supported');
    return b.expand(
      b.reshape(
        partial,
        shape.map((d, k) => (axes.includes(k) ? 1 : d)),
      ),
      shape,
    );
  });
};

export const linearRules: Record<string, VjpRule> = { Gemm: gemm, MatMul: matMul, Einsum: einsum };
