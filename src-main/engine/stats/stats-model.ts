/**
 * The model a statistics run executes in its in-graph form: the original graph, with the input pinned to
 * the batched shape, plus the reductions of stats-graph.ts on every chosen layer. Its outputs are only
 * those reductions (the logits are not needed), and every layer's histogram range is an input, so one
 * session serves fixed and automatic ranges alike.
 */
import { create } from '@bufbuild/protobuf';
import { TensorShapeProto_DimensionSchema, ValueInfoProtoSchema, type ValueInfoProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { GraphBuilder } from '../hooks/graph-builder';
import { defaultOpset } from '../onnx/model-summary';
import { encodeModel } from '../onnx/rewrite';
import { appendLayerStats, type LayerStatsOutputs, type StatsGraphOptions, type StatsView } from './stats-graph';

export interface StatsModel {
  bytes: Uint8Array;
  inputName: TensorName;
  /** Per layer (in the order given), the names of its outputs and range inputs. */
  layers: LayerStatsOutputs[];
}

function floatInfo(name: string, shape: number[], elemType = 1): ValueInfoProto {
  const dim = shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }));
  return create(ValueInfoProtoSchema, { name, type: { value: { case: 'tensorType', value: { elemType, shape: { dim } } } } });
}

export function buildStatsModel(
  analysis: GraphAnalysis,
  layers: { tensor: TensorName; view: StatsView }[],
  options: StatsGraphOptions,
): StatsModel {
  const model = analysis.runnable;
  const graph = model.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const inputName = [...analysis.index.inputs][0];
  if (!inputName) throw new EngineError('bad-model', 'The model has no input.');
  const builder = new GraphBuilder(defaultOpset(model) ?? 13, 'layerlens/stats');
  const outputs = layers.map((l, k) => appendLayerStats(builder, l.tensor, l.view, k, options));
  const names = outputs.flatMap((o) =>
    [o.sum, o.sumSq, o.near, o.hist, o.atHi, o.min, o.max].filter((n): n is TensorName => n !== null),
  );
  const pinned = analysis.inputShapes.get(inputName);
  const input = graph.input.map((v) => {
    const elemType = v.type?.value.case === 'tensorType' ? v.type.value.value.elemType : 1;
    return v.name === inputName && pinned ? floatInfo(v.name, pinned, elemType) : v;
  });
  const bytes = encodeModel({
    ...model,
    graph: {
      ...graph,
      // The index's order is topological even when the file's was not.
      node: [...analysis.index.nodes, ...builder.nodes],
      initializer: [...graph.initializer, ...builder.initializers],
      input: [...input, ...outputs.flatMap((o) => [floatInfo(o.lo, [1]), floatInfo(o.scale, [1]), floatInfo(o.hi, [1])])],
      output: names.map((name) => create(ValueInfoProtoSchema, { name })),
    },
  });
  return { bytes, inputName, layers: outputs };
}
