/**
 * Labels and preprocessing, read from a model's metadata_props when it carries them, otherwise the
 * conventions a user of torchvision/timm models expects (ImageNet mean/std, resize + centre crop).
 */
import * as v from 'valibot';
import type { Preprocess, TensorInfo } from '../../src-shared/api';

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

function labelsFromJson(text: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed;
    if (parsed && typeof parsed === 'object') {
      const entries = Object.entries(parsed as Record<string, unknown>);
      if (entries.every(([k, val]) => /^\d+$/.test(k) && typeof val === 'string')) {
        const out: string[] = [];
        for (const [k, val] of entries) out[Number(k)] = val as string;
        return Array.from(out, (x, i) => x ?? String(i));
      }
    }
  } catch {
    // Not JSON: try the other forms below.
  }
  return null;
}

/** Python-dict form ("{0: 'person', 1: 'bicycle'}") as written by some exporters. */
function labelsFromPythonDict(text: string): string[] | null {
  const matches = [...text.matchAll(/(\d+)\s*:\s*(['"])(.*?)\2/g)];
  if (matches.length === 0) return null;
  const out: string[] = [];
  for (const m of matches) out[Number(m[1])] = m[3] ?? '';
  return Array.from(out, (x, i) => x ?? String(i));
}

export function labelsFromMetadata(metadata: Record<string, string>): string[] | null {
  for (const key of [METADATA_KEYS.labels, ...FOREIGN_LABEL_KEYS]) {
    const text = metadata[key];
    if (text === undefined) continue;
    const labels = labelsFromJson(text) ?? labelsFromPythonDict(text);
    if (labels && labels.length > 0) return labels;
    if (text.includes(',')) return text.split(',').map((s) => s.trim());
  }
  return null;
}

const triple = v.tuple([v.number(), v.number(), v.number()]);
const positiveTriple = v.tuple([
  v.pipe(v.number(), v.gtValue(0)),
  v.pipe(v.number(), v.gtValue(0)),
  v.pipe(v.number(), v.gtValue(0)),
]);
const size = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16384));

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
      return {
        preprocess: {
          inputSize: p.input_size,
          resize: p.resize,
          channelOrder: p.channel_order,
          scale: p.scale,
          mean: p.mean,
          std: p.std,
          layout: p.layout ?? layoutGuess,
          source: 'metadata',
        },
        warning: null,
      };
    }
    warning = `The model's "${METADATA_KEYS.preprocess}" metadata is not valid (${
      json === undefined ? 'not JSON' : v.summarize(parsed.issues)
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
