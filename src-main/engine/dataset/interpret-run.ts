/**
 * An interpretation as a run of the history: the set is read and its labels matched first (a set that
 * cannot be scored fails before any work), every image is content-addressed, and the answer comes from
 * the run database when the same model, images, labels and settings were interpreted before.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { CallContext, ImageSource, ModelId } from '../../../src-shared/api';
import type { Interpretation, InterpretRequestMessage, InterpretResponse, InterpretRunParams } from '../../../src-shared/dataset';
import { decodeFrame, encodeFrame } from '../../../src-shared/wire-codec';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { OpenModel } from '../model-registry';
import { inputContentHash, modelContentHash, runKey } from '../runs/content-hash';
import { keptNote, type Codec, type RunCache, type RunInput } from '../runs/run-cache';
import { ClassMatcher } from './class-matcher';
import { interpretDataset, type InterpretDeps } from './interpret';
import { readLabelledImages, type LabelledFile } from './labelled-images';

export const INTERPRET_CODEC: Codec<Interpretation> = {
  encode: (value) => encodeFrame(value),
  decode: (bytes) => decodeFrame(bytes) as Interpretation,
};

/** What the engine lends an interpretation run. */
export interface InterpretHost extends InterpretDeps {
  model(id: ModelId): OpenModel;
  runs: RunCache;
  readBytes(source: ImageSource): Promise<Uint8Array>;
  /** Runs `work` as a cancellable job under `jobId`. */
  job<T>(jobId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  analysisAt(model: OpenModel): Promise<GraphAnalysis>;
}

export async function computeInterpretation(
  host: InterpretHost,
  req: InterpretRequestMessage,
  ctx?: CallContext,
): Promise<InterpretResponse> {
  const model = host.model(req.modelId);
  const classDim = model.summary.outputs[0]?.shape.at(-1);
  const matcher = new ClassMatcher(model.summary.labels, typeof classDim === 'number' && classDim > 0 ? classDim : null);
  const dataset = path.resolve(req.dataset);
  const set = await readLabelledImages(dataset, matcher);
  if (set.files.length === 0) {
    throw new EngineError(
      'bad-input',
      `None of the ${set.missing.length} files ${dataset} names exists (first: ${set.missing[0]?.path}).`,
    );
  }
  // A mistyped layer fails now, not after the prediction pass.
  if (req.layer !== null) resolveLayers(await host.analysisAt(model), [req.layer], model.summary.name);
  const progress = (layer: string, done: number, total: number): void =>
    ctx?.progress({ jobId: req.jobId, layer, method: 'interpret', done, total });
  const inputs = await contentAddresses(host, model, set.files, (done, total) => progress('reading', done, total));
  const params: InterpretRunParams = {
    dataset,
    topLosses: req.topLosses,
    layer: req.layer,
    methods: [...req.methods].sort(),
    ...(req.classMaps ? { classMaps: true } : {}),
    ...(req.classStats ? { classStats: true } : {}),
  };
  const key = runKey('interpret', {
    model: await modelContentHash(model),
    inputs: inputs.map((i) => i.hash),
    classes: set.files.map((f) => f.actual),
    missing: set.missing.map((m) => m.path),
    topLosses: params.topLosses,
    layer: params.layer,
    methods: params.methods,
    // Only when asked: the runs stored before these options existed keep their keys.
    ...(req.classMaps ? { classMaps: true } : {}),
    ...(req.classStats ? { classStats: true } : {}),
    labels: model.summary.labels,
  });
  const answer = await host.runs.getOrCompute({ kind: 'interpret', key, model, params, inputs }, INTERPRET_CODEC, () =>
    host.job(req.jobId, async (signal) => {
      const value = await interpretDataset(
        host,
        model,
        dataset,
        set,
        {
          topLosses: req.topLosses,
          layer: req.layer,
          methods: params.methods,
          classMaps: req.classMaps === true,
          classStats: req.classStats === true,
        },
        (phase, done, total) => progress(phase, done, total),
        signal,
      );
      return { value, cancelled: value.cancelled, provider: value.provider };
    }),
  );
  return { ...answer.value, cached: answer.cached, run: answer.run, ...keptNote(answer) };
}

/** Each image's content address; an unreadable one gets one from its path (the run skips it, saying why). */
async function contentAddresses(
  host: InterpretHost,
  model: OpenModel,
  files: LabelledFile[],
  onProgress: (done: number, total: number) => void,
): Promise<RunInput[]> {
  const inputs: RunInput[] = [];
  for (const [i, file] of files.entries()) {
    if (i % 100 === 0 && i > 0) onProgress(i, files.length);
    const source = { kind: 'path' as const, path: file.path };
    try {
      const bytes = await host.readBytes(source);
      inputs.push({
        hash: inputContentHash(bytes, model.summary.preprocess),
        name: path.basename(file.path),
        source,
        bytes: i === 0 ? bytes : null,
      });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      const hash = createHash('sha256').update(`unreadable\u0000${file.path}`).digest('hex');
      inputs.push({ hash, name: path.basename(file.path), source, bytes: null });
    }
  }
  return inputs;
}
