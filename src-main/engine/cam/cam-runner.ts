/**
 * The CAM pipeline: one hooked run (forward + backward when a method needs gradients) computes every
 * in-graph method's map of every requested layer; perturbation methods (ScoreCAM, AblationCAM) add batched
 * forward passes with progress and cancellation. Each method is dispatched on its kind (cam/methods/).
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import { CAM_METHOD_LABELS, GRADIENT_METHODS, type CamMethod, type CamResult, type LayerMaps } from '../../../src-shared/cam';
import { checkFiniteScores } from '../classify';
import { EngineError, describeError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor } from '../graph/feature-grid';
import { resolveLayers } from '../graph/layers';
import type { HookOptions } from '../hooks/hooked-model';
import { seedFeeds } from '../hooks/seed-feeds';
import { HookedSessions, type HookedMeta } from '../hooks/hooked-sessions';
import type { GraphForm } from '../hooks/graph-builder';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { CAM_METHOD_IMPLS, IN_GRAPH_METHODS, scoreTargetOf } from './methods';
import type { PerturbationJob, ScoreTarget } from './methods/method';
import { maskedScoreModel } from './masked-score-model';
import { tailModel } from './methods/ablationcam';
import { augmentedBatch } from './aug-smooth';
import { throwIfCancelled } from './perturbation';
import { cancellationNote } from './cancellation';
import { CamItemsRunner, type CamItemsRequest, type ImageClasses } from './cam-items';

export interface CamRequest {
  layers: string[];
  methods: CamMethod[];
  /** A class index, or "top" for the highest logit. */
  classIndex: number | 'top';
  counterfactual: boolean;
  /** pytorch-grad-cam's eigen_smooth: the methods that sum per-channel terms give those terms' first principal component. */
  eigenSmooth?: boolean;
  /** pytorch-grad-cam's aug_smooth: each map the mean over flips and intensity scalings of the input (aug-smooth.ts). */
  augSmooth?: boolean;
}

export interface CamProgress {
  (event: { layer: string; method: CamMethod; done: number; total: number }): void;
}

export interface CamDeps {
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  session(key: string, bytes: () => Uint8Array, model: OpenModel): Promise<PooledSession>;
  /** See HookOptions.form. */
  graphForm?(): GraphForm;
}

/** What a hooked run of one analysis needs, whether or not it computes gradients. */
interface HookedJob {
  model: OpenModel;
  analysis: GraphAnalysis;
  tensors: TensorName[];
  options: HookOptions;
  input: InputTensor;
  req: CamRequest;
  signal?: AbortSignal | undefined;
}

type HookedRun = { meta: HookedMeta; pooled: PooledSession; outputs: ort.InferenceSession.ReturnType };

export class CamRunner {
  private readonly hooked: HookedSessions;

  private readonly items: CamItemsRunner;

  constructor(private readonly deps: CamDeps) {
    this.hooked = new HookedSessions(deps.session, () => deps.graphForm?.() ?? 'plain');
    this.items = new CamItemsRunner(deps, this.hooked);
  }

  /** Several images' maps for several classes each in one forked, batched hooked run (cam-items.ts), or null. */
  runItems(model: OpenModel, images: ImageClasses[], req: CamItemsRequest, signal?: AbortSignal): Promise<CamResult[][] | null> {
    return this.items.run(model, images, req, signal);
  }

  /**
   * The hooked run, with its backward pass if `gradients`. A backward graph that loads but fails to run is
   * LayerLens's bug, as one that does not load: run again without gradients so the forward hooks and the
   * gradient-free methods still answer, and say why.
   */
  private async runWithFallback(
    job: HookedJob,
    gradients: boolean,
    model: OpenModel,
    tensors: TensorName[],
    input: InputTensor,
  ): Promise<HookedRun> {
    let run = await this.runHooked(job, gradients);
    if ('failure' in run && gradients) {
      const failure = run.failure;
      const forwardOnly = await this.runHooked(job, false);
      // Only a graph whose forward part runs proves the backward part at fault (not the input).
      if (!('failure' in forwardOnly)) {
        const reason = this.hooked.refuse(model, tensors, input.shape, failure);
        run = { ...forwardOnly, meta: { ...forwardOnly.meta, gradientError: reason } };
      }
    }
    if ('failure' in run) throw new EngineError('inference-failed', run.failure);
    return run;
  }

