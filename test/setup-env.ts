/**
 * Every test file gets its own empty run database unless it asks for one: tests must never read or write
 * the user's real history, nor see each other's runs.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

process.env.LAYERLENS_DB = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-test-db-')), 'layerlens.db');
