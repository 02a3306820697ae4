/** Input images: where a source's bytes come from (a sample, a file, an upload) and how a browser shows them. */
import path from 'node:path';
import sharp from 'sharp';
import type { ImageData, ImageSource } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { imageSize } from '../image/image-to-tensor';
import { readRegularFile } from '../regular-file';
import type { SampleSet } from '../samples';

/** Images are read whole into memory: refuse files that cannot be an image a model takes. */
const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;
const BROWSER_IMAGE_FORMATS: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export interface ResolvedImage {
  bytes: Uint8Array;
  name: string;
}

export class Images {
  constructor(readonly samples: SampleSet | null) {}

  async resolve(source: ImageSource): Promise<ResolvedImage> {
    if (source.kind === 'bytes') return { bytes: source.bytes, name: source.name || 'image' };
    const file = source.kind === 'sample' ? this.samples?.files.get(source.id) : path.resolve(source.path);
    if (!file) throw new EngineError('not-found', `There is no sample image "${source.kind === 'sample' ? source.id : ''}".`);
    const name = path.basename(file);
    const bytes = await readRegularFile(file, {
      what: 'image',
      maxBytes: MAX_IMAGE_FILE_BYTES,
      code: 'bad-image',
      displayName: source.kind === 'sample' ? name : file,
    });
    return { bytes, name };
  }

  async getImage(req: { source: ImageSource }): Promise<ImageData> {
    const { bytes, name } = await this.resolve(req.source);
    const { width, height, format } = await imageSize(bytes, name);
    const mime = BROWSER_IMAGE_FORMATS[format];
    if (mime) return { mime, bytes, width, height };
    // TIFF, HEIF and friends: convert so any renderer can show them.
    const png = await sharp(bytes).rotate().png().toBuffer();
    return { mime: 'image/png', bytes: png, width, height };
  }
}
