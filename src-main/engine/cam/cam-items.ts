/**
 * Several images' maps for several classes each, in one hooked run: the images run as one batch up to the
 * chosen layer, where the graph forks each into `perImage` items (fork-graph.ts), one per class explained;
 * each item's backward pass and in-graph maps are its own (HookOptions.items). A wrong top loss's maps for
 * its predicted and its actual class then cost about one forward pass, not two runs. The results are the
 * CamResults CamRunner.run gives for each (image, class) alone.
 *
 * Only what this path computes exactly as a single run does is taken here: in-graph methods of the class
 * score at one spatial layer, without the smoothing options. Anything else — and a model whose graph does
 * not keep the items apart (a batch fixed at 1, a Reshape folding the batch into another axis), fails
 * batched, or refuses the backward pass — answers null, and the caller runs single CAM runs.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ModelId, TensorName } from '../../../src-shared/api';
import type { CamMethod, CamResult, LayerMaps } from '../../../src-shared/cam';
import { GRADIENT_METHODS } from '../../../src-shared/cam';
import { checkFiniteScores } from '../classify';
import { analyzeGraph, type GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { HookOptions } from '../hooks/hooked-model';
import { seedFeeds } from '../hooks/seed-feeds';
import type { HookedSessions } from '../hooks/hooked-sessions';
import type { InputTensor } from '../input-tensor';
import { LruCache } from '../lru-cache';
import type { OpenModel } from '../model-registry';
import type { CamDeps } from './cam-runner';
import { cancellationNote } from './cancellation';
import { forkMismatch, forkModel, forkedName } from './fork-graph';
import { IN_GRAPH_METHODS, scoreTargetOf } from './methods';
import { throwIfCancelled } from './perturbation';

/** One image and the classes to explain for it (at most `perImage`). */
export interface ImageClasses {
  input: InputTensor;
  classes: number[];
}

export interface CamItemsRequest {
  layer: string;
  methods: CamMethod[];
  /** Items per image in the forked graph (the graph's shape); images with fewer classes repeat their first. */
  perImage: number;
}

/** A forked model ready to hook, or why this model cannot be forked there. */
type Fork = { model: OpenModel; analysis: GraphAnalysis } | { refused: string };

export class CamItemsRunner {
  /** Forked models per (model, layer, images, items): few shapes are ever asked for. */
  private readonly forks = new LruCache<string, Promise<Fork>>(4);

  constructor(
    private readonly deps: CamDeps,
    private readonly hooked: HookedSessions,
  ) {}

  /** Whether `methods` are all computed by this path (in-graph, the class score). */
  static handles(methods: readonly CamMethod[]): boolean {
    return methods.length > 0 && methods.every((m) => IN_GRAPH_METHODS.includes(m) && scoreTargetOf(m) === 'class');
  }

