/** What the UI and CLI show about a model: its interface, opsets and metadata. */
import type { ValueInfoProto } from 'onnx-buf';
import type { Dim, OpsetImport, TensorInfo, TensorName } from '../../../src-shared/api';
import type { ModelProto } from './decode-model';
import { dtypeName } from './tensor-types';

export function tensorInfo(value: ValueInfoProto): TensorInfo {
  const type = value.type?.value;
  if (type?.case !== 'tensorType') return { name: value.name as TensorName, dtype: type?.case ?? 'unknown', shape: [] };
  const shape: Dim[] = (type.value.shape?.dim ?? []).map((d) => {
    if (d.value.case === 'dimValue') return Number(d.value.value);
    if (d.value.case === 'dimParam') return d.value.value || null;
    return null;
  });
  return { name: value.name as TensorName, dtype: dtypeName(type.value.elemType), shape };
}

/** Graph inputs that are real inputs (older exporters list every initializer as an input too). */
export function realInputs(model: ModelProto): TensorInfo[] {
  const graph = model.graph;
  if (!graph) return [];
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((i) => !initializers.has(i.name)).map(tensorInfo);
}

export function graphOutputs(model: ModelProto): TensorInfo[] {
  return (model.graph?.output ?? []).map(tensorInfo);
}

export function opsetImports(model: ModelProto): OpsetImport[] {
  return model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) }));
}

/** The default-domain opset, which decides which operator versions apply. */
export function defaultOpset(model: ModelProto): number | null {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : null;
}

export function metadataRecord(model: ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of model.metadataProps) out[entry.key] = entry.value;
  return out;
}

export function producerString(model: ModelProto): string {
  return [model.producerName, model.producerVersion].filter(Boolean).join(' ') || 'unknown';
}
