/**
 * Input images: where a source's bytes come from (a sample, a file, bytes in the request, an upload held
 * here) and how a browser shows them.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import type { ImageData, ImageSource, UploadedImage } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { imageSize } from '../image/image-to-tensor';
import { LruCache } from '../lru-cache';
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

/** Uploads held at once, whatever their size: the studio needs the shown one and a few before it. */
const MAX_UPLOADS = 32;

export interface ResolvedImage {
  bytes: Uint8Array;
  name: string;
}

export class Images {
  /** Uploaded images by content id (their SHA-256), most recently used last. */
  private readonly uploads: LruCache<string, Uint8Array>;

  /** `uploadBytes`: how many bytes of uploads are held (the oldest go first). */
  constructor(
    readonly samples: SampleSet | null,
    uploadBytes = 64 * 1024 * 1024,
  ) {
    this.uploads = new LruCache(MAX_UPLOADS, () => {}, { maxBytes: uploadBytes, sizeOf: (bytes) => bytes.byteLength });
  }

  async resolve(source: ImageSource): Promise<ResolvedImage> {
    if (source.kind === 'bytes') return { bytes: source.bytes, name: source.name || 'image' };
    if (source.kind === 'upload') {
      const bytes = this.uploads.get(source.id);
      if (!bytes)
        throw new EngineError(
          'not-found',
          `${source.name || 'The uploaded image'} is no longer held by the engine (it keeps the ${MAX_UPLOADS} most recent uploads): open it again.`,
        );
      return { bytes, name: source.name || 'image' };
    }
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

  /** Keeps an image under its content id, checking first that it is one (a clear error now, not at the CAM). */
  async upload(req: { name: string; bytes: Uint8Array }): Promise<UploadedImage> {
    const name = req.name || 'image';
    const { width, height, format } = await imageSize(req.bytes, name);
    const id = createHash('sha256').update(req.bytes).digest('hex');
    // A copy: the request's buffer may be a view into a larger transport frame.
    if (!this.uploads.get(id)) this.uploads.set(id, new Uint8Array(req.bytes));
    return { source: { kind: 'upload', id, name }, width, height, mime: BROWSER_IMAGE_FORMATS[format] ?? null };
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
