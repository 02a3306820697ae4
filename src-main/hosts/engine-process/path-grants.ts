/**
 * In the desktop app the page may only make the engine read files the user chose: through a dialog, by
 * dropping them on the window, from the recent list, or the app's own resources. Every path-bearing API
 * request is checked here before it reaches the engine; browser mode (a token-protected local server) and
 * the CLI do not use this.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { EngineApi, ImageSource } from '../../../src-shared/api';
import { EngineError } from '../../engine/errors';

export class PathGrants {
  private readonly files = new Set<string>();
  private readonly folders: string[] = [];

  /** Files the user chose. */
  grant(paths: Iterable<string>): void {
    for (const p of paths) this.files.add(path.resolve(p));
  }

  /** Folders whose files are always readable (the bundled demo). */
  grantFolder(folder: string): void {
    const prefix = path.resolve(folder) + path.sep;
    if (!this.folders.includes(prefix)) this.folders.push(prefix);
  }

  allows(file: string): boolean {
    const resolved = path.resolve(file);
    return this.files.has(resolved) || this.folders.some((f) => resolved.startsWith(f));
  }

  check(file: string): void {
    if (!this.allows(file)) {
      throw new EngineError(
        'invalid-request',
        `${path.basename(file)} was not chosen in this session: open it with File → Open or drop it on the window.`,
      );
    }
  }
}

const imagePaths = (sources: ImageSource[]): string[] => sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));

/** The engine as the page may use it: the same API, with file paths checked against `grants`. */
export function guardPaths(engine: EngineApi, grants: PathGrants): EngineApi {
  const checked =
    <A extends unknown[], R>(paths: (...args: A) => string[], call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      try {
        paths(...args).forEach((p) => grants.check(p));
      } catch (error) {
        return Promise.reject(error);
      }
      return call(...args);
    };
  return {
    ...bindAll(engine),
    openModelPath: checked((req) => [req.path], engine.openModelPath.bind(engine)),
    getImage: checked((req) => imagePaths([req.source]), engine.getImage.bind(engine)),
    predict: checked((req) => imagePaths([req.image]), engine.predict.bind(engine)),
    computeCam: checked((req) => imagePaths([req.image]), engine.computeCam.bind(engine)),
    computeStats: checked((req) => imagePaths(req.images), engine.computeStats.bind(engine)),
    getActivation: checked((req) => imagePaths([req.image]), engine.getActivation.bind(engine)),
    // A data set the user dropped (a folder, or a CSV) opens its folder: its images are then shown too.
    interpretDataset: checked(
      (req) => [req.dataset],
      (req) => {
        const folder = statSync(req.dataset, { throwIfNoEntry: false })?.isDirectory();
        grants.grantFolder(folder ? req.dataset : path.dirname(req.dataset));
        return engine.interpretDataset(req);
      },
    ),
  };
}

/** Every API method of `engine`, bound, so the guarded copy can be passed around as a plain object. */
function bindAll(engine: EngineApi): EngineApi {
  const methods = {} as Record<string, unknown>;
  let proto: object | null = engine;
  while (proto && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (engine as unknown as Record<string, unknown>)[name];
      if (name !== 'constructor' && typeof value === 'function' && !(name in methods)) {
        methods[name] = (value as (...a: unknown[]) => unknown).bind(engine);
      }
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return methods as unknown as EngineApi;
}
