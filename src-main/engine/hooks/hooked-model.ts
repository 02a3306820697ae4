/**
 * One rewritten model per (model, hooked tensors, input shape, gradients or not): forward hooks expose the
 * hooked activations as outputs, backward hooks (optional) add their gradients. A single run returns the
 * logits, every activation and every gradient.
 */
import { create } from '@bufbuild/protobuf';
import { TensorShapeProto_DimensionSchema, ValueInfoProtoSchema, type ValueInfoProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import type { ModelProto } from '../onnx/decode-model';
import { defaultOpset } from '../onnx/model-summary';
import { encodeModel } from '../onnx/rewrite';
import { buildBackward } from './backward';
import { ConstantValues } from './constant-values';
import { GraphBuilder, type GraphForm } from './graph-builder';
import { appendMaps } from './map-graph';
import { CAM_METHOD_REGISTRY, type CamMethod } from '../../../src-shared/cam';
import { camHead } from '../cam/classifier-head';
import { scoreTargetOf } from '../cam/methods';
import type { ScoreTarget } from '../cam/methods/method';
import { finerSeed } from './score-target';

export const SEED_INPUT = 'layerlens/seed' as TensorName;
/** Scalar added as a multiple of the top class's one-hot row: explaining "the top class" costs no extra run. */
export const TOP_WEIGHT_INPUT = 'layerlens/top_weight' as TensorName;

export interface HookedModel {
  bytes: Uint8Array;
  inputName: TensorName;
  /** The tensor differentiated: the logits (the input of a final Softmax/LogSoftmax if there is one). */
  score: TensorName;
  scoreShape: number[];
  gradients: Map<TensorName, TensorName> | null;
  /** Whether the graph takes SEED_INPUT and TOP_WEIGHT_INPUT (the class explained: gradients, CAM's row). */
  seeded: boolean;
  /** Methods an in-graph map cannot be built for at a layer, with why (CAM without its head). */
  unavailable: Map<TensorName, Map<CamMethod, string>>;
  /** In-graph maps: for each hooked tensor, the output holding each method's H·W map. */
  maps: Map<TensorName, Map<CamMethod, TensorName>>;
  /** For some in-graph maps, the scalar output their rounding is measured against (map-graph.ts). */
  termScales: Map<TensorName, Map<CamMethod, TensorName>>;
  /** What made gradients impossible, when they were asked for and could not be built. */
  gradientError: string | null;
}

/** The logits: graph output 0, or what a final Softmax/LogSoftmax normalises. */
export function scoreTensor(analysis: GraphAnalysis): TensorName {
  const out = analysis.index.outputs[0];
  if (!out) throw new EngineError('bad-model', 'The model declares no output.');
  const node = analysis.index.producer.get(out);
  const producer = node === undefined ? undefined : analysis.index.nodes[node];
  if (producer && (producer.opType === 'Softmax' || producer.opType === 'LogSoftmax') && producer.input[0]) {
    return producer.input[0] as TensorName;
  }
  return out;
}

function floatValue(name: string, shape: number[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: { elemType: 1, shape: { dim: shape.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } },
      },
    },
  });
}

/**
 * The input with the concrete shape the hooked graph was built for (its gradients' shapes are fixed anyway):
 * onnxruntime then knows every shape, and its NCHWc layout pass only keeps element-wise ops of the backward
 * pass in the blocked layout when it can prove their operands' shapes equal.
 */
function pinShape(input: ValueInfoProto, shape: number[] | null): ValueInfoProto {
  const type = input.type?.value;
  if (!shape || type?.case !== 'tensorType' || !type.value.shape || type.value.shape.dim.length !== shape.length) return input;
  const dim = shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }));
  return create(ValueInfoProtoSchema, {
    name: input.name,
    type: { value: { case: 'tensorType', value: { elemType: type.value.elemType, shape: { dim } } } },
  });
}

