/**
 * Results as stored blobs: the wire codec's binary frames (numbers stay typed arrays, never JSON number
 * lists). Statistics' per-image rows are turned into columns first so they too are stored as floats.
 */
import type { CamResponse, StatsResponse } from '../../../src-shared/api';
import { decodeFrame, encodeFrame } from '../../../src-shared/wire-codec';

/** A CAM answer without what depends on how it was asked (cached, run id). */
export type StoredCam = Omit<CamResponse, 'cached' | 'run' | 'key' | 'top'>;
export type StoredStats = Omit<StatsResponse, 'cached' | 'run'>;

export function encodeCam(response: StoredCam): Uint8Array {
  return encodeFrame({ result: response.result, modelView: response.modelView });
}

export function decodeCam(bytes: Uint8Array): StoredCam {
  return decodeFrame(bytes) as StoredCam;
}

export function encodeStats(response: StoredStats): Uint8Array {
  return encodeFrame({
    ...response,
    layers: response.layers.map(({ perImage, ...layer }) => {
      const columns = new Float64Array(perImage.length * 3);
      perImage.forEach((p, i) => columns.set([p.mean, p.std, p.near_zero], i * 3));
      return { ...layer, perImage: columns };
    }),
  });
}

export function decodeStats(bytes: Uint8Array): StoredStats {
  const stored = decodeFrame(bytes) as Omit<StoredStats, 'layers'> & {
    layers: (Omit<StoredStats['layers'][number], 'perImage'> & { perImage: Float64Array })[];
  };
  return {
    ...stored,
    layers: stored.layers.map(({ perImage, ...layer }) => ({
      ...layer,
      perImage: Array.from({ length: perImage.length / 3 }, (_, i) => ({
        mean: perImage[i * 3] as number,
        std: perImage[i * 3 + 1] as number,
        near_zero: perImage[i * 3 + 2] as number,
      })),
    })),
  };
}
