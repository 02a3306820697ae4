/**
 * How much the engine may hold: its in-memory caches (open models, onnxruntime sessions, graph analyses,
 * recent answers) and the run database on disk. Both are settings: `--cache-limit MB` and `--history-limit
 * MB` on the command line, LAYERLENS_CACHE_MB and LAYERLENS_HISTORY_MB in the environment (the studio reads
 * these too), with the defaults below. The history's limit can also be set in the studio (Settings), which
 * keeps it in the run database; a flag or the environment wins over that one for their process.
 */
const MB = 1024 * 1024;

export const DEFAULT_CACHE_BYTES = 1024 * MB;
export const DEFAULT_HISTORY_BYTES = 2048 * MB;

/** The smallest limits that still hold one small model and one run; below them nothing would work. */
const MIN_CACHE_BYTES = 16 * MB;
const MIN_HISTORY_BYTES = 1 * MB;

export interface CacheBudget {
  /** onnxruntime sessions, each weighed at twice its graph's bytes (the weights and their prepacked copy). */
  sessions: number;
  /** Open models: their file bytes and decoded graph. */
  models: number;
  /** Graph analyses: each holds a runnable copy of its model (external data inlined). */
  analyses: number;
  /** Recent CAM answers kept decoded in memory (maps, the model's view of the image). */
  answers: number;
  /** Uploaded images, held so that later requests can name them instead of sending their bytes again. */
  uploads: number;
}

/**
 * The cache budget split by what holds the memory: sessions take half, models and analyses a fifth each,
 * recent answers and uploads a twentieth each.
 */
export function cacheBudget(totalBytes: number): CacheBudget {
  return {
    sessions: totalBytes / 2,
    models: totalBytes / 5,
    analyses: totalBytes / 5,
    answers: totalBytes / 20,
    uploads: totalBytes / 20,
  };
}

/** A limit in MB as the user wrote it, in bytes; a message saying what is wrong otherwise. */
export function parseLimitMb(text: string, what: string, minBytes: number): number | string {
  const mb = Number(text);
  if (!Number.isFinite(mb) || mb * MB < minBytes)
    return `${what} must be a number of MB, at least ${minBytes / MB} (got "${text}")`;
  return Math.round(mb * MB);
}

export function cacheLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return fromEnv(env.LAYERLENS_CACHE_MB, 'LAYERLENS_CACHE_MB', MIN_CACHE_BYTES, DEFAULT_CACHE_BYTES);
}

/** LAYERLENS_HISTORY_MB in bytes, or null when it is not set (the studio's kept limit, else the default, applies). */
export function historyLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  if (env.LAYERLENS_HISTORY_MB === undefined || env.LAYERLENS_HISTORY_MB === '') return null;
  return fromEnv(env.LAYERLENS_HISTORY_MB, 'LAYERLENS_HISTORY_MB', MIN_HISTORY_BYTES, DEFAULT_HISTORY_BYTES);
}

export const LIMIT_MINIMUMS = { cache: MIN_CACHE_BYTES, history: MIN_HISTORY_BYTES };

function fromEnv(value: string | undefined, name: string, min: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = parseLimitMb(value, name, min);
  // A broken environment variable must not stop the app: say so once and use the default.
  if (typeof parsed === 'string') {
    process.stderr.write(`layerlens: ${parsed}; using ${fallback / MB} MB.\n`);
    return fallback;
  }
  return parsed;
}
