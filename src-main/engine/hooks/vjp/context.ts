/**
 * What a gradient rule gets: the node, its static shapes, constant values, and a builder to emit ops.
 * A rule returns one gradient per node input (null where none is needed) and never guesses: anything it
 * cannot handle exactly goes through `unsupported`, which names the node and op.
 */
import type { AttributeProto, NodeProto } from 'onnx-buf';
import type { TensorName } from '../../../../src-shared/api';
import { EngineError } from '../../errors';
import type { ConstantValues } from '../constant-values';
import type { GraphBuilder } from '../graph-builder';

export class VjpContext {
  constructor(
    readonly b: GraphBuilder,
    readonly node: NodeProto,
    private readonly shapes: (t: string) => number[] | null,
    readonly constants: ConstantValues,
    /** Which inputs need a gradient (they depend on a hooked tensor). */
    readonly needs: boolean[],
  ) {}

  get label(): string {
    return `node "${this.node.name || this.node.output[0] || '?'}" (${this.node.opType})`;
  }

  unsupported(why: string): never {
    throw new EngineError('unsupported', `Gradients cannot pass ${this.label}: ${why}.`);
  }

  input(i: number): TensorName {
    const name = this.node.input[i];
    if (!name) this.unsupported(`input ${i} is missing`);
    return name as TensorName;
  }

  output(i = 0): TensorName {
    return this.node.output[i] as TensorName;
  }

  /** The static shape of `t`, or null where it is unknown (for rules that can do without). */
  knownShape(t: string): number[] | null {
    return this.shapes(t);
  }

  shape(t: string): number[] {
    const s = this.shapes(t);
    if (!s) this.unsupported(`the shape of "${t}" is unknown`);
    return s;
  }

  private attr(name: string): AttributeProto | undefined {
    return this.node.attribute.find((a) => a.name === name);
  }

  int(name: string, fallback: number): number {
    const a = this.attr(name);
    return a ? Number(a.i) : fallback;
  }

  ints(name: string, fallback: number[] | null = null): number[] | null {
    const a = this.attr(name);
    return a ? a.ints.map(Number) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.attr(name);
    return a ? a.f : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.attr(name);
    return a ? new TextDecoder().decode(a.s) : fallback;
  }

  /** An int list given as an attribute (older opsets) or as a constant input (newer ones). */
  intsFromAttrOrInput(attrName: string, inputIndex: number): number[] | null {
    const fromAttr = this.ints(attrName);
    if (fromAttr) return fromAttr;
    const input = this.node.input[inputIndex];
    if (!input) return null;
    const values = this.constants.ints(input);
    if (!values) this.unsupported(`its "${attrName}" input "${input}" is computed at run time, not a constant`);
    return values;
  }
}

export type VjpRule = (ctx: VjpContext, gradOutputs: (TensorName | null)[]) => (TensorName | null)[];

/** Normalises negative axes. */
export function axis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}
