/**
 * AblationCAM (Desai & Ramaswamy): each channel zeroed in turn; weight = (y_c − y_c with channel k zeroed) / y_c.
 * Only the layers after the hooked one run: a "tail" model whose input is that layer.
 */
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../../src-shared/api';
import { EngineError } from '../../errors';
import type { GraphAnalysis } from '../../graph/analyze-graph';
import { constantTensors, cutTensors } from '../../graph/cut-tensors';
import type { GraphIndex } from '../../graph/graph-index';
import { fromChannelMajor, type FeatureGrid } from '../../graph/feature-grid';
import { encodeModel } from '../../onnx/rewrite';
import { positions, weightedSum } from '../layer-tensors';
import { batched, perturbationBatch, type Progress } from '../perturbation';
import type { PerturbationJob, PerturbationMethod } from './method';

export const ablationcam: PerturbationMethod = { kind: 'perturbation', run: ablationCam };

async function ablationCam(p: PerturbationJob, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array> {
  const { layer } = p;
  const { session, provider } = await p.tail();
  const size = layer.channels * positions(layer);
  const z = positions(layer);
  const logits = await batched(
    layer.channels,
    perturbationBatch(provider, size),
    (start, n) => {
      const data = new Float32Array(n * size);
      for (let b = 0; b < n; b++) {
        data.set(layer.activation, b * size);
        data.fill(0, b * size + (start + b) * z, b * size + (start + b + 1) * z);
      }
      return { [p.tensor]: nativeBatch(p.grid, data, p.native, n) };
    },
    async (feeds) => (await session.run(feeds, [p.scoreName]))[p.scoreName]?.data as Float32Array,
    p.classes,
    onProgress,
    signal,
  );
  const base = p.baseline;
  const weights = Float64Array.from(
    { length: layer.channels },
    (_, k) => (base - (logits[k * p.classes + p.classIndex] as number)) / (base === 0 ? 1e-7 : base),
  );
  return weightedSum(layer, weights);
}

/**
 * The model from `tensor` to the score: `tensor` becomes the input. Only defined for cut tensors (every
 * path passes through them, as for every stage), where nothing else from before is needed. Graph inputs
 * named in `fedInputs` (weights fed as inputs, trust/weights-as-inputs.ts) stay inputs where the tail
 * reads them: tailInputs names them.
 */
export function tailModel(
  analysis: GraphAnalysis,
  tensor: TensorName,
  score: TensorName,
  fedInputs: ReadonlySet<string> = new Set(),
): Uint8Array {
  if (!cutTensors(fedAsConstants(analysis.index, fedInputs)).some((c) => c.tensor === tensor)) {
    throw new EngineError('unsupported', 'AblationCAM needs a layer that every path passes through (a stage output).');
  }
  const nodes = tailNodes(analysis, tensor, fedInputs);
  const kept = tailInputs(analysis, tensor, fedInputs);
  const graph = analysis.runnable.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const shape = analysis.shapes.get(tensor)?.shape ?? [];
  const batchAxis = analysis.gridOf(tensor)?.batchAxis ?? 0;
  const input = create(ValueInfoProtoSchema, {
    name: tensor,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: 1,
          shape: {
            dim: shape.map((d, i) =>
              i === batchAxis
                ? { value: { case: 'dimParam' as const, value: 'batch' } }
                : { value: { case: 'dimValue' as const, value: BigInt(d as number) } },
            ),
          },
        },
      },
    },
  });
  return encodeModel({
    ...analysis.runnable,
    graph: {
      ...graph,
      node: nodes,
      input: [input, ...graph.input.filter((v) => kept.has(v.name))],
      output: [create(ValueInfoProtoSchema, { name: score })],
    },
  });
}

/** The graph inputs among `fedInputs` that the tail after `tensor` reads. */
export function tailInputs(analysis: GraphAnalysis, tensor: TensorName, fedInputs: ReadonlySet<string>): Set<string> {
  const read = new Set(tailNodes(analysis, tensor, fedInputs).flatMap((n) => n.input));
  return new Set([...fedInputs].filter((name) => read.has(name)));
}

/** The index with fed weights taken as constants: they carry nothing from the image. */
function fedAsConstants(index: GraphIndex, fedInputs: ReadonlySet<string>): GraphIndex {
  if (fedInputs.size === 0) return index;
  return {
    ...index,
    inputs: new Set([...index.inputs].filter((i) => !fedInputs.has(i))),
    initializers: new Set([...index.initializers, ...([...fedInputs] as TensorName[])]),
  };
}

/** The nodes after `tensor`'s producer, and the constant ones before it (the tail may read them). */
function tailNodes(analysis: GraphAnalysis, tensor: TensorName, fedInputs: ReadonlySet<string>): NodeProto[] {
  const index = analysis.index;
  const producer = index.producer.get(tensor) ?? -1;
  const constant = constantTensors(fedAsConstants(index, fedInputs));
  return index.nodes.filter((n, i) => i > producer || n.output.every((o) => !o || constant.has(o as TensorName)));
}
/** n [C, H, W] copies in the tensor's own layout, batched along its batch axis. */
function nativeBatch(grid: FeatureGrid, chw: Float32Array, native: Float32Array, n: number): ort.Tensor {
  const stacked = fromChannelMajor(grid, chw, native, n);
  const dims = grid.shape.map((d, i) => (i === grid.batchAxis ? n : d));
  if (grid.batchAxis === 0 || n === 1) return new ort.Tensor('float32', stacked, dims);
  // Sequence-first [T, n, C]: interleave the n copies token by token.
  const [tokens, , channels] = grid.shape as [number, number, number];
  const out = new Float32Array(stacked.length);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < tokens; t++)
      out.set(stacked.subarray((b * tokens + t) * channels, (b * tokens + t + 1) * channels), (t * n + b) * channels);
  return new ort.Tensor('float32', out, dims);
}
