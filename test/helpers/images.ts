import sharp from 'sharp';

/** A solid-colour PNG. */
export function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}
