/**
 * Bytes → ModelProto, with the checks that turn a broken file into one sentence instead of a crash.
 * Decoding uses the protobuf-es messages generated from the current onnx.proto (package onnx-buf).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { EngineError, describeError } from '../errors';

export type { ModelProto };

export function decodeModel(bytes: Uint8Array, displayName: string): ModelProto {
  if (bytes.byteLength === 0) throw new EngineError('bad-model', `${displayName} is empty: it is not an ONNX model.`);
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (error) {
    throw new EngineError(
      'bad-model',
      `${displayName} is not a valid ONNX model (the protobuf data is truncated or corrupt: ${describeError(error)}).`,
    );
  }
  if (!model.graph || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new EngineError('bad-model', `${displayName} has no graph: it is not an ONNX model, or it is truncated.`);
  }
  if (model.opsetImport.length === 0 && model.irVersion >= 3n) {
    throw new EngineError('bad-model', `${displayName} declares no operator set (opset_import is empty).`);
  }
  return model;
}