export interface HookOptions {
  /** Methods whose maps the graph computes itself (see map-graph.ts). */
  maps?: readonly CamMethod[];
  /** Expose the hooked activations and gradients as outputs (both by default). */
  exposeActivations?: boolean;
  exposeGradients?: boolean;
  /**
   * The provider the rewrite is written for (graph-builder.ts): the blocked forms for onnxruntime's x86 CPU
   * provider (vjp/blocked-layout.ts), plain ones for CUDA and ARM, WebGPU-kernel-only ones for WebGPU. The
   * same values every way.
   */
  form?: GraphForm;
  /** The score the backward pass differentiates (cam/methods/method.ts); the class's logit by default. */
  target?: ScoreTarget;
  /** Maps of gradient-summing methods replaced by the first principal component of their terms. */
  eigenSmooth?: boolean;
  /**
   * aug-smooth: the input is a batch of augmented copies of one image (item 0 the image itself), item i
   * flipped horizontally where `flipped[i]`. Every item explains item 0's class; the maps are averaged.
   */
  flipped?: readonly boolean[];
  /**
   * The input is a batch of `items` independent items (images, or one image repeated for several classes):
   * SEED_INPUT has a row per item, TOP_WEIGHT_INPUT adds each row's own top class, and every map output is
   * [items·H·W], item i at offset i·H·W (a term scale [items]). The analysis is the batch's (its shapes)
   * with one item's grids, as for aug-smooth. Not combined with `flipped`.
   */
  items?: number;
}

