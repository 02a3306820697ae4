/**
 * Graph rewrites that leave the original model untouched: copies share the (large) initializer messages
 * and only replace the lists that change.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema, type ValueInfoProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { ModelProto } from './decode-model';

/** The model with `tensors` added as graph outputs (a forward hook), untyped so onnxruntime infers them. */
export function withExtraOutputs(model: ModelProto, tensors: Iterable<TensorName>): ModelProto {
  const graph = model.graph;
  if (!graph) return model;
  const present = new Set(graph.output.map((o) => o.name));
  const declared = new Map<string, ValueInfoProto>();
  for (const v of graph.valueInfo) declared.set(v.name, v);
  const extra: ValueInfoProto[] = [];
  for (const name of tensors) {
    if (present.has(name)) continue;
    present.add(name);
    extra.push(declared.get(name) ?? create(ValueInfoProtoSchema, { name }));
  }
  return { ...model, graph: { ...graph, output: [...graph.output, ...extra] } };
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}
