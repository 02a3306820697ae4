/**
 * Opened models, identified by the hash of their bytes so that opening the same file twice is free.
 * Bounded: the least recently used model is forgotten (its sessions are evicted by the session pool).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Dim, ModelId, ModelSummary } from '../../src-shared/api';
import { EngineError } from './errors';
import { LruCache } from './lru-cache';
import { IMAGENET_LABELS, looksLikeImagenet } from './imagenet-labels';
import { labelsFromMetadata, METADATA_KEYS, preprocessFromMetadata } from './model-metadata';
import { buildGraphIndex } from './graph/graph-index';
import { decodeModel, type ModelProto } from './onnx/decode-model';
import { resolveExternalPaths } from './onnx/external-data';
import { readRegularFile } from './regular-file';
import { graphOutputs, metadataRecord, opsetImports, producerString, realInputs } from './onnx/model-summary';

/** Node cannot read a single file above 2 GiB into one buffer; such models keep their weights as external data. */
const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

export interface OpenModel {
  id: ModelId;
  /** SHA-256 of the file's bytes (hex); `id` is its first half. */
  sha256: string;
  summary: ModelSummary;
  proto: ModelProto;
  bytes: Uint8Array;
  path: string | null;
  /** Non-fatal problems found while opening (e.g. unusable preprocessing metadata). */
  warnings: string[];
  /** What the file itself says, to return to after the user's overrides. */
  originalPreprocess: ModelSummary['preprocess'];
  originalLabels: string[] | null;
  originalLabelSource: ModelSummary['labelSource'];
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const idOfDigest = (sha256: string): ModelId => sha256.slice(0, 32) as ModelId;

/** The id a model file gets when opened (its bytes' digest), without opening it. */
export async function modelIdOfFile(filePath: string): Promise<ModelId> {
  return idOfDigest(sha256Of(await readModelFile(filePath)));
}

/** `sha256`: the bytes' digest where the caller has it already (hashing a large model takes a while). */
export function describeModel(bytes: Uint8Array, name: string, filePath: string | null, sha256 = sha256Of(bytes)): OpenModel {
  const proto = decodeModel(bytes, name);
  const metadata = metadataRecord(proto);
  const inputs = realInputs(proto);
  const outputs = graphOutputs(proto);
  const { preprocess, warning } = preprocessFromMetadata(metadata, inputs[0]);
  const id = idOfDigest(sha256);
  const own = labelsFromMetadata(metadata, classCount(outputs[0]?.shape));
  const imagenet = !own && looksLikeImagenet(outputs);
  const summary: ModelSummary = {
    id,
    name,
    path: filePath,
    sizeBytes: bytes.byteLength,
    irVersion: Number(proto.irVersion),
    opsets: opsetImports(proto),
    producer: producerString(proto),
    inputs,
    outputs,
    nodeCount: proto.graph?.node.length ?? 0,
    labels: own ?? (imagenet ? [...IMAGENET_LABELS] : null),
    labelSource: own ? 'model' : imagenet ? 'imagenet' : null,
    preprocess,
    description: metadata[METADATA_KEYS.description] ?? (proto.docString || null),
    metadata,
  };
  return {
    id,
    sha256,
    summary,
    proto,
    bytes,
    path: filePath,
    warnings: warning ? [warning] : [],
    originalPreprocess: summary.preprocess,
    originalLabels: summary.labels,
    originalLabelSource: summary.labelSource,
  };
}

/** The number of classes a first output of [N, classes] (or [classes]) declares, when it is static. */
function classCount(shape: Dim[] | undefined): number | null {
  const last = shape?.[shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : null;
}

export function readModelFile(filePath: string): Promise<Uint8Array> {
  return readRegularFile(path.resolve(filePath), {
    what: 'ONNX model',
    maxBytes: MAX_MODEL_FILE_BYTES,
    code: 'bad-model',
    displayName: filePath,
    tooLarge: (size) =>
      new EngineError(
        'unsupported',
        `${filePath} is ${(size / 2 ** 30).toFixed(1)} GiB in one file; ONNX files are limited to 2 GiB — save the weights as external data (onnx.save(..., save_as_external_data=True)).`,
      ),
  });
}

export class ModelRegistry {
  private readonly models: LruCache<ModelId, OpenModel>;

  /** Bounded by count and by bytes: a model is weighed at twice its file (the bytes and the decoded graph). */
  constructor(capacity = 4, maxBytes = 256 * 1024 * 1024) {
    this.models = new LruCache(capacity, () => {}, { maxBytes, sizeOf: (m) => 2 * m.bytes.byteLength });
  }

  async openPath(filePath: string): Promise<OpenModel> {
    const bytes = await readModelFile(filePath);
    return this.add(bytes, path.basename(filePath), path.resolve(filePath));
  }

  async openBytes(name: string, bytes: Uint8Array): Promise<OpenModel> {
    return this.add(bytes, name || 'model.onnx', null);
  }

  values(): OpenModel[] {
    return this.models.values();
  }

  get(id: ModelId): OpenModel {
    const model = this.models.get(id);
    if (!model)
      throw new EngineError('not-found', `Model ${id} is not open (it may have been closed to save memory): open it again.`);
    return model;
  }

  private async add(bytes: Uint8Array, name: string, filePath: string | null): Promise<OpenModel> {
    const sha256 = sha256Of(bytes);
    const id = idOfDigest(sha256);
    const existing = this.models.get(id);
    if (existing && existing.path === filePath) return existing;
    const model = describeModel(bytes, name, filePath, sha256);
    // Refuse broken graphs and unsafe external data now, not at the first analysis.
    buildGraphIndex(model.proto, name);
    await resolveExternalPaths(model.proto, filePath ? path.dirname(filePath) : null, name);
    this.models.set(id, model);
    return model;
  }
}
