/**
 * Reading files a user (or a model file) names. Only regular files are models, images or data: a FIFO would
 * block the read (and a libuv thread) forever, /dev/zero never ends, a folder fails deep inside. Files are
 * opened non-blocking, checked on the open handle (no race between the check and the read), and read up to
 * their size with a cap, so nothing here can hang or grow without bound.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { EngineError, describeError, type EngineErrorCode } from './errors';

/** O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer (no effect on regular files). */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export interface RegularFileOptions {
  /** What the file is to the user ("model", "image"), for messages. */
  what: string;
  /** Refuse files above this many bytes. */
  maxBytes: number;
  /** The error code for a file that exists but cannot be used. */
  code: EngineErrorCode;
  /** How the file is named in messages (default: its path as given). */
  displayName?: string;
  /** The error for a file above maxBytes, where the generic one would not say what to do. */
  tooLarge?: (size: number) => EngineError;
}

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isSocket(): boolean }) {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isCharacterDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Opens `file` for reading if it is a regular file of at most `maxBytes`; the caller closes the handle. */
export async function openRegularFile(file: string, options: RegularFileOptions): Promise<{ handle: FileHandle; size: number }> {
  const name = options.displayName ?? file;
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new EngineError(options.code, `${name} is a folder, not ${article(options.what)} file.`);
    throw new EngineError('not-found', `Cannot open ${name}: ${describeError(error)}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new EngineError(options.code, `${name} is ${kindOf(info)}, not ${article(options.what)} file.`);
    }
    if (info.size > options.maxBytes) {
      if (options.tooLarge) throw options.tooLarge(info.size);
      throw new EngineError(
        options.code,
        `${name} is ${formatBytes(info.size)}, above the ${formatBytes(options.maxBytes)} limit for ${article(options.what)} file.`,
      );
    }
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole of a regular file of at most `maxBytes` (see openRegularFile). */
export async function readRegularFile(file: string, options: RegularFileOptions): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(file, options);
  try {
    const bytes = new Uint8Array(size);
    let done = 0;
    // A file that grows while it is read is cut at the size it had when opened; one that shrinks is short.
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? bytes : bytes.subarray(0, done);
  } catch (error) {
    throw new EngineError('not-found', `Cannot read ${options.displayName ?? file}: ${describeError(error)}`);
  } finally {
    await handle.close();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

const article = (what: string): string => `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
