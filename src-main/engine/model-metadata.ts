/**
 * Labels and preprocessing, read from a model's metadata_props when it carries them, otherwise the
 * conventions a user of torchvision/timm models expects (ImageNet mean/std, resize + centre crop).
 */
import * as v from 'valibot';
import { oneLine } from './errors';
import { MAX_INPUT_SIDE, type Preprocess, type TensorInfo } from '../../src-shared/api';

export const METADATA_KEYS = {
  labels: 'layerlens.labels',
  preprocess: 'layerlens.preprocess',
  description: 'layerlens.description',
} as const;

/** Keys other exporters use for class names, tried in this order after ours. */
const FOREIGN_LABEL_KEYS = ['labels', 'classes', 'class_names', 'names'];

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
const DEFAULT_SIZE = 224;

/**
 * No model has more classes than this; a label entry naming class 999999999 must not allocate a billion
 * slots. Labels are further bounded by the model's class count where its output declares it.
 */
export const MAX_LABELS = 100_000;

/** Index → name pairs (a sparse form) as a dense list below `limit`, gaps named by their index. */
function denseLabels(pairs: Iterable<[number, string]>, limit: number): string[] {
  const named = new Map<number, string>();
  for (const [index, name] of pairs) if (Number.isSafeInteger(index) && index >= 0 && index < limit) named.set(index, name);
  if (named.size === 0) return [];
  const length = Math.max(...named.keys()) + 1;
  return Array.from({ length }, (_, i) => named.get(i) ?? String(i));
}

function labelsFromJson(text: string, limit: number): string[] | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed.slice(0, limit);
    if (parsed && typeof parsed === 'object') {
      const entries = Object.entries(parsed as Record<string, unknown>);
      if (entries.every(([k, val]) => /^\d+$/.test(k) && typeof val === 'string')) {
        return denseLabels(
          entries.map(([k, val]) => [Number(k), val as string]),
          limit,
        );
      }
    }
  } catch {
    // Not JSON: try the other forms below.
  }
  return null;
}

/** Python-dict form ("{0: 'person', 1: 'bicycle'}") as written by some exporters. */
function labelsFromPythonDict(text: string, limit: number): string[] | null {
  const matches = [...text.matchAll(/(\d+)\s*:\s*(['"])(.*?)\2/g)];
  if (matches.length === 0) return null;
  return denseLabels(
    matches.map((m) => [Number(m[1]), m[3] ?? '']),
    limit,
  );
}

/**
 * Class names from the model's metadata, in any of the forms exporters write.
 * @param classCount the model's number of classes where its output declares it: labels beyond it are ignored
 */
export function labelsFromMetadata(metadata: Record<string, string>, classCount: number | null = null): string[] | null {
  const limit = classCount !== null && classCount > 0 ? Math.min(classCount, MAX_LABELS) : MAX_LABELS;
  for (const key of [METADATA_KEYS.labels, ...FOREIGN_LABEL_KEYS]) {
    const text = metadata[key];
    if (text === undefined) continue;
    const labels = labelsFromJson(text, limit) ?? labelsFromPythonDict(text, limit);
    if (labels && labels.length > 0) return labels;
    if (text.includes(',')) return text.split(',', limit).map((s) => s.trim());
  }
  return null;
}

const triple = v.tuple([v.number(), v.number(), v.number()]);
const positiveTriple = v.tuple([
  v.pipe(v.number(), v.gtValue(0)),
  v.pipe(v.number(), v.gtValue(0)),
  v.pipe(v.number(), v.gtValue(0)),
]);
const size = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_INPUT_SIDE));

const preprocessMetadataSchema = v.object({
  input_size: v.tuple([size, size]),
  resize: v.optional(v.picklist(['stretch', 'center-crop', 'letterbox']), 'center-crop'),
  channel_order: v.optional(v.picklist(['RGB', 'BGR']), 'RGB'),
  scale: v.optional(v.pipe(v.number(), v.gtValue(0)), 255),
  mean: v.optional(triple, IMAGENET_MEAN),
  std: v.optional(positiveTriple, IMAGENET_STD),
  layout: v.optional(v.picklist(['NCHW', 'NHWC'])),
});

/** NHWC when the last dimension is 3 (or 1) and the second is not: TF/Keras exports. */
export function guessLayout(input: TensorInfo | undefined): 'NCHW' | 'NHWC' {
  const shape = input?.shape ?? [];
  if (shape.length === 4 && (shape[3] === 3 || shape[3] === 1) && shape[1] !== 3 && shape[1] !== 1) return 'NHWC';
  return 'NCHW';
}

function staticSpatialSize(input: TensorInfo | undefined, layout: 'NCHW' | 'NHWC'): [number, number] | null {
  const shape = input?.shape ?? [];
  if (shape.length !== 4) return null;
  const [h, w] = layout === 'NCHW' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? [h, w] : null;
}

export interface PreprocessResult {
  preprocess: Preprocess;
  /** Set when the model's metadata had a preprocessing entry that could not be used. */
  warning: string | null;
}

export function preprocessFromMetadata(metadata: Record<string, string>, input: TensorInfo | undefined): PreprocessResult {
  const layoutGuess = guessLayout(input);
  const text = metadata[METADATA_KEYS.preprocess];
  let warning: string | null = null;
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = v.safeParse(preprocessMetadataSchema, json);
    if (parsed.success) {
      const p = parsed.output;
      const layout = p.layout ?? layoutGuess;
      const preprocess: Preprocess = {
        inputSize: p.input_size,
        resize: p.resize,
        channelOrder: p.channel_order,
        scale: p.scale,
        mean: p.mean,
        std: p.std,
        layout,
        source: 'metadata',
      };
      // The model takes no other size: resizing to the metadata's would only allocate, then fail.
      const fixed = staticSpatialSize(input, layout);
      if (fixed && (fixed[0] !== p.input_size[0] || fixed[1] !== p.input_size[1])) {
        return {
          preprocess: { ...preprocess, inputSize: fixed },
          warning: `The model's "${METADATA_KEYS.preprocess}" metadata asks for input_size [${p.input_size.join(', ')}] but its input takes ${fixed.join('×')}, which is used.`,
        };
      }
      return { preprocess, warning: null };
    }
    warning = `The model's "${METADATA_KEYS.preprocess}" metadata is not valid (${
      json === undefined ? 'not JSON' : oneLine(v.summarize(parsed.issues).replace(/^× /gm, ''))
    }); ImageNet defaults are used instead.`;
  }
  return {
    preprocess: {
      inputSize: staticSpatialSize(input, layoutGuess) ?? [DEFAULT_SIZE, DEFAULT_SIZE],
      resize: 'center-crop',
      channelOrder: 'RGB',
      scale: 255,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      layout: layoutGuess,
      source: 'default',
    },
    warning,
  };
}
