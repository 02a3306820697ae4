/**
 * The analysed model with chosen weights turned from initializers into graph inputs, so one onnxruntime
 * session runs the model with any values of them: the sanity check feeds the original or randomised
 * weights run after run instead of creating a session per randomised model. Gradient rules then see these
 * weights as values computed at run time (e.g. a Conv's adjoint becomes a ConvTranspose of the fed weight).
 */
import { create } from '@bufbuild/protobuf';
import type { TensorProto } from 'onnx-buf';
import { ValueInfoProtoSchema } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { buildGraphIndex } from '../graph/graph-index';

export function weightsAsInputs(analysis: GraphAnalysis, weights: TensorProto[], displayName: string): GraphAnalysis {
  const graph = analysis.runnable.graph;
  if (!graph) throw new EngineError('bad-model', `${displayName} has no graph.`);
  const moved = new Set(weights.map((w) => w.name));
  const realInputs = graph.input.filter((v) => !moved.has(v.name) && !graph.initializer.some((t) => t.name === v.name));
  const otherListed = graph.input.filter((v) => !moved.has(v.name) && !realInputs.includes(v));
  const weightInputs = weights.map((w) =>
    create(ValueInfoProtoSchema, {
      name: w.name,
      type: {
        value: {
          case: 'tensorType',
          value: { elemType: 1, shape: { dim: w.dims.map((d) => ({ value: { case: 'dimValue' as const, value: d } })) } },
        },
      },
    }),
  );
  const runnable = {
    ...analysis.runnable,
    graph: {
      ...graph,
      initializer: graph.initializer.filter((t) => !moved.has(t.name)),
      // The image input stays first: the hook builder takes the first real input as the image.
      input: [...realInputs, ...weightInputs, ...otherListed],
    },
  };
  const inputShapes = new Map(analysis.inputShapes);
  for (const w of weights) inputShapes.set(w.name as TensorName, w.dims.map(Number));
  return { ...analysis, runnable, index: buildGraphIndex(runnable, displayName), inputShapes };
}
