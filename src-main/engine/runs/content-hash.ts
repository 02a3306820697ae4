/**
 * Content addresses: a model is its bytes and external data, an input its bytes and the preprocessing that
 * turns it into a tensor, a run everything that determines its answer. Paths and names never enter a hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Preprocess } from '../../../src-shared/api';
import { externalRefs, resolveExternalPaths } from '../onnx/external-data';
import type { OpenModel } from '../model-registry';
import { ENGINE_VERSION, RESULTS_REVISION } from '../version';

const modelHashes = new WeakMap<OpenModel, Promise<string>>();

/** SHA-256 of the model file, followed by its external data files in the order the graph names them. */
export function modelContentHash(model: OpenModel): Promise<string> {
  let pending = modelHashes.get(model);
  if (!pending) {
    pending = hashModel(model);
    modelHashes.set(model, pending);
  }
  return pending;
}

async function hashModel(model: OpenModel): Promise<string> {
  // Without external data this is the file's digest, computed once already when the model was opened.
  if (externalRefs(model.proto).length === 0 || !model.path) return model.sha256;
  const hash = createHash('sha256').update(model.bytes);
  const files = await resolveExternalPaths(model.proto, path.dirname(model.path), model.summary.name);
  for (const file of new Set(files.values())) {
    hash.update(`\u0000${path.basename(file)}\u0000`);
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

export function inputContentHash(bytes: Uint8Array, preprocess: Preprocess): string {
  // Where the preprocessing came from does not change the tensor.
  const { source: _source, ...settings } = preprocess;
  return createHash('sha256').update(bytes).update(JSON.stringify(settings)).digest('hex');
}

/** Key of a run: its kind and parameters, canonically serialized, with the engine version. */
export function runKey(kind: string, parts: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify([kind, ENGINE_VERSION, RESULTS_REVISION, canonical(parts)]))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
