/**
 * The engine's "evaluate" call: resolves the images and their boxes, runs the trust job as a cancellable
 * job with progress, and keeps it in the run history (the same question is answered from the database).
 */
import type { GraphForm } from '../hooks/graph-builder';
import type { CallContext, ImageSource } from '../../../src-shared/api';
import type { CamResult } from '../../../src-shared/cam';
import { toStoredSource, type RunId } from '../../../src-shared/runs';
import type { Box, TrustRequestMessage, TrustResponse, TrustResult, TrustRunParams } from '../../../src-shared/trust';
import type { CamRequest } from '../cam/cam-runner';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { imageSize } from '../image/image-to-tensor';
import type { PooledSession } from '../inference/session-pool';
import { toInputTensor, type InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { isNpy } from '../npy';
import { inputContentHash, modelContentHash, runKey } from '../runs/content-hash';
import { decodeFrame, encodeFrame } from '../../../src-shared/wire-codec';
import { keptNote, type Codec, type RunCache, type RunInput } from '../runs/run-cache';
import { boxToInput } from './box-geometry';
import { runTrust, type TrustImage } from './trust-runner';

export const TRUST_CODEC: Codec<TrustResult> = {
  encode: (value) => encodeFrame(value),
  decode: (bytes) => decodeFrame(bytes) as TrustResult,
};

/** What the service needs of the engine. */
export interface TrustHost {
  model(id: string): OpenModel;
  resolveImage(source: ImageSource): Promise<{ bytes: Uint8Array; name: string }>;
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  cam(model: OpenModel, input: InputTensor, req: CamRequest, signal?: AbortSignal): Promise<CamResult>;
  plainSession(model: OpenModel): Promise<PooledSession>;
  outputIsProbability(model: OpenModel): boolean;
  session(key: string, bytes: () => Uint8Array, model: OpenModel): Promise<PooledSession>;
  graphForm(): GraphForm;
  runs: RunCache;
  withJob<T>(jobId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function trustRunParams(req: TrustRequestMessage): TrustRunParams {
  return {
    images: req.images.map(toStoredSource),
    boxes: req.boxes,
    layers: req.layers.length > 0 ? req.layers : ['stages'],
    methods: [...req.methods].sort(),
    classIndex: req.classIndex,
    settings: req.settings,
    faithfulness: req.faithfulness,
    sanity: req.sanity,
  };
}

export async function evaluateTrust(host: TrustHost, req: TrustRequestMessage, ctx?: CallContext): Promise<TrustResponse> {
  const model = host.model(req.modelId);
  if (!req.faithfulness && !req.sanity)
    throw new EngineError('bad-input', 'Ask for the faithfulness metrics, the sanity check, or both.');
  if (req.boxes && req.boxes.length !== req.images.length)
    throw new EngineError(
      'bad-input',
      `${req.boxes.length} boxes for ${req.images.length} images: give one (or null) per image.`,
    );
  const params = trustRunParams(req);
  const resolved = await Promise.all(req.images.map((s) => host.resolveImage(s)));
  const inputs: RunInput[] = resolved.map((image, i) => ({
    hash: inputContentHash(image.bytes, model.summary.preprocess),
    name: image.name,
    source: params.images[i] as object,
    bytes: i === 0 ? image.bytes : null,
  }));
  const { images: _sources, ...settings } = params;
  const key = runKey('trust', {
    model: await modelContentHash(model),
    inputs: inputs.map((i) => i.hash),
    ...settings,
    labels: model.summary.labels,
  });
  const answer = await host.runs.getOrCompute({ kind: 'trust', key, model, params, inputs }, TRUST_CODEC, () =>
    host.withJob(req.jobId, async (signal) => {
      const images: TrustImage[] = [];
      for (const [i, image] of resolved.entries()) {
        const input = await toInputTensor(model, image.bytes, image.name);
        images.push({ name: image.name, input, box: await inputBox(model, image.bytes, image.name, req.boxes?.[i] ?? null) });
      }
      const result = await runTrust(
        {
          analysis: (m, shape) => host.analysis(m, shape),
          cam: (m, input, camReq, s) => host.cam(m, input, camReq, s),
          plainSession: (m) => host.plainSession(m),
          outputIsProbability: (m) => host.outputIsProbability(m),
          session: (k, bytes, m) => host.session(k, bytes, m),
          graphForm: () => host.graphForm(),
        },
        {
          model,
          images,
          layers: params.layers,
          methods: req.methods,
          classIndex: req.classIndex,
          settings: req.settings,
          faithfulness: req.faithfulness,
          sanity: req.sanity,
        },
        ({ phase, done, total }) => ctx?.progress({ jobId: req.jobId, layer: phase, method: 'trust', done, total }),
        signal,
      );
      return { value: result, cancelled: false, provider: result.provider };
    }),
  );
  return { result: answer.value, cached: answer.cached, run: answer.run as RunId | null, ...keptNote(answer) };
}

/** The box in the model's input pixels (a .npy input is taken as already in them). */
async function inputBox(model: OpenModel, bytes: Uint8Array, name: string, box: Box | null): Promise<Box | null> {
  if (!box) return null;
  if (!box.every(Number.isFinite) || box[2] <= box[0] || box[3] <= box[1])
    throw new EngineError(
      'bad-input',
      `The box of ${name}, [${box.join(', ')}], is not [x0, y0, x1, y1] with x0 < x1 and y0 < y1.`,
    );
  if (isNpy(bytes)) return box;
  const size = await imageSize(bytes, name);
  return boxToInput(box, size, model.summary.preprocess);
}
