/** CAM requests: the run's key, the answer from the run history or a computed one, the image as the model saw it. */
import sharp from 'sharp';
import type { CallContext, CamRequestMessage, CamResponse, ImageData, RgbImage } from '../../../src-shared/api';
import { toStoredSource, type CamRunParams, type RunId } from '../../../src-shared/runs';
import { CamRunner } from '../cam/cam-runner';
import { toInputTensor, type InputTensor } from '../input-tensor';
import { encodeRgbPng } from '../image/png-encode';
import { inputContentHash, modelContentHash, runKey } from '../runs/content-hash';
import { decodeCam, encodeCam, type StoredCam } from '../runs/result-codec';
import { keptNote, type Codec, type RunInput } from '../runs/run-cache';
import { mergeCam, narrowCam } from '../runs/cam-parts';
import { EngineError } from '../errors';
import { topClasses } from './predictions';
import type { EngineServices } from './shared';

export const CAM_CODEC: Codec<StoredCam> = { encode: encodeCam, decode: decodeCam, merge: mergeCam };

export class CamRequests {
  readonly runner: CamRunner;

  constructor(private readonly deps: EngineServices) {
    const { sessions, graphs } = deps;
    this.runner = new CamRunner({
      analysis: (model, inputShape) => graphs.analysis(model, inputShape),
      session: (key, bytes, model) =>
        key === `${model.id}|plain` ? sessions.plain(model) : sessions.rewritten(key, bytes, model),
      graphForm: () => sessions.graphForm(),
    });
  }

  /** CAM maps for one input: one hooked run for every layer and in-graph method, plus any perturbation methods. */
  readonly camTensor: CamRunner['run'] = (...args) => this.runner.run(...args);

  async computeCam(req: CamRequestMessage, ctx?: CallContext): Promise<CamResponse> {
    const { models, images, runs, jobs } = this.deps;
    const model = models.get(req.modelId);
    const image = await images.resolve(req.image);
    const params: CamRunParams = {
      image: toStoredSource(req.image),
      layers: req.layers && req.layers.length > 0 ? req.layers : ['stages'],
      methods: [...req.methods].sort(),
      classIndex: req.classIndex,
      counterfactual: req.counterfactual,
      ...(req.eigenSmooth ? { eigenSmooth: true as const } : {}),
      ...(req.augSmooth ? { augSmooth: true as const } : {}),
    };
    const input: RunInput = {
      hash: inputContentHash(image.bytes, model.summary.preprocess),
      name: image.name,
      source: params.image,
      bytes: image.bytes,
    };
    const { image: _source, ...settings } = params;
    const key = runKey('cam', {
      model: await modelContentHash(model),
      input: input.hash,
      ...settings,
      // Labels name the class in the answer. "stages" is the detected stages, a function of the model bytes.
      labels: model.summary.labels,
    });
    if (req.addToRun !== undefined) this.checkSameQuestion(req.addToRun, params);
    const spec = {
      kind: 'cam' as const,
      key,
      model,
      params,
      inputs: [input],
      // A slow pane's maps belong to the run of the action whose fast maps the studio shows.
      join:
        req.addToRun === undefined
          ? undefined
          : { run: req.addToRun, params: { layers: params.layers, methods: params.methods } },
      narrow: (stored: StoredCam) => narrowCam(stored, params),
    };
    const answer = await runs.getOrCompute(spec, CAM_CODEC, () =>
      jobs.run(req.jobId, async (signal) => {
        const tensor = await toInputTensor(model, image.bytes, image.name);
        const result = await this.camTensor(
          model,
          tensor,
          {
            layers: params.layers,
            methods: req.methods,
            classIndex: req.classIndex,
            counterfactual: req.counterfactual,
            eigenSmooth: req.eigenSmooth ?? false,
            augSmooth: req.augSmooth ?? false,
          },
          (p) => ctx?.progress({ jobId: req.jobId, ...p }),
          signal,
        );
        return {
          value: { result, modelView: modelViewPixels(tensor) },
          cancelled: false,
          provider: result.provider,
          // The history names the run by the class explained, which "top" only says once computed.
          params: { ...params, explained: { classIndex: result.classIndex, label: result.label } },
        };
      }),
    );
    return {
      ...(await upgradeStoredCam(answer.value)),
      cached: answer.cached,
      run: answer.run,
      key,
      top: topClasses(model, answer.value.result.logits, 5),
      ...keptNote(answer),
    };
  }

  /** Maps added to a run must explain the same class of the same image (model and input are checked on adding). */
  private checkSameQuestion(run: RunId, params: CamRunParams): void {
    const store = this.deps.runs.store;
    let summary;
    try {
      summary = store?.summary(run);
    } catch {
      return; // a run deleted meanwhile: the answer becomes a run of its own
    }
    if (!summary) return;
    const same =
      summary.kind === 'cam' &&
      summary.params.classIndex === params.classIndex &&
      summary.params.counterfactual === params.counterfactual;
    if (!same) throw new EngineError('invalid-request', `Run ${run} explains another class: maps cannot be added to it.`);
  }
}

/**
 * The image as the model saw it (after resizing/cropping), so overlays line up exactly: the pixels the input
 * tensor was made from, as they are (no encoding: the renderer draws them, and the run stores them).
 */
export function modelViewPixels(input: InputTensor): RgbImage | null {
  const view = input.rgb;
  return view ? { rgb: view.data, width: view.width, height: view.height } : null;
}

/**
 * A CAM answer stored before model views were raw pixels held its view as a PNG ({mime, bytes}); decoded
 * here so that every answer has one shape, however old its run.
 */
export async function upgradeStoredCam(stored: StoredCam): Promise<StoredCam> {
  const view = stored.modelView as unknown as RgbImage | ImageData | null;
  if (view === null || !('mime' in view)) return stored;
  if (view.bytes.byteLength === 0) return { ...stored, modelView: null };
  const { data, info } = await sharp(view.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    ...stored,
    modelView: { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height },
  };
}

/** The model's view as a PNG, for what embeds or saves it as a file (the data set's top losses). */
export async function modelViewImage(input: InputTensor): Promise<ImageData> {
  const view = input.rgb ?? null;
  if (!view) return { mime: 'image/png', bytes: new Uint8Array(0), width: input.shape[3] ?? 0, height: input.shape[2] ?? 0 };
  // Written directly (image/png-encode.ts): one per top loss, where sharp's pipeline cost twice the map on the demo model.
  return { mime: 'image/png', bytes: encodeRgbPng(view.data, view.width, view.height), width: view.width, height: view.height };
}
