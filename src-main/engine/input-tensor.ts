/**
 * What the user gave (a sample, a file, bytes; an image or a .npy) → the float32 tensor the model takes,
 * checked against the model's declared input shape with an error that states both shapes.
 */
import type { Dim, TensorInfo } from '../../src-shared/api';
import { EngineError } from './errors';
import { imageSize, imageToTensor } from './image/image-to-tensor';
import type { OpenModel } from './model-registry';
import { isNpy, readNpy } from './npy';

export interface InputTensor {
  name: string;
  data: Float32Array;
  shape: number[];
  /** For image inputs: the pixels the tensor was made from (after resize/crop), RGB row-major. */
  rgb?: { data: Uint8Array; width: number; height: number };
}

export function singleImageInput(model: OpenModel): TensorInfo {
  const inputs = model.summary.inputs;
  const input = inputs[0];
  if (inputs.length !== 1 || !input) {
    throw new EngineError(
      'unsupported',
      `${model.summary.name} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); LayerLens analyses image models with exactly one input.`,
    );
  }
  if (input.dtype !== 'float32') {
    throw new EngineError(
      'unsupported',
      `${model.summary.name}'s input ${input.name} is ${input.dtype}; LayerLens feeds float32 images.`,
    );
  }
  return input;
}

const formatShape = (shape: Dim[]): string => `[${shape.map((d) => (typeof d === 'number' ? d : (d ?? '?'))).join(', ')}]`;

export function checkShape(actual: number[], expected: Dim[], what: string): void {
  const ok = actual.length === expected.length && expected.every((d, i) => typeof d !== 'number' || d <= 0 || d === actual[i]);
  if (!ok) {
    throw new EngineError(
      'bad-input',
      `${what} has shape ${formatShape(actual)} but the model expects ${formatShape(expected)}: resize it or change the preprocessing.`,
    );
  }
}

export async function toInputTensor(model: OpenModel, bytes: Uint8Array, displayName: string): Promise<InputTensor> {
  const input = singleImageInput(model);
  if (isNpy(bytes)) {
    const npy = readNpy(bytes, displayName);
    // A tensor without the batch dimension is accepted as a batch of one.
    const shape = npy.shape.length === input.shape.length - 1 ? [1, ...npy.shape] : npy.shape;
    checkShape(shape, input.shape, displayName);
    return { name: input.name, data: npy.data, shape };
  }
  if (input.shape.length !== 4) {
    throw new EngineError(
      'unsupported',
      `${model.summary.name}'s input ${input.name} has shape ${formatShape(input.shape)}, not an image batch; give a .npy tensor instead.`,
    );
  }
  // Checked before resizing (after reading the image's header, so an unreadable file says so first): a
  // preprocessing size the model cannot take would only allocate, then fail.
  await imageSize(bytes, displayName);
  const [height, width] = model.summary.preprocess.inputSize;
  const planned = model.summary.preprocess.layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  checkShape(planned, input.shape, `${displayName} after preprocessing`);
  const tensor = await imageToTensor(bytes, model.summary.preprocess, displayName);
  checkShape(tensor.shape, input.shape, `${displayName} after preprocessing`);
  return {
    name: input.name,
    data: tensor.data,
    shape: tensor.shape,
    rgb: { data: tensor.rgb, width: tensor.width, height: tensor.height },
  };
}
