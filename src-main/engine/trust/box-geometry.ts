/**
 * An object box given in the image's own pixels → the same box in the model's input pixels, following the
 * preprocessing's resize (stretch, letterbox, or torchvision's resize-shorter-side + centre crop), so the
 * pointing game compares the map with the right place.
 */
import type { Preprocess } from '../../../src-shared/api';
import type { Box } from '../../../src-shared/trust';

/** torchvision's Resize(256) + CenterCrop(224): the shorter side is resized to size / 0.875. */
const CROP_RATIO = 0.875;

export function boxToInput(box: Box, image: { width: number; height: number }, p: Preprocess): Box {
  const [height, width] = p.inputSize;
  const { width: srcW, height: srcH } = image;
  let sx: number;
  let sy: number;
  let dx = 0;
  let dy = 0;
  if (p.resize === 'stretch') {
    sx = width / srcW;
    sy = height / srcH;
  } else if (p.resize === 'letterbox') {
    const s = Math.min(width / srcW, height / srcH);
    sx = sy = s;
    dx = (width - Math.round(srcW * s)) / 2;
    dy = (height - Math.round(srcH * s)) / 2;
  } else {
    const scale = Math.max(width, height) / CROP_RATIO / Math.min(srcW, srcH);
    const rw = Math.max(width, Math.round(srcW * scale));
    const rh = Math.max(height, Math.round(srcH * scale));
    sx = rw / srcW;
    sy = rh / srcH;
    dx = -Math.floor((rw - width) / 2);
    dy = -Math.floor((rh - height) / 2);
  }
  const clamp = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
  return [
    clamp(Math.floor(box[0] * sx + dx), width),
    clamp(Math.floor(box[1] * sy + dy), height),
    clamp(Math.ceil(box[2] * sx + dx), width),
    clamp(Math.ceil(box[3] * sy + dy), height),
  ];
}