export function buildHookedModel(
  analysis: GraphAnalysis,
  hooked: TensorName[],
  withGradients: boolean,
  options: HookOptions = {},
): HookedModel {
  const exposeActivations = options.exposeActivations ?? true;
  const exposeGradients = options.exposeGradients ?? true;
  const model: ModelProto = analysis.runnable;
  const graph = model.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const inputName = [...analysis.index.inputs][0];
  if (!inputName) throw new EngineError('bad-model', 'The model has no input.');
  const score = scoreTensor(analysis);
  const shapeOf = (t: string): number[] | null => knownShape(analysis, t);
  const scoreShape = shapeOf(score);
  if (!scoreShape) throw new EngineError('bad-model', `The shape of the score tensor "${score}" is unknown.`);

  const outputs: ValueInfoProto[] = [create(ValueInfoProtoSchema, { name: score })];
  if (exposeActivations)
    for (const t of new Set(hooked)) if (t !== score) outputs.push(create(ValueInfoProtoSchema, { name: t }));

  let gradients: Map<TensorName, TensorName> | null = null;
  let gradientError: string | null = null;
  const opset = defaultOpset(model) ?? 13;
  // A gradient method whose score is not this run's (FinerCAM's in a class run) needs its own run.
  const target = options.target ?? 'class';
  const elsewhere = (options.maps ?? []).filter((m) => CAM_METHOD_REGISTRY[m].needs.gradient && scoreTargetOf(m) !== target);
  const mapMethods = (options.maps ?? []).filter((m) => !elsewhere.includes(m));
  const needsClass = mapMethods.some((m) => CAM_METHOD_REGISTRY[m].needs.head);
  // seed_final = seed + top_weight · onehot(argmax(score)), built in-graph: the backward pass starts from it
  // and CAM reads the class's weights through it.
  const seedBuilder = new GraphBuilder(opset, 'layerlens/seed');
  const lastAxis = scoreShape.length - 1;
  // In an aug-smooth batch, "top" is the image's own top class (item 0's), for every item.
  const batched = (options.flipped?.length ?? 1) > 1;
  const items = options.items ?? 1;
  if (batched && items > 1)
    throw new EngineError('bad-input', 'aug-smooth runs one image: it cannot be combined with a batch of items.');
  const firstRow = (b: GraphBuilder, t: string): TensorName => (batched ? b.slice(t, [0], [1], [0]) : (t as TensorName));
  const topScore = firstRow(seedBuilder, score);
  const isTop = seedBuilder.op1('Cast', [seedBuilder.equal(topScore, seedBuilder.reduceMax(topScore, [lastAxis], true))], {
    to: 1,
  });
  const classSeed = seedBuilder.op1('Add', [SEED_INPUT, seedBuilder.op1('Mul', [isTop, TOP_WEIGHT_INPUT])]);
  const seedFinal = options.target === 'finer' ? finerSeed(seedBuilder, score, classSeed, scoreShape) : classSeed;
  let backwardNodes: typeof graph.node = [];
  let backwardInitializers: typeof graph.initializer = [];
  if (withGradients) {
    try {
      const backward = buildBackward({
        index: analysis.index,
        shapeOf,
        dtypeOf: (t) => analysis.shapes.get(t as TensorName)?.dtype ?? null,
        constants: ConstantValues.of(analysis),
        opset,
        score,
        seed: seedFinal,
        hooked,
        form: options.form ?? 'plain',
      });
      gradients = backward.gradients;
      backwardNodes = backward.builder.nodes;
      backwardInitializers = backward.builder.initializers;
      if (exposeGradients) for (const g of gradients.values()) outputs.push(create(ValueInfoProtoSchema, { name: g }));
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      gradientError = error.message;
    }
  }
  const maps = new Map<TensorName, Map<CamMethod, TensorName>>();
  const termScales = new Map<TensorName, Map<CamMethod, TensorName>>();
  const unavailable = new Map<TensorName, Map<CamMethod, string>>();
  const mapBuilder = new GraphBuilder(opset, 'layerlens/maps', options.form ?? 'plain');
  if (mapMethods.length > 0) {
    // A batch of items keeps a class row per item ([items, classes]); map-graph slices each item's.
    const classRow = needsClass
      ? mapBuilder.reshape(firstRow(mapBuilder, classSeed), [items > 1 ? items : 1, scoreShape.at(-1) ?? 1])
      : null;
    const constants = needsClass ? ConstantValues.of(analysis) : null;
    for (const t of new Set(hooked)) {
      const grid = analysis.gridOf(t);
      if (!grid) continue;
      const head = constants ? camHead(analysis.index, constants, t, score, grid) : null;
      const made = appendMaps(
        mapBuilder,
        {
          activation: t,
          gradient: gradients?.get(t) ?? null,
          grid,
          classRow,
          head: head?.ok ? { tensor: head.tensor, classesFirst: head.classesFirst } : { reason: head?.reason ?? '' },
        },
        mapMethods,
        {
          eigenSmooth: options.eigenSmooth ?? false,
          ...(batched ? { flipped: options.flipped } : {}),
          ...(items > 1 ? { items } : {}),
        },
      );
      for (const m of elsewhere)
        made.unavailable.set(
          m,
          `${CAM_METHOD_REGISTRY[m].label} differentiates another score: it needs a hooked run of its own.`,
        );
      maps.set(t, made.maps);
      termScales.set(t, made.termScales);
      unavailable.set(t, made.unavailable);
      for (const name of [...made.maps.values(), ...made.termScales.values()])
        outputs.push(create(ValueInfoProtoSchema, { name }));
    }
  }
  const seeded = gradients !== null || needsClass;
  const extraNodes = [...(seeded ? seedBuilder.nodes : []), ...backwardNodes, ...mapBuilder.nodes];
  const extraInitializers = [...(seeded ? seedBuilder.initializers : []), ...backwardInitializers, ...mapBuilder.initializers];
  const extraInputs = seeded ? [floatValue(SEED_INPUT, scoreShape), floatValue(TOP_WEIGHT_INPUT, [])] : [];
  const rewritten: ModelProto = {
    ...model,
    graph: {
      ...graph,
      // The index's order is topological even when the file's was not.
      node: [...analysis.index.nodes, ...extraNodes],
      initializer: [...graph.initializer, ...extraInitializers],
      input: [
        ...graph.input.map((v) => (v.name === inputName ? pinShape(v, analysis.inputShapes.get(inputName) ?? null) : v)),
        ...extraInputs,
      ],
      output: outputs,
    },
  };
  return {
    bytes: encodeModel(rewritten),
    inputName,
    score,
    scoreShape,
    gradients,
    seeded,
    gradientError,
    maps,
    termScales,
    unavailable,
  };
}
