/**
 * Renders resources/icons/icon.svg to the PNG, ICO and ICNS files the installers need.
 * Run: npx tsx tools/make-icons.ts (the outputs are committed; run again after editing the SVG).
 */
import { readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';

const dir = 'resources/icons';
const svg = await readFile(`${dir}/icon.svg`);
const png = (size: number): Promise<Buffer> => sharp(svg, { density: 384 }).resize(size, size).png().toBuffer();

await writeFile(`${dir}/icon.png`, await png(512));

// ICO: a directory of PNG images (supported since Windows Vista).
const icoSizes = [16, 24, 32, 48, 64, 128, 256];
const icoImages = await Promise.all(icoSizes.map(png));
const header = Buffer.alloc(6 + 16 * icoSizes.length);
header.writeUInt16LE(0, 0);
header.writeUInt16LE(1, 2);
header.writeUInt16LE(icoSizes.length, 4);
let offset = header.length;
icoSizes.forEach((size, i) => {
  const entry = 6 + 16 * i;
  const image = icoImages[i] as Buffer;
  header.writeUInt8(size >= 256 ? 0 : size, entry);
  header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
  header.writeUInt16LE(1, entry + 4);
  header.writeUInt16LE(32, entry + 6);
  header.writeUInt32LE(image.length, entry + 8);
  header.writeUInt32LE(offset, entry + 12);
  offset += image.length;
});
await writeFile(`${dir}/icon.ico`, Buffer.concat([header, ...icoImages]));

// ICNS: typed chunks holding PNGs (ic07 128, ic08 256, ic09 512, ic10 1024).
const icnsTypes: [string, number][] = [
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
];
const chunks = await Promise.all(
  icnsTypes.map(async ([type, size]) => {
    const image = await png(size);
    const chunk = Buffer.alloc(8);
    chunk.write(type, 0, 'ascii');
    chunk.writeUInt32BE(image.length + 8, 4);
    return Buffer.concat([chunk, image]);
  }),
);
const icnsHeader = Buffer.alloc(8);
icnsHeader.write('icns', 0, 'ascii');
icnsHeader.writeUInt32BE(8 + chunks.reduce((n, c) => n + c.length, 0), 4);
await writeFile(`${dir}/icon.icns`, Buffer.concat([icnsHeader, ...chunks]));
console.log('wrote icon.png, icon.ico, icon.icns');
