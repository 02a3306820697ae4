/**
 * ImageNet-1k's class names, for 1000-class models that carry no labels of their own (torchvision and most
 * ImageNet exports number the classes in this order). A labels file the user picks, or the model's own
 * metadata, always wins.
 */
import type { TensorInfo } from '../../src-shared/api';
import names from '../../resources/labels/imagenet-1k.json';

export const IMAGENET_CLASSES = 1000;

/** The 1000 names, in class-index order. */
export const IMAGENET_LABELS: readonly string[] = names;

/** True when the model's first output ends in 1000 classes. */
export function looksLikeImagenet(outputs: TensorInfo[]): boolean {
  return outputs[0]?.shape.at(-1) === IMAGENET_CLASSES;
}
