/**
 * `--db FILE` / `--no-history` and the limits `--history-limit MB` / `--cache-limit MB`, shared by every command
 * that computes or lists runs.
 */
import type { Engine, EngineOptions } from '../../engine/engine';
import { LIMIT_MINIMUMS, parseLimitMb } from '../../engine/limits';
import { defaultDatabasePath } from '../../engine/runs/location';
import { UsageError } from './errors';

export const DATABASE_OPTIONS = {
  db: { type: 'string' },
  'no-history': { type: 'boolean', default: false },
  'history-limit': { type: 'string' },
  'cache-limit': { type: 'string' },
} as const;

interface DatabaseValues {
  db?: string | undefined;
  'no-history'?: boolean | undefined;
  'history-limit'?: string | undefined;
  'cache-limit'?: string | undefined;
}

/** The run database to use, or null when the user turned history off. */
export function databaseFrom(values: DatabaseValues): string | null {
  if (values['no-history']) return null;
  return values.db ?? defaultDatabasePath();
}

/** The engine's storage options: its database and the limits given on the command line (else the environment's). */
export function storageFrom(values: DatabaseValues): Pick<EngineOptions, 'database' | 'historyLimitBytes' | 'cacheLimitBytes'> {
  const limit = (flag: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const parsed = parseLimitMb(text, flag, min);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    return parsed;
  };
  return {
    database: databaseFrom(values),
    historyLimitBytes: limit('--history-limit', values['history-limit'], LIMIT_MINIMUMS.history),
    cacheLimitBytes: limit('--cache-limit', values['cache-limit'], LIMIT_MINIMUMS.cache),
  };
}

/** Says on stderr why an answer was not kept in the history (too large for its limit, disk full), if it was not. */
export function reportNotKept(engine: Engine, run: number | null): void {
  const why = engine.runs.lastStorageError;
  if (run === null && engine.runs.store && why) process.stderr.write(`layerlens: note: ${why}\n`);
}
