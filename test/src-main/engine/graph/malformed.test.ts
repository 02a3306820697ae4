/**
 * Every malformed file gives a one-line error that says what is wrong (or, for files that are valid
 * protobuf by chance, a usable summary), the engine never crashes or hangs, and it keeps serving.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { EngineError } from '../../../../src-main/engine/errors';
import { malformedCorpus } from '../../../helpers/malformed-corpus';
import { channelMeanClassifier } from '../../../helpers/onnx-builder';
import { solidPng } from '../../../helpers/images';

const corpus = malformedCorpus();
let engine: Engine;
let root: string;

beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
  root = await mkdtemp(path.join(tmpdir(), 'layerlens-malformed-'));
  await writeFile(path.join(root, 'secret.bin'), new Uint8Array(16));
});
afterAll(() => engine.dispose());

/** An error a user can read: one line, names the file, no stack. */
function expectReadable(error: unknown, file: string): void {
  expect(error).toBeInstanceOf(EngineError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message.length).toBeLessThan(400);
  expect(message).toContain(file);
}

describe('malformed model corpus', () => {
  it('has at least 100 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${name}.onnx`);
    await writeFile(file, c.bytes);
    for (const [sibling, bytes] of Object.entries(c.siblings ?? {})) await writeFile(path.join(dir, sibling), bytes);
    let opened;
    try {
      opened = await engine.openModelPath({ path: file });
    } catch (error) {
      expectReadable(error, `${name}.onnx`);
      return;
    }
    expect(c.expect, `${name} opened but must be refused`).toBe('opens-or-error');
    // It opened: the graph view and a prediction either work or explain themselves.
    try {
      await engine.getGraph({ modelId: opened.id });
    } catch (error) {
      expectReadable(error, `${name}.onnx`);
    }
    try {
      await engine.predict({
        modelId: opened.id,
        image: { kind: 'bytes', name: 'img.png', bytes: await solidPng(8, 8, [1, 2, 3]) },
      });
    } catch (error) {
      expect(error).toBeInstanceOf(EngineError);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('refuses external data outside the model folder with a message that says so', async () => {
    const c = corpus.find((x) => x.name === 'external-parent-dir');
    const dir = path.join(root, 'escape-check');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'm.onnx'), c?.bytes ?? new Uint8Array());
    await expect(engine.openModelPath({ path: path.join(dir, 'm.onnx') })).rejects.toThrow(/outside the model's folder/);
  });

  it('keeps serving after the whole corpus', async () => {
    const summary = await engine.openModelBytes({ name: 'good.onnx', bytes: channelMeanClassifier(8) });
    const p = await engine.predict({
      modelId: summary.id,
      image: { kind: 'bytes', name: 'r.png', bytes: await solidPng(8, 8, [255, 0, 0]) },
    });
    expect(p.top[0]?.label).toBe('red');
  });
});
