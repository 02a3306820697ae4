/** `--db FILE` / `--no-history`, shared by every command that computes or lists runs. */
import { defaultDatabasePath } from '../../engine/runs/location';

export const DATABASE_OPTIONS = {
  db: { type: 'string' },
  'no-history': { type: 'boolean', default: false },
} as const;

/** The run database to use, or null when the user turned history off. */
export function databaseFrom(values: { db?: string | undefined; 'no-history'?: boolean | undefined }): string | null {
  if (values['no-history']) return null;
  return values.db ?? defaultDatabasePath();
}
