/**
 * Appends nodes and constants to a graph being rewritten, in the form the model's opset accepts: ops whose
 * signature changed across opsets (ReduceSum, Slice, Pad, Equal on floats) are emitted in the right form,
 * and an op the opset lacks raises an error instead of producing a graph onnxruntime would reject.
 */
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, type AttributeProto, type NodeProto, type TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { floatInitializer, int64Initializer } from '../onnx/tensor-data';

const FLOAT = 1;

export type AttrValue = number | number[] | string | { ints: number[] } | { float: number };

export function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'string') return create(AttributeProtoSchema, { name, type: 3, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return create(AttributeProtoSchema, { name, type: 7, ints: value.map((v) => BigInt(v)) });
  if (typeof value === 'number') return create(AttributeProtoSchema, { name, type: 2, i: BigInt(value) });
  if ('ints' in value) return create(AttributeProtoSchema, { name, type: 7, ints: value.ints.map((v) => BigInt(v)) });
  return create(AttributeProtoSchema, { name, type: 1, f: value.float });
}

/**
 * Which provider a rewrite is written for: onnxruntime's x86 CPU provider with its channel-blocked layout
 * (vjp/blocked-layout.ts), any provider with the plain forms, or the WebGPU provider, which only gets ops it
 * has kernels for (an op it lacks runs on the CPU, with a copy each way).
 */
export type GraphForm = 'blocked' | 'plain' | 'gpu';

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;
  private readonly scalarCache = new Map<string, TensorName>();

  constructor(
    readonly opset: number,
    private readonly prefix = 'layerlens/grad',
    /** Which provider the written forms are for (GraphForm). */
    readonly form: GraphForm = 'plain',
  ) {}

  /** Emit forms onnxruntime's CPU provider keeps in its blocked layout (see vjp/blocked-layout.ts). */
  get blockedLayout(): boolean {
    return this.form === 'blocked';
  }

  fresh(hint: string): TensorName {
    this.counter += 1;
    return `${this.prefix}/${hint}_${this.counter}` as TensorName;
  }

  requireOpset(min: number, what: string, context: string): void {
    if (this.opset < min) {
      throw new EngineError(
        'unsupported',
        `${context}: its gradient needs ${what}, which opset ${this.opset} lacks (opset ${min}+).`,
      );
    }
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): TensorName[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: names[0] as string,
        input: inputs,
        output: names,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return names;
  }

  /** A node whose output gets a chosen (public) name, e.g. a graph output. */
  named(opType: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}): TensorName {
    this.nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: output,
        input: inputs,
        output: [output],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return output as TensorName;
  }

  op1(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): TensorName {
    return this.op(opType, inputs, attrs)[0] as TensorName;
  }

  floatConst(values: ArrayLike<number>, dims: number[], hint = 'const'): TensorName {
    const name = this.fresh(hint);
    this.initializers.push(floatInitializer(name, dims, values));
    return name;
  }

  /** An int64 constant, 1-D unless `dims` says otherwise. */
  int64Const(values: ArrayLike<number>, hint = 'ints', dims: number[] = [values.length]): TensorName {
    const name = this.fresh(hint);
    this.initializers.push(int64Initializer(name, values, dims));
    return name;
  }

  /** A float scalar, shared by every use of the same value. */
  scalar(value: number): TensorName {
    const key = Object.is(value, -0) ? '-0' : String(value);
    let name = this.scalarCache.get(key);
    if (!name) {
      name = this.floatConst([value], [], 'scalar');
      this.scalarCache.set(key, name);
    }
    return name;
  }

  reshape(x: string, shape: number[]): TensorName {
    return this.op1('Reshape', [x, this.int64Const(shape, 'shape')]);
  }

  expand(x: string, shape: number[]): TensorName {
    this.requireOpset(8, 'Expand', 'broadcast');
    return this.op1('Expand', [x, this.int64Const(shape, 'shape')]);
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): TensorName {
    if (this.opset >= 13) return this.op1('ReduceSum', [x, this.int64Const(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
    return this.op1('ReduceSum', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  reduceMean(x: string, axes: number[], keepdims: boolean): TensorName {
    if (this.opset >= 18) return this.op1('ReduceMean', [x, this.int64Const(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
    return this.op1('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  reduceL1(x: string, axes: number[], keepdims: boolean): TensorName {
    if (this.opset >= 18) return this.op1('ReduceL1', [x, this.int64Const(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
    return this.op1('ReduceL1', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  reduceMax(x: string, axes: number[], keepdims: boolean): TensorName {
    if (this.opset >= 18) return this.op1('ReduceMax', [x, this.int64Const(axes, 'axes')], { keepdims: keepdims ? 1 : 0 });
    return this.op1('ReduceMax', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): TensorName {
    if (this.opset >= 10) {
      const inputs = [x, this.int64Const(starts, 'starts'), this.int64Const(ends, 'ends'), this.int64Const(axes, 'axes')];
      if (steps) inputs.push(this.int64Const(steps, 'steps'));
      return this.op1('Slice', inputs);
    }
    if (steps && steps.some((s) => s !== 1))
      throw new EngineError('unsupported', `strided Slice needs opset 10+ (model has ${this.opset}).`);
    return this.op1('Slice', [x], { starts, ends, axes });
  }

  /** Constant-mode Pad with explicit [begin..., end...] pads over all axes. */
  pad(x: string, pads: number[], value = 0): TensorName {
    if (this.opset >= 11) return this.op1('Pad', [x, this.int64Const(pads, 'pads'), this.scalar(value)], { mode: 'constant' });
    return this.op1('Pad', [x], { pads, mode: 'constant', value: { float: value } });
  }

  /**
   * condition ? a : b. Before opset 9 (no Where) as a·m + b·(1 − m) with m the condition as 0/1 floats:
   * the same where a and b are finite; an infinite value in the branch not taken gives NaN there (a
   * gradient through Sqrt, Log or Reciprocal at exactly 0 in an opset 7–8 model).
   */
  where(condition: string, a: string, b: string): TensorName {
    if (this.opset >= 9) return this.op1('Where', [condition, a, b]);
    const m = this.op1('Cast', [condition], { to: FLOAT });
    return this.op1('Add', [this.op1('Mul', [a, m]), this.op1('Mul', [b, this.op1('Sub', [this.scalar(1), m])])]);
  }

  /** Float equality; Equal accepts floats only from opset 11. */
  equal(a: string, b: string): TensorName {
    if (this.opset >= 11) return this.op1('Equal', [a, b]);
    return this.op1('Not', [this.op1('Or', [this.op1('Less', [a, b]), this.op1('Greater', [a, b])])]);
  }

  /**
   * α·op(A)·op(B) [+ β·C]. Gemm's C is optional only from opset 11: before, a zero scalar stands in (with
   * the broadcast flag that opsets before 7 want).
   */
  gemm(a: string, m: string, attrs: { transA?: number; transB?: number; alpha?: number; beta?: number }, c?: string): TensorName {
    const bias = c ?? (this.opset < 11 ? this.scalar(0) : undefined);
    return this.op1('Gemm', bias ? [a, m, bias] : [a, m], {
      ...(attrs.transA ? { transA: attrs.transA } : {}),
      ...(attrs.transB ? { transB: attrs.transB } : {}),
      ...(attrs.alpha !== undefined && attrs.alpha !== 1 ? { alpha: { float: attrs.alpha } } : {}),
      ...(attrs.beta !== undefined && attrs.beta !== 1 ? { beta: { float: attrs.beta } } : {}),
      ...(bias && this.opset < 7 ? { broadcast: 1 } : {}),
    });
  }

  /**
   * Sum of partial gradients (one input passes through untouched). The WebGPU provider has no Sum kernel
   * (onnxruntime would run it on the CPU, two copies across the bus each): a balanced tree of Adds there.
   */
  sum(parts: string[]): TensorName {
    if (parts.length === 1) return parts[0] as TensorName;
    if (this.form !== 'gpu') return this.op1('Sum', parts);
    let level = parts;
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(this.op1('Add', [level[i] as string, level[i + 1] as string]));
      if (level.length % 2 === 1) next.push(level[level.length - 1] as string);
      level = next;
    }
    return level[0] as TensorName;
  }
}