  /** For each image, a CamResult per class asked (in order), or null when this path does not apply. */
  async run(model: OpenModel, images: ImageClasses[], req: CamItemsRequest, signal?: AbortSignal): Promise<CamResult[][] | null> {
    const started = performance.now();
    const first = images[0]?.input;
    if (!first || !CamItemsRunner.handles(req.methods)) return null;
    // A fork into one item per image would change no shape, so the check below could not see a mixing graph.
    if (req.perImage < 2 || images.some((i) => i.classes.length === 0 || i.classes.length > req.perImage)) return null;
    if (images.some((i) => i.input.shape.join() !== first.shape.join() || i.input.name !== first.name)) return null;
    const single = await this.deps.analysis(model, first.shape);
    const [layer] = resolveLayers(single, [req.layer], model.summary.name);
    const grid = layer ? single.gridOf(layer.tensor) : null;
    if (!layer || !grid) return null;

    const count = images.length;
    const items = count * req.perImage;
    const batchShape = [count, ...first.shape.slice(1)];
    const fork = await this.fork(model, single, layer.tensor, grid.batchAxis, first.shape, count, req.perImage);
    if ('refused' in fork) return null;
    const tensor = forkedName(layer.tensor);
    // The forked graph's shapes, with one item's grid at the hooked tensor (as aug-smooth's batch has).
    const analysis: GraphAnalysis = { ...fork.analysis, gridOf: (t) => (t === tensor ? grid : single.gridOf(t)) };
    const options: HookOptions = { maps: [...req.methods].sort(), exposeActivations: false, exposeGradients: false, items };
    const gradients = req.methods.some((m) => GRADIENT_METHODS.includes(m));
    let hooked: Awaited<ReturnType<HookedSessions['get']>>;
    try {
      hooked = await this.hooked.get(fork.model, analysis, [tensor], gradients, options, batchShape);
    } catch {
      // A forked graph that cannot be written or loaded: the single runs answer, or say why they cannot.
      return null;
    }
    const { meta, pooled } = hooked;
    const mapNames = req.methods.map((m) => meta.maps.get(tensor)?.get(m));
    // A method without its map (no head for CAM, a refused backward pass): the single runs say why.
    if (meta.gradientError || !meta.seeded || mapNames.some((n) => n === undefined)) return null;

    const classes = meta.scoreShape.at(-1) ?? 0;
    // Item j·perImage + s explains image j's class s (an image with fewer classes repeats its first).
    const rowClasses = images.flatMap((image) =>
      Array.from({ length: req.perImage }, (_, s) => image.classes[s] ?? (image.classes[0] as number)),
    );
    const seeds = seedFeeds([items, classes], rowClasses);
    const data = new Float32Array(first.data.length * count);
    images.forEach((image, j) => data.set(image.input.data, j * first.data.length));
    throwIfCancelled(signal);
    const hookedStart = performance.now();
    let outputs: ort.InferenceSession.ReturnType;
    try {
      outputs = await pooled.session.run({
        [meta.inputName]: new ort.Tensor('float32', data, batchShape),
        ...seeds,
      });
    } catch {
      // It ran batched in the probe, so this is a limit of the batch (memory): single runs still answer.
      return null;
    }
    const hookedRunMs = performance.now() - hookedStart;
    const z = grid.height * grid.width;
    const scores = outputs[meta.score]?.data as Float32Array;
    const asked = images.reduce((n, i) => n + i.classes.length, 0);
    const share = (ms: number): number => ms / asked;
    const results = images.map((image, j) =>
      image.classes.map((classIndex, s): CamResult => {
        const item = j * req.perImage + s;
        const logits = scores.slice(item * classes, (item + 1) * classes);
        checkFiniteScores(logits, model.summary.name);
        const entry: LayerMaps = {
          label: layer.label,
          tensor: layer.tensor,
          module: layer.module,
          shape: [grid.channels, grid.height, grid.width],
          maps: {},
          unavailable: {},
        };
        for (const [k, method] of req.methods.entries()) {
          const map = (outputs[mapNames[k] as TensorName]?.data as Float32Array).slice(item * z, (item + 1) * z);
          entry.maps[method] = { width: grid.width, height: grid.height, data: map };
          const scaleName = meta.termScales.get(tensor)?.get(method);
          const note = scaleName ? cancellationNote(map, (outputs[scaleName]?.data as Float32Array)[item] as number) : null;
          if (note) (entry.notes ??= {})[method] = note;
        }
        return {
          classIndex,
          label: model.summary.labels?.[classIndex] ?? `class ${classIndex}`,
          counterfactual: false,
          logits,
          provider: pooled.provider,
          inputShape: image.input.shape,
          layers: [entry],
          timings: { totalMs: share(performance.now() - started), hookedRunMs: share(hookedRunMs), perturbationMs: 0 },
        };
      }),
    );
    for (const t of Object.values(outputs)) t.dispose();
    return results;
  }

  /**
   * `model` forked at `tensor` into `perImage` items per image for a batch of `count`, with the analysis of
   * the forked graph, once per shape; refused (and remembered) when its graph does not keep items apart.
   */
  private fork(
    model: OpenModel,
    single: GraphAnalysis,
    tensor: TensorName,
    batchAxis: number,
    shape: number[],
    count: number,
    perImage: number,
  ): Promise<Fork> {
    const key = JSON.stringify([model.id, tensor, shape, count, perImage]);
    const known = this.forks.get(key);
    if (known) return known;
    const made = (async (): Promise<Fork> => {
      const batchShape = [count, ...shape.slice(1)];
      const index = Array.from({ length: count * perImage }, (_, i) => Math.floor(i / perImage));
      const forked: OpenModel = {
        ...model,
        id: `${model.id}/fork/${tensor}/${count}x${perImage}` as ModelId,
        proto: forkModel(single.runnable, tensor, batchAxis, index),
      };
      try {
        // Analysed here, not through the engine's cache of analyses: this one is kept with the fork.
        const analysis = await analyzeGraph(forked, new Map([[[...single.index.inputs][0] as TensorName, batchShape]]));
        const mismatch = forkMismatch(analysis, single, count, count * perImage);
        return mismatch ? { refused: mismatch } : { model: forked, analysis };
      } catch (error) {
        return { refused: error instanceof Error ? error.message : String(error) };
      }
    })();
    this.forks.set(key, made);
    return made;
  }
}
