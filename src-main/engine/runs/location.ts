/**
 * Where the run database lives when no host says otherwise: LAYERLENS_DB, else the platform's per-user data
 * folder (the Electron host passes its userData folder instead).
 */
import os from 'node:os';
import path from 'node:path';

export const DB_FILE_NAME = 'layerlens.db';

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.LAYERLENS_DB) return path.resolve(env.LAYERLENS_DB);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'LayerLens', DB_FILE_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'LayerLens', DB_FILE_NAME);
  const data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share');
  return path.join(data, 'layerlens', DB_FILE_NAME);
}
