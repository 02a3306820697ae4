/**
 * Builds small ONNX models in TypeScript for tests, so engine tests need no Python and no fixtures on disk.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from 'onnx-buf';
import type { MessageInitShape } from '@bufbuild/protobuf';

type NodeInit = MessageInitShape<typeof import('onnx-buf').NodeProtoSchema>;
type ValueInit = MessageInitShape<typeof import('onnx-buf').ValueInfoProtoSchema>;
type TensorInit = MessageInitShape<typeof import('onnx-buf').TensorProtoSchema>;
export type { AttributeProto, NodeProto, TensorProto, ValueInfoProto };

const FLOAT = 1;

export function valueInfo(name: string, shape: (number | string)[]): ValueInit {
  return {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: FLOAT,
          shape: {
            dim: shape.map((d) =>
              typeof d === 'number'
                ? { value: { case: 'dimValue', value: BigInt(d) } }
                : { value: { case: 'dimParam', value: d } },
            ),
          },
        },
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: number[]): TensorInit {
  const data = new Float32Array(values);
  return { name, dims: dims.map(BigInt), dataType: FLOAT, rawData: new Uint8Array(data.buffer) };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  name = '',
  attrs: NodeInit['attribute'] = [],
): NodeInit {
  return { opType, input: inputs, output: outputs, name, attribute: attrs };
}

export function intsAttr(name: string, ints: number[]): NonNullable<NodeInit['attribute']>[number] {
  return { name, type: 7, ints: ints.map(BigInt) };
}

export function intAttr(name: string, i: number): NonNullable<NodeInit['attribute']>[number] {
  return { name, type: 2, i: BigInt(i) };
}

export interface ModelSpec {
  nodes: NodeInit[];
  inputs: ValueInit[];
  outputs: ValueInit[];
  initializers?: TensorInit[];
  metadata?: Record<string, string>;
  opset?: number;
  irVersion?: number;
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(spec.irVersion ?? 8),
    producerName: 'layerlens-tests',
    opsetImport: [{ domain: '', version: BigInt(spec.opset ?? 13) }],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'test',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
  });
  return toBinary(ModelProtoSchema, model);
}

/**
 * input [N,3,H,W] → GlobalAveragePool → Flatten → Gemm(identity, bias 0) → logits [N,3].
 * With mean 0, std 1, scale 255 the logits are each channel's mean intensity in [0, 1], so a pure red
 * image scores [1, 0, 0] exactly: a model whose answer tests can compute by hand.
 */
export function channelMeanClassifier(size = 8, extraMetadata: Record<string, string> = {}): Uint8Array {
  return buildModel({
    inputs: [valueInfo('input', ['batch', 3, size, size])],
    outputs: [valueInfo('logits', ['batch', 3])],
    initializers: [floatTensor('W', [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]), floatTensor('B', [3], [0, 0, 0])],
    nodes: [
      node('GlobalAveragePool', ['input'], ['pooled'], '/pool/GlobalAveragePool'),
      node('Flatten', ['pooled'], ['flat'], '/Flatten'),
      node('Gemm', ['flat', 'W', 'B'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]),
    ],
    metadata: {
      'layerlens.labels': JSON.stringify(['red', 'green', 'blue']),
      'layerlens.preprocess': JSON.stringify({
        input_size: [size, size],
        resize: 'stretch',
        scale: 255,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      }),
      ...extraMetadata,
    },
  });
}

export function floatAttr(name: string, f: number): NonNullable<NodeInit['attribute']>[number] {
  return { name, type: 1, f };
}

export function stringAttr(name: string, s: string): NonNullable<NodeInit['attribute']>[number] {
  return { name, type: 3, s: new TextEncoder().encode(s) };
}

export function int64Tensor(name: string, values: number[]): TensorInit {
  const data = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [BigInt(values.length)], dataType: 7, rawData: new Uint8Array(data.buffer) };
}

/** A rank-0 int64 constant (Gather's scalar index, a scalar divisor). */
export function int64Scalar(name: string, value: number): TensorInit {
  return { ...int64Tensor(name, [value]), dims: [] };
}

/** A one-input model: x → nodes → y, with constants; output shape left to onnxruntime. */
export function opModel(
  nodes: NodeInit[],
  inputShape: number[],
  options: { initializers?: TensorInit[]; opset?: number; output?: string } = {},
): Uint8Array {
  return buildModel({
    inputs: [valueInfo('x', inputShape)],
    outputs: [{ name: options.output ?? 'y' }],
    initializers: options.initializers ?? [],
    nodes,
    opset: options.opset ?? 13,
  });
}

/** x [1, 4] + w, with w's 4 floats stored as external data at `location` (offset 4 bytes by default). */
export function externalWeightModel(location: string, offset = 4): Uint8Array {
  return buildModel({
    inputs: [valueInfo('x', [1, 4])],
    outputs: [{ name: 'y' }],
    nodes: [node('Add', ['x', 'w'], ['y'])],
    initializers: [
      {
        name: 'w',
        dims: [4n],
        dataType: 1,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: '16' },
        ],
      },
    ],
  });
}