  /** One run of the hooked model, with or without its backward pass, or why onnxruntime failed it. */
  private async runHooked(
    job: HookedJob,
    gradients: boolean,
  ): Promise<{ meta: HookedMeta; pooled: PooledSession; outputs: ort.InferenceSession.ReturnType } | { failure: string }> {
    const { model, analysis, tensors, options, input, req, signal } = job;
    const sign = req.counterfactual ? -1 : 1;
    const { meta, pooled } = await this.hooked.get(model, analysis, tensors, gradients, options, input.shape);
    const feeds: Record<string, ort.Tensor> = { [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) };
    // Every item of an aug-smooth batch explains the same class.
    if (meta.seeded) Object.assign(feeds, seedFeeds(meta.scoreShape, req.classIndex, sign));
    throwIfCancelled(signal);
    try {
      return { meta, pooled, outputs: await pooled.session.run(feeds) };
    } catch (error) {
      return { failure: `Running ${model.summary.name} with hooks failed: ${describeError(error).split('\n')[0]}` };
    }
  }

  async run(
    model: OpenModel,
    input: InputTensor,
    req: CamRequest,
    onProgress?: CamProgress,
    signal?: AbortSignal,
  ): Promise<CamResult> {
    const started = performance.now();
    const analysis = await this.deps.analysis(model, input.shape);
    const layers = resolveLayers(analysis, req.layers.length > 0 ? req.layers : ['stages'], model.summary.name);
    const tensors = [...new Set(layers.map((l) => l.tensor))];
    // aug-smooth: one run of a batch of augmented inputs, built on that batch's shapes and this image's grids.
    const aug = req.augSmooth ? augmentedBatch(model, input, analysis.channelsLast) : null;
    const hookInput = aug ? aug.input : input;
    const hookAnalysis = aug ? { ...(await this.deps.analysis(model, aug.input.shape)), gridOf: analysis.gridOf } : analysis;
    // One hooked run per score differentiated (FinerCAM's is its own); the first also serves the perturbation methods.
    const targets = [...new Set(req.methods.map(scoreTargetOf))].sort((a, b) => (a === 'class' ? -1 : b === 'class' ? 1 : 0));
    const hookedStart = performance.now();
    const runs = new Map<ScoreTarget, HookedRun>();
    for (const target of targets) {
      const methods = req.methods.filter((m) => scoreTargetOf(m) === target);
      // Maps the graph computes itself; activations leave the run only for the perturbation methods.
      const options: HookOptions = {
        maps: methods.filter((m) => IN_GRAPH_METHODS.includes(m)).sort(),
        exposeActivations: !aug && methods.some((m) => !IN_GRAPH_METHODS.includes(m)),
        exposeGradients: false,
        ...(target === 'class' ? {} : { target }),
        ...(req.eigenSmooth ? { eigenSmooth: true } : {}),
        ...(aug ? { flipped: aug.flipped } : {}),
      };
      const job: HookedJob = { model, analysis: hookAnalysis, tensors, options, input: hookInput, req, signal };
      const gradients = methods.some((m) => GRADIENT_METHODS.includes(m));
      runs.set(target, await this.runWithFallback(job, gradients, model, tensors, hookInput));
    }
    const { meta, outputs, pooled } = runs.get(targets[0] as ScoreTarget) as HookedRun;
    const classes = meta.scoreShape.at(-1) ?? 0;
    const hookedRunMs = performance.now() - hookedStart;
    const logits = new Float32Array((outputs[meta.score]?.data as Float32Array).subarray(0, classes));
    checkFiniteScores(logits, model.summary.name);
    let classIndex = req.classIndex === 'top' ? 0 : req.classIndex;
    if (req.classIndex === 'top')
      for (let i = 1; i < classes; i++) if ((logits[i] as number) > (logits[classIndex] as number)) classIndex = i;
    if (classIndex >= classes)
      throw new EngineError('bad-input', `Class ${classIndex} does not exist: the model has ${classes} classes.`);

    let perturbationMs = 0;
    const results: LayerMaps[] = [];
    for (const layer of layers) {
      const grid = analysis.gridOf(layer.tensor);
      const entry: LayerMaps = {
        label: layer.label,
        tensor: layer.tensor,
        module: layer.module,
        shape: [0, 0, 0],
        maps: {},
        unavailable: {},
      };
      results.push(entry);
      if (!grid) {
        const shape = analysis.shapes.get(layer.tensor)?.shape ?? [];
        for (const m of req.methods)
          entry.unavailable[m] =
            `${layer.label} is not a spatial layer (shape [${shape.join(', ')}]): heatmaps need a grid of image positions — a [N, C, H, W] or [N, H, W, C] feature map, or transformer tokens [N, (extra tokens +) H·W, C].`;
        continue;
      }
      entry.shape = [grid.channels, grid.height, grid.width];
      const put = (m: CamMethod, data: Float32Array): void => {
        entry.maps[m] = { width: grid.width, height: grid.height, data };
      };
      let job: PerturbationJob | null = null;
      const perturbationJob = (): PerturbationJob => {
        const exposed = outputs[layer.tensor]?.data as Float32Array;
        const native = exposed.subarray(
          0,
          grid.shape.reduce((a, d) => a * d, 1),
        );
        const activation = toChannelMajor(grid, native);
        return {
          layer: { channels: grid.channels, height: grid.height, width: grid.width, activation, gradient: null },
          grid,
          native,
          tensor: layer.tensor,
          input: { name: meta.inputName, data: input.data, shape: input.shape, channelsLast: analysis.channelsLast },
          scoreName: meta.score,
          classIndex,
          classes,
          baseline: logits[classIndex] as number,
          maskedScore: () =>
            this.deps.session(
              `${model.id}|scorecam|${input.shape.join('x')}|${grid.height}x${grid.width}`,
              () =>
                maskedScoreModel(analysis, {
                  inputName: meta.inputName,
                  inputShape: input.shape,
                  channelsLast: analysis.channelsLast,
                  height: grid.height,
                  width: grid.width,
                  score: meta.score,
                }),
              model,
            ),
          tail: () =>
            this.deps.session(
              `${model.id}|tail|${input.shape.join('x')}|${layer.tensor}`,
              () => tailModel(analysis, layer.tensor, meta.score),
              model,
            ),
        };
      };
      for (const method of req.methods) {
        throwIfCancelled(signal);
        const impl = CAM_METHOD_IMPLS[method];
        if (impl.kind === 'in-graph') {
          const own = runs.get(scoreTargetOf(method)) as HookedRun;
          const name = own.meta.maps.get(layer.tensor)?.get(method);
          if (name) {
            const map = new Float32Array((own.outputs[name]?.data as Float32Array).subarray(0, grid.height * grid.width));
            put(method, map);
            const scaleName = own.meta.termScales.get(layer.tensor)?.get(method);
            const note = scaleName ? cancellationNote(map, (own.outputs[scaleName]?.data as Float32Array)[0] as number) : null;
            if (note) (entry.notes ??= {})[method] = note;
          } else
            entry.unavailable[method] =
              own.meta.unavailable.get(layer.tensor)?.get(method) ??
              own.meta.gradientError ??
              `${method} could not be computed for ${layer.label}.`;
          continue;
        }
        if (aug) {
          entry.unavailable[method] =
            `aug-smooth applies to the methods the hooked run computes: ${CAM_METHOD_LABELS[method]} would need its per-channel runs for each of the ${aug.flipped.length} inputs.`;
          continue;
        }
        const t0 = performance.now();
        const progress = (done: number, total: number): void => onProgress?.({ layer: layer.label, method, done, total });
        try {
          job ??= perturbationJob();
          const map = await impl.run(job, progress, signal);
          put(method, req.counterfactual ? map.map((x) => -x) : map);
        } catch (error) {
          if (error instanceof EngineError && error.code === 'cancelled') throw error;
          entry.unavailable[method] = describeError(error).split('\n')[0] ?? 'failed';
        }
        perturbationMs += performance.now() - t0;
      }
    }
    return {
      classIndex,
      label: model.summary.labels?.[classIndex] ?? `class ${classIndex}`,
      counterfactual: req.counterfactual,
      ...(req.eigenSmooth ? { eigenSmooth: true } : {}),
      ...(aug ? { augSmooth: true } : {}),
      logits,
      provider: pooled.provider,
      inputShape: input.shape,
      layers: results,
      timings: { totalMs: performance.now() - started, hookedRunMs, perturbationMs },
    };
  }
}
