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
import { malformedCorpus, writeCase } from '../../../helpers/malformed-corpus';
import { channelMeanClassifier } from '../../../helpers/onnx-builder';
import { solidPng } from '../../../helpers/images';

const corpus = malformedCorpus();
/** A case may cost a tiny model's session, not the gigabytes a label or size bomb would allocate. */
const MAX_GROWTH_BYTES = 256 * 1024 * 1024;
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

  // Each case answers at once (a hang is the failure mode of pipes and devices) and within bounded memory.
  it.each(corpus.map((c) => [c.name, c] as const))(
    '%s',
    async (name, c) => {
      const file = await writeCase(c, path.join(root, name));
      const memoryBefore = process.memoryUsage().rss;
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
      expect(process.memoryUsage().rss - memoryBefore).toBeLessThan(MAX_GROWTH_BYTES);
    },
    2_000,
  );

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

describe('hostile metadata and models onnxruntime cannot run', () => {
  const open = async (name: string) => {
    const c = corpus.find((x) => x.name === name);
    if (!c) throw new Error(`no case ${name}`);
    return engine.openModelPath({ path: await writeCase(c, path.join(root, `again-${name}`)) });
  };

  it('bounds labels by the class count, whatever index the metadata names', async () => {
    expect((await open('labels-sparse-bomb')).labels).toBeNull();
    expect((await open('labels-python-bomb')).labels).toEqual(['zero']);
    expect((await open('labels-comma-bomb')).labels).toEqual(['', '', '']);
  });

  it('uses the size a static input takes, not the metadata size it cannot take, and says so', async () => {
    const summary = await open('preprocess-size-bomb');
    expect(summary.preprocess.inputSize).toEqual([8, 8]);
    const view = await engine.getGraph({ modelId: summary.id });
    expect(view.warnings.join(' ')).toMatch(/input_size \[4096, 4096\] but its input takes 8×8/);
    const p = await engine.predict({
      modelId: summary.id,
      image: { kind: 'bytes', name: 'r.png', bytes: await solidPng(64, 64, [255, 0, 0]) },
    });
    expect(p.top[0]?.label).toBe('red');
  });

  it('refuses an input size above the cap for a dynamic input', async () => {
    const summary = await open('preprocess-size-bomb-dynamic');
    expect(summary.preprocess.source).toBe('default');
    expect((await engine.getGraph({ modelId: summary.id })).warnings.join(' ')).toMatch(/not valid/);
  });

  it.each(['opset-999', 'unknown-op', 'bad-attribute'])('cam on %s says what onnxruntime refused', async (name) => {
    const summary = await open(name);
    const error = await engine
      .computeCam({
        modelId: summary.id,
        image: { kind: 'bytes', name: 'r.png', bytes: await solidPng(8, 8, [255, 0, 0]) },
        methods: ['gradcam'],
        classIndex: 'top',
        counterfactual: false,
        jobId: `cam-${name}`,
      })
      .catch((e: unknown) => e);
    expectReadable(error, `${name}.onnx`);
    expect((error as Error).message).toMatch(/^onnxruntime cannot run .*\(.+\)/);
    expect((error as Error).message).not.toMatch(/no spatial layers|onnxruntime_src/);
  });
});
