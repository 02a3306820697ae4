/**
 * Opens (or creates) the run database: WAL so that readers never wait for a writer and a killed writer
 * cannot damage committed runs, foreign keys on, and the schema brought up to date before anything else.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EngineError, describeError } from '../errors';
import { MIGRATIONS, type Migration } from './migrations';

export type RunDatabase = Database.Database;

export function openRunDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): RunDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: RunDatabase;
  try {
    db = new Database(file, { timeout: 5000 });
    // Must be chosen before the first table exists; lets pruning hand space back to the disk.
    if (db.pragma('user_version', { simple: true }) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses at most the last commits on power loss, never consistency; a killed process loses nothing committed.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw unusable(file, error);
  }
  try {
    migrate(db, file, migrations);
  } catch (error) {
    db.close();
    throw error instanceof EngineError ? error : unusable(file, error);
  }
  return db;
}

function migrate(db: RunDatabase, file: string, migrations: readonly Migration[]): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new EngineError(
      'storage',
      `${file} was written by a newer LayerLens (schema ${version}, this one knows ${migrations.length}): update LayerLens, or pass --db with another file.`,
    );
  }
  for (let step = version; step < migrations.length; step++) {
    const migration = migrations[step] as Migration;
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        db.pragma(`user_version = ${step + 1}`);
      })();
    } catch (error) {
      throw new EngineError(
        'storage',
        `Upgrading ${file} to schema ${step + 1} (${migration.description}) failed: ${describeError(error)}. The database was left at schema ${step}.`,
      );
    }
  }
}

function unusable(file: string, error: unknown): EngineError {
  return new EngineError(
    'storage',
    `Cannot use ${file} as the run database (${describeError(error)}): move the file away to start a new history, or pass --db with another file.`,
  );
}
