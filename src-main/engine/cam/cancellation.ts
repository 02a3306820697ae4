/**
 * Float32 rounds a sum of C terms to about 1e-7·√C of their absolute sum: a map below CANCELLED of that
 * scale everywhere is what is left of terms that cancel (HiResCAM at a layer whose gradient only reaches
 * the score through a LayerNorm over channels — ConvNeXt's stages, a ViT's last block), drawn as noise.
 */
const CANCELLED = 1e-4;

export function cancellationNote(map: Float32Array, scale: number): string | null {
  let largest = 0;
  for (const v of map) largest = Math.max(largest, Math.abs(v));
  if (!(scale > 0) || largest >= CANCELLED * scale) return null;
  return `Zero up to rounding: at every position the channel terms cancel (largest sum ${largest.toExponential(1)} against ${scale.toExponential(1)} of their absolute values), as when the layer's gradient passes through a normalization over channels. What is drawn is noise; Grad-CAM or LayerCAM say more here.`;
}
