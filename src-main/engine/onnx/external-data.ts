/**
 * External data: initializers whose bytes live in files beside the model. Locations are resolved relative
 * to the model's folder; a location that escapes it (absolute, or through "..", or a symlink pointing out)
 * is refused, because a model file must not make LayerLens read arbitrary files.
 */
import { realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { TensorProto } from 'onnx-buf';
import { EngineError, describeError } from '../errors';
import { openRegularFile } from '../regular-file';
import type { ModelProto } from './decode-model';

const EXTERNAL = 1;
/** A protobuf message cannot exceed 2 GiB, so inlined weights must stay below it. */
const MAX_INLINE_BYTES = 2 ** 31 - 64 * 1024 * 1024;

export interface ExternalRef {
  tensor: string;
  location: string;
  offset: number;
  length: number | null;
}

export function externalRefs(model: ModelProto): ExternalRef[] {
  const refs: ExternalRef[] = [];
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== EXTERNAL) continue;
    const entry = (key: string): string | undefined => t.externalData.find((e) => e.key === key)?.value;
    const offset = Number(entry('offset') ?? 0);
    const lengthText = entry('length');
    refs.push({
      tensor: t.name,
      location: entry('location') ?? '',
      offset,
      length: lengthText === undefined ? null : Number(lengthText),
    });
  }
  return refs;
}

/** Checks every reference without reading data: names the first tensor whose location is unsafe or missing. */
export async function resolveExternalPaths(
  model: ModelProto,
  modelDir: string | null,
  displayName: string,
): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  const refs = externalRefs(model);
  if (refs.length === 0) return resolved;
  if (modelDir === null) {
    throw new EngineError(
      'unsupported',
      `${displayName} keeps its weights in external data files: open it from its folder, not as uploaded bytes.`,
    );
  }
  const root = await realpath(modelDir);
  for (const ref of refs) {
    const loc = ref.location;
    if (!loc || path.isAbsolute(loc) || /^[a-zA-Z]:[\\/]/.test(loc) || loc.split(/[\\/]/).includes('..')) {
      throw new EngineError(
        'bad-model',
        `${displayName} refers to external data "${loc}" for tensor "${ref.tensor}" outside the model's folder; LayerLens only reads data files inside ${modelDir}.`,
      );
    }
    let file: string;
    try {
      file = await realpath(path.join(root, loc));
    } catch (error) {
      throw new EngineError(
        'bad-model',
        `${displayName}: the external data file "${loc}" (tensor "${ref.tensor}") cannot be opened: ${describeError(error)}.`,
      );
    }
    if (!file.startsWith(root + path.sep)) {
      throw new EngineError(
        'bad-model',
        `${displayName}: external data "${loc}" resolves outside the model's folder (through a link); refused.`,
      );
    }
    if (
      !Number.isSafeInteger(ref.offset) ||
      ref.offset < 0 ||
      (ref.length !== null && (!Number.isSafeInteger(ref.length) || ref.length < 0))
    ) {
      throw new EngineError('bad-model', `${displayName}: tensor "${ref.tensor}" has an invalid external data offset or length.`);
    }
    const info = await stat(file);
    if (!info.isFile()) {
      throw new EngineError(
        'bad-model',
        `${displayName}: the external data "${loc}" (tensor "${ref.tensor}") is ${info.isDirectory() ? 'a folder' : 'not a regular file'}; external data must be a file beside the model.`,
      );
    }
    const size = info.size;
    if (ref.offset + (ref.length ?? 0) > size) {
      throw new EngineError(
        'bad-model',
        `${displayName}: tensor "${ref.tensor}" needs bytes ${ref.offset}–${ref.offset + (ref.length ?? 0)} of "${loc}", which has only ${size}: the data file is truncated.`,
      );
    }
    resolved.set(ref.tensor, file);
  }
  return resolved;
}

/** A copy of the model with all external data read into the initializers, so it can run from memory. */
export async function inlineExternalData(model: ModelProto, modelDir: string | null, displayName: string): Promise<ModelProto> {
  const files = await resolveExternalPaths(model, modelDir, displayName);
  const graph = model.graph;
  if (files.size === 0 || !graph) return model;
  let total = 0;
  const handles = new Map<string, FileHandle>();
  try {
    const initializer: TensorProto[] = [];
    for (const t of graph.initializer) {
      const file = files.get(t.name);
      if (!file || t.dataLocation !== EXTERNAL) {
        initializer.push(t);
        continue;
      }
      const ref = externalRefs({ ...model, graph: { ...graph, initializer: [t] } })[0] as ExternalRef;
      let handle = handles.get(file);
      if (!handle) {
        // Checked again on the handle: the file may have been swapped for a pipe since resolveExternalPaths.
        ({ handle } = await openRegularFile(file, {
          what: 'external data',
          maxBytes: Number.MAX_SAFE_INTEGER,
          code: 'bad-model',
          displayName: `${displayName}'s external data "${ref.location}"`,
        }));
        handles.set(file, handle);
      }
      const size = (await handle.stat()).size;
      const length = ref.length ?? size - ref.offset;
      if (ref.offset + length > size) {
        throw new EngineError(
          'bad-model',
          `${displayName}: tensor "${t.name}" needs bytes ${ref.offset}–${ref.offset + length} of ${ref.location}, which has only ${size}; the file is truncated.`,
        );
      }
      total += length;
      if (total > MAX_INLINE_BYTES) {
        throw new EngineError(
          'unsupported',
          `${displayName} has more than 2 GB of weights; LayerLens cannot rewrite models that large yet.`,
        );
      }
      const rawData = new Uint8Array(length);
      await handle.read(rawData, 0, length, ref.offset);
      initializer.push({ ...t, rawData, dataLocation: 0, externalData: [] });
    }
    return { ...model, graph: { ...graph, initializer } };
  } finally {
    for (const h of handles.values()) await h.close();
  }
}
