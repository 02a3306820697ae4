/**
 * The 3D stack of colorful dimensions as flat instance data: one box per (layer, image, bin), x = image,
 * y = bin, z = layer, height and colour from log1p(count) normalised per layer. Pure, so it is tested without
 * WebGL; the view turns it into one InstancedMesh.
 */
import { colorAt, type Colormap } from '../../../src-shared/heatmap';
import { logCounts } from './plot-math';

export interface StackLayer {
  imageHists: ArrayLike<number>;
}

export interface Stack {
  count: number;
  images: number;
  bins: number;
  layers: number;
  /** Per instance: centre x, y, z, then height (4 floats). */
  boxes: Float32Array;
  /** Per instance: r, g, b in [0, 1]. */
  colors: Float32Array;
}

/** Depth of the tallest box, in cell units (boxes stand out of their layer's plane). */
export const MAX_HEIGHT = 3;
/** Distance between two layers' planes. */
export const LAYER_GAP = MAX_HEIGHT + 1;

export function buildStack(layers: StackLayer[], images: number, bins: number, colormap: Colormap): Stack {
  const count = layers.length * images * bins;
  const boxes = new Float32Array(count * 4);
  const colors = new Float32Array(count * 3);
  layers.forEach((layer, z) => {
    const { values, max } = logCounts(layer.imageHists);
    for (let img = 0; img < images; img++) {
      for (let bin = 0; bin < bins; bin++) {
        const i = (z * images + img) * bins + bin;
        const t = max > 0 ? (values[img * bins + bin] as number) / max : 0;
        boxes.set(
          [img - (images - 1) / 2, bin - (bins - 1) / 2, (z - (layers.length - 1) / 2) * LAYER_GAP, 0.05 + t * MAX_HEIGHT],
          i * 4,
        );
        const [r, g, b] = colorAt(colormap, t);
        colors.set([r / 255, g / 255, b / 255], i * 3);
      }
    }
  });
  return { count, images, bins, layers: layers.length, boxes, colors };
}

/** Which (layer, image, bin) an instance id stands for. */
export function cellOf(stack: Pick<Stack, 'images' | 'bins'>, instance: number): { layer: number; image: number; bin: number } {
  const bin = instance % stack.bins;
  const rest = Math.floor(instance / stack.bins);
  return { layer: Math.floor(rest / stack.images), image: rest % stack.images, bin };
}
