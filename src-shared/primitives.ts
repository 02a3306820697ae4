/**
 * The shared primitives every other src-shared module names: identifiers, tensor names, dimensions, image
 * sources, providers, views. This file imports nothing, so no module that needs one of them can form an
 * import cycle through it.
 */

/** Content-derived identifier of an opened model (hex prefix of its SHA-256). */
export type ModelId = string & { readonly __brand: 'ModelId' };
/** Name of a tensor in an ONNX graph. */
export type TensorName = string & { readonly __brand: 'TensorName' };

/** A dimension: a number when static, the symbolic name (e.g. "batch") or null when dynamic. */
export type Dim = number | string | null;

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';
/** What the user asks for: `auto` takes CUDA where installed, else a hardware GPU through WebGPU, else the CPU. */
export type DeviceChoice = 'auto' | 'cpu' | 'webgpu' | 'cuda';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'webgpu', 'cuda'];

/** The device asked for, the provider new sessions will get, and why that is not a GPU when it is not. */
export interface DeviceState {
  choice: DeviceChoice;
  provider: ExecutionProvider;
  why: string | null;
}

/**
 * Where an input image comes from. An uploaded image crosses the wire once (`uploadImage`); later requests
 * name it by its content id. `bytes` sends the image with the request itself (scripts, one-off calls).
 */
export type ImageSource =
  | { kind: 'sample'; id: string }
  | { kind: 'bytes'; name: string; bytes: Uint8Array }
  | { kind: 'path'; path: string }
  | { kind: 'upload'; id: string; name: string };

/** An encoded image (PNG, JPEG…) with its size. */
export interface ImageData {
  mime: string;
  bytes: Uint8Array;
  width: number;
  height: number;
}

/** Decoded pixels: RGB, 3 bytes a pixel, row-major (what a canvas draws without decoding anything). */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** An input as it was given, minus uploaded bytes (only their name is kept; the bytes are not stored). */
export type StoredImageSource = { kind: 'sample'; id: string } | { kind: 'path'; path: string } | { kind: 'bytes'; name: string };

/** Row id of a run in the run database. */
export type RunId = number & { readonly __brand: 'RunId' };

/** The studio's views, in the order of its tabs and the View menu. */
export const VIEWS = [
  { id: 'studio', label: 'Studio' },
  { id: 'graph', label: 'Graph' },
  { id: 'stats', label: 'Statistics' },
  { id: 'dataset', label: 'Data set' },
  { id: 'trust', label: 'Trust' },
  { id: 'history', label: 'History' },
] as const;
export type ViewName = (typeof VIEWS)[number]['id'];
export const VIEW_NAMES: readonly ViewName[] = VIEWS.map((v) => v.id);

/** Why an answer was not kept in the history (larger than its whole limit, the disk full); absent when it was. */
export interface KeptNote {
  notKept?: string;
}
