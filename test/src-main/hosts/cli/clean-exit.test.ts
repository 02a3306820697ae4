/**
 * The CLI as a process, as a user's shell runs it (issue 17): it leaves nothing in the temporary folder
 * (onnxruntime's telemetry is off), prints no onnxruntime log lines, ends quietly when the reader of its
 * output goes away (`| head`), and refuses a pipe or a device as a model at once.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, node, valueInfo } from '../../../helpers/onnx-builder';

const MAIN = path.resolve('src-main/hosts/cli/main.ts');
const DEMO = path.resolve('resources/demo/layerlens-demo.onnx');
const SAMPLE = path.resolve('resources/demo/samples/02-circle.png');

interface Ended {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `layerlens ARGS` in a child Node process with its own empty temporary folder. */
function layerlens(args: string[], options: { tmp: string; stopReadingAfter?: number }): Promise<Ended> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { runCli } from ${JSON.stringify(MAIN)}; process.exitCode = await runCli(JSON.parse(process.env.LAYERLENS_ARGS));`,
    ],
    {
      // tsx's own cache would otherwise land in the temporary folder under test.
      env: { ...process.env, TMPDIR: options.tmp, TSX_DISABLE_CACHE: '1', LAYERLENS_ARGS: JSON.stringify(args) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    // `| head -c N`: the reader takes what it wants and closes its end.
    if (options.stopReadingAfter !== undefined && stdout.length >= options.stopReadingAfter) child.stdout.destroy();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const freshTmp = (): string => mkdtempSync(path.join(tmpdir(), 'layerlens-cli-tmp-'));

describe('the layerlens process', () => {
  it('leaves no file in the temporary folder (onnxruntime telemetry is off)', async () => {
    const tmp = freshTmp();
    const db = path.join(mkdtempSync(path.join(tmpdir(), 'layerlens-cli-db-')), 'runs.db');
    const predict = await layerlens(['predict', DEMO, SAMPLE, '--json'], { tmp });
    expect(predict.status).toBe(0);
    const cam = await layerlens(['cam', DEMO, SAMPLE, '--methods', 'gradcam,scorecam', '--db', db], { tmp });
    expect(cam.stderr).toBe('');
    expect(cam.status).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  it('prints no onnxruntime log lines for a model it warns about', async () => {
    const tmp = freshTmp();
    const model = path.join(tmp, '..', `${path.basename(tmp)}-mismatch.onnx`);
    // The declared output shape disagrees with what Relu computes: onnxruntime logs a coloured warning.
    writeFileSync(
      model,
      buildModel({
        inputs: [valueInfo('x', [1, 3, 8, 8])],
        outputs: [valueInfo('y', [1, 5, 8, 8])],
        nodes: [node('Relu', ['x'], ['y'])],
      }),
    );
    const graph = await layerlens(['graph', model], { tmp });
    expect(graph.status).toBe(0);
    expect(graph.stderr).toBe('');
    const cam = await layerlens(['cam', model, SAMPLE, '--no-history', '--methods', 'gradcam'], { tmp });
    expect(cam.stderr).not.toMatch(/onnxruntime/);
    expect(cam.stderr).not.toContain('\u001b[');
  }, 60_000);

  it('ends quietly, with status 0, when the reader of its output goes away', async () => {
    const ended = await layerlens(['cam', DEMO, SAMPLE, '--no-history', '--json', '-'], {
      tmp: freshTmp(),
      stopReadingAfter: 100,
    });
    expect(ended.stdout.length).toBeGreaterThanOrEqual(100);
    expect(ended.stderr).toBe('');
    expect(ended.status).toBe(0);
  }, 60_000);

  it('refuses a named pipe and /dev/zero as a model in one line', async () => {
    const tmp = freshTmp();
    const fifo = path.join(tmp, '..', `${path.basename(tmp)}.onnx`);
    execFileSync('mkfifo', [fifo]);
    for (const model of [fifo, '/dev/zero']) {
      const ended = await layerlens(['graph', model, '--json'], { tmp });
      expect(ended.status).toBe(1);
      expect(ended.stderr).toMatch(
        new RegExp(`^layerlens: ${model.replace(/[.]/g, '\\.')} is a (named pipe|device), not an ONNX model file\\.\\n$`),
      );
    }
  }, 60_000);
});
