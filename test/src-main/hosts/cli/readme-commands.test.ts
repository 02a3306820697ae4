/**
 * Every `npx layerlens …` command the README shows is run as a user would type it (the built bin, from a
 * folder that holds the repo's resources), in the README's order against a fresh run database, and must
 * succeed; the JSON the README prints under a command must match what the command prints. `npm run X`
 * commands must name scripts that exist.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = process.cwd();
const bin = path.join(repo, 'bin/layerlens.js');
const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');

interface ShownCommand {
  args: string[];
  /** The `# …` line printed under the command in the README, if any (its documented output). */
  shownOutput: string | null;
}

/** The shell lines of the README's ```sh blocks, comments stripped. */
function shellLines(): { line: string; next: string | undefined }[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] as string).split('\n'));
  return blocks.flatMap((lines) => lines.map((line, i) => ({ line: line.trim(), next: lines[i + 1]?.trim() })));
}

function layerlensCommands(): ShownCommand[] {
  return shellLines()
    .filter(({ line }) => line.startsWith('npx layerlens '))
    .map(({ line, next }) => ({
      args: (
        line
          .replace(/\s#.*$/, '')
          .trim()
          .split(/\s+/) as string[]
      ).slice(2),
      shownOutput: next?.startsWith('# {') ? next.slice(2) : null,
    }));
}

const run = promisify(execFile);

describe('the README', () => {
  const commands = layerlensCommands();
  const folder = mkdtempSync(path.join(tmpdir(), 'layerlens-readme-'));
  symlinkSync(path.join(repo, 'resources'), path.join(folder, 'resources'));
  const env = { ...process.env, LAYERLENS_DB: path.join(folder, 'layerlens.db') };

  it('shows the CLI commands (this test reads them)', () => {
    expect(commands.map((c) => c.args[0])).toEqual(
      expect.arrayContaining(['predict', 'graph', 'cam', 'stats', 'serve', 'runs', 'report']),
    );
    expect(
      existsSync(path.join(repo, 'out/main/cli.js')),
      'run "npm run build" first: the README commands run the built bin',
    ).toBe(true);
  });

  for (const [i, command] of commands.entries()) {
    it(`runs: layerlens ${command.args.join(' ')}`, { timeout: 120_000 }, async () => {
      if (command.args[0] === 'serve') {
        await expect(servePrintsUrl(command.args, folder, env)).resolves.toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
        return;
      }
      const { stdout } = await run(process.execPath, [bin, ...command.args], { cwd: folder, env, maxBuffer: 64 << 20 });
      if (command.shownOutput) {
        // The documented JSON: its keys are printed, and so are the values written out in full (… elides).
        for (const key of command.shownOutput.matchAll(/"(\w+)":/g)) expect(stdout).toContain(`"${key[1]}":`);
        for (const literal of command.shownOutput.matchAll(/"(\w+)":("[^"]*"|\[[\d,]+\])/g))
          expect(stdout, `README command ${i}: ${literal[0]}`).toContain(`"${literal[1]}":${literal[2]}`);
      }
    });
  }

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: object }).scripts,
    );
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(2);
    for (const name of named) expect(scripts).toContain(name);
  });
});

/** Starts `serve` and resolves with the URL it prints, then stops it. */
function servePrintsUrl(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`serve printed no URL in 60 s:\n${output}`)), 60_000);
    const finish = (result: string | Error): void => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(output);
      if (url) finish(url[0]);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => finish(new Error(`serve exited with ${code}:\n${output}`)));
  });
}
