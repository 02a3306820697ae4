/**
 * The backward hook: vector-Jacobian ops appended after the forward graph, from the score back to every
 * hooked tensor at once. Only nodes between the hooked tensors and the score are touched; where a tensor
 * fans out, its partial gradients are summed. The seed (∂score/∂logits, a one-hot row per image) is a graph
 * input, so explaining another class needs no rebuild.
 */
import { GRADIENT_FREE_METHODS, methodLabels } from '../../../src-shared/cam';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphIndex } from '../graph/graph-index';
import type { ConstantValues } from './constant-values';
import { GraphBuilder, type GraphForm } from './graph-builder';
import { VjpContext } from './vjp/context';
import { ruleFor } from './vjp/rules';

const FLOAT_TYPES = new Set(['float32', 'float16', 'float64', 'bfloat16']);

export interface BackwardGraph {
  builder: GraphBuilder;
  /** Gradient tensor name for each hooked tensor. */
  gradients: Map<TensorName, TensorName>;
}

export interface BackwardInput {
  index: GraphIndex;
  shapeOf: (t: string) => number[] | null;
  dtypeOf: (t: string) => string | null;
  constants: ConstantValues;
  opset: number;
  score: TensorName;
  seed: TensorName;
  hooked: TensorName[];
  /** See HookOptions.form. */
  form?: GraphForm;
}

export const GRADIENT_FREE_HINT = `the gradient-free methods (${methodLabels(GRADIENT_FREE_METHODS)}; CAM where the head allows) still work`;

export function buildBackward(input: BackwardInput): BackwardGraph {
  const { index, score, hooked } = input;
  const isFloat = (t: string): boolean => {
    const d = input.dtypeOf(t);
    return d === null || FLOAT_TYPES.has(d);
  };
  // Tensors that depend on a hooked tensor.
  const dependent = new Set<string>(hooked);
  for (const node of index.nodes) {
    if (node.input.some((i) => dependent.has(i))) for (const o of node.output) if (o && isFloat(o)) dependent.add(o);
  }
  // Tensors the score depends on.
  const contributes = new Set<string>([score]);
  for (let i = index.nodes.length - 1; i >= 0; i--) {
    const node = index.nodes[i];
    if (node?.output.some((o) => contributes.has(o))) for (const x of node.input) if (x) contributes.add(x);
  }

  const builder = new GraphBuilder(input.opset, 'layerlens/grad', input.form ?? 'plain');
  const partials = new Map<string, TensorName[]>([[score, [input.seed]]]);
  const addPartial = (t: string, g: TensorName): void => {
    const list = partials.get(t);
    if (list) list.push(g);
    else partials.set(t, [g]);
  };
  const gradientOf = (t: string): TensorName | null => {
    const list = partials.get(t);
    if (!list || list.length === 0) return null;
    const total = builder.sum(list);
    partials.set(t, [total]);
    return total;
  };

  const scoreNode = index.producer.get(score);
  for (let i = scoreNode ?? -1; i >= 0; i--) {
    const node = index.nodes[i];
    if (!node) continue;
    if (!node.output.some((o) => contributes.has(o))) continue;
    const needs = node.input.map((x) => !!x && dependent.has(x) && contributes.has(x) && isFloat(x));
    if (!needs.some(Boolean)) continue;
    const gradOutputs = node.output.map((o) => (o ? gradientOf(o) : null));
    if (gradOutputs.every((g) => g === null)) continue;
    const rule = ruleFor(node.opType, node.domain);
    if (!rule) {
      throw new EngineError(
        'unsupported',
        `Gradients cannot pass node "${node.name || node.output[0]}" (${node.domain ? `${node.domain}.` : ''}${node.opType}): LayerLens has no gradient rule for ${node.opType}; ${GRADIENT_FREE_HINT}.`,
      );
    }
    const ctx = new VjpContext(builder, node, input.shapeOf, input.constants, needs);
    const gradInputs = rule(ctx, gradOutputs);
    node.input.forEach((x, k) => {
      const g = gradInputs[k];
      if (x && needs[k] && g) addPartial(x, g);
    });
  }

  const gradients = new Map<TensorName, TensorName>();
  for (const h of hooked) {
    const g = gradientOf(h);
    // A hooked tensor the score does not depend on has a zero gradient.
    const value = g ?? builder.op1('Mul', [h, builder.scalar(0)]);
    const out = `layerlens/grad_of/${h}` as TensorName;
    builder.named('Identity', [value], out);
    gradients.set(h, out);
  }
  return { builder, gradients };
}
