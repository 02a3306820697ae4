import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../src-main/engine/engine';
import { EngineError } from '../../../src-main/engine/errors';
import { writeNpy } from '../../../src-main/engine/npy';
import sharp from 'sharp';
import { buildModel, channelMeanClassifier, floatTensor, intAttr, node, valueInfo } from '../../helpers/onnx-builder';
import { solidPng } from '../../helpers/images';

let engine: Engine;
let dir: string;
let modelPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-engine-'));
  modelPath = path.join(dir, 'means.onnx');
  await writeFile(modelPath, channelMeanClassifier(8));
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

/** softmax of [a, b, c] computed independently of the engine. */
const softmax3 = (x: number[]): number[] => {
  const e = x.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('engine predict', () => {
  it('preprocesses an image per the model metadata and ranks classes by softmax', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    expect(summary.labels).toEqual(['red', 'green', 'blue']);
    expect(summary.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 3, 8, 8] }]);
    // Pure red, drawn at another size: stretch-resize keeps it pure, so logits are [1, 0, 0] exactly.
    const png = await solidPng(20, 13, [255, 0, 0]);
    const p = await engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'red.png', bytes: png }, topK: 5 });
    const expected = softmax3([1, 0, 0]);
    expect(p.top).toHaveLength(3);
    expect(p.top[0]).toMatchObject({ class: 0, label: 'red' });
    expect(p.top[0]?.prob).toBeCloseTo(expected[0] as number, 6);
    expect(p.top[1]?.prob).toBeCloseTo(expected[1] as number, 6);
    expect(Array.from(p.logits)).toEqual([1, 0, 0]);
    expect(p.provider).toBe('cpu');
    expect(p.inputShape).toEqual([1, 3, 8, 8]);
  });

  it('scales pixel values as the metadata says (mid grey-blue)', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    const png = await solidPng(8, 8, [51, 102, 204]);
    const p = await engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'c.png', bytes: png } });
    expect(Array.from(p.logits).map((x) => Number(x.toFixed(5)))).toEqual([0.2, 0.4, 0.8]);
    expect(p.top.map((t) => t.label)).toEqual(['blue', 'green', 'red']);
  });

  it('feeds a .npy tensor exactly as is, with or without the batch dimension', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    const data = new Float32Array(3 * 8 * 8);
    data.fill(-2, 0, 64);
    data.fill(5, 64, 128);
    data.fill(0.5, 128, 192);
    for (const shape of [
      [1, 3, 8, 8],
      [3, 8, 8],
    ]) {
      const bytes = writeNpy(data, shape);
      const p = await engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 't.npy', bytes } });
      expect(Array.from(p.logits)).toEqual([-2, 5, 0.5]);
    }
  });

  it('says which shape it expected when a tensor does not fit', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    const bytes = writeNpy(new Float32Array(3 * 4 * 4), [1, 3, 4, 4]);
    await expect(engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 't.npy', bytes } })).rejects.toThrow(
      /t\.npy has shape \[1, 3, 4, 4\] but the model expects \[batch, 3, 8, 8\]/,
    );
  });

  it('reports unreadable images and broken models in one sentence, then keeps serving', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    const junk = new TextEncoder().encode('this is not an image');
    await expect(
      engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'junk.png', bytes: junk } }),
    ).rejects.toThrow(/junk\.png could not be read as an image/);
    const model = channelMeanClassifier(8);
    await expect(engine.openModelBytes({ name: 'cut.onnx', bytes: model.subarray(0, model.byteLength - 7) })).rejects.toThrow(
      /cut\.onnx is not a valid ONNX model/,
    );
    await expect(engine.openModelBytes({ name: 'text.onnx', bytes: new TextEncoder().encode('hello') })).rejects.toBeInstanceOf(
      EngineError,
    );
    await expect(engine.openModelPath({ path: path.join(dir, 'missing.onnx') })).rejects.toThrow(/Cannot open/);
    const png = await solidPng(8, 8, [0, 255, 0]);
    const p = await engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'g.png', bytes: png } });
    expect(p.top[0]?.label).toBe('green');
  });

  it('refuses images above the pixel limit without decoding them', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    // A tiny PNG whose header claims 20000×20000 pixels.
    const png = await solidPng(1, 1, [0, 0, 0]);
    const huge = new Uint8Array(png);
    const view = new DataView(huge.buffer);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    await expect(
      engine.predict({ modelId: summary.id, image: { kind: 'bytes', name: 'huge.png', bytes: huge } }),
    ).rejects.toThrow(/huge\.png/);
  });
});

describe('non-finite numbers (issue 17, item 7)', () => {
  const red = async () => ({ kind: 'bytes' as const, name: 'r.png', bytes: await solidPng(8, 8, [255, 0, 0]) });

  it('refuses a .npy input holding NaN or an infinity, naming the value', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    for (const bad of [NaN, Infinity, -Infinity]) {
      const t = new Float32Array(192);
      t[5] = bad;
      const image = { kind: 'bytes' as const, name: 'bad.npy', bytes: writeNpy(t, [1, 3, 8, 8]) };
      await expect(engine.predict({ modelId: summary.id, image })).rejects.toThrow(
        `bad.npy is not a usable .npy tensor: value 5 is ${String(bad)}; a model's input must be finite numbers.`,
      );
      await expect(
        engine.computeCam({
          modelId: summary.id,
          image,
          methods: ['gradcam'],
          classIndex: 'top',
          counterfactual: false,
          jobId: 'nan-cam',
        }),
      ).rejects.toThrow(/must be finite/);
    }
  });

  it("says so when the model's own output is not finite, instead of ranking null probabilities", async () => {
    // An identity 1×1 convolution gives CAM a spatial layer to explain.
    const withConv = buildModel({
      inputs: [valueInfo('input', [1, 3, 8, 8])],
      outputs: [valueInfo('logits', [1, 3])],
      initializers: [
        floatTensor('K', [3, 3, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
        floatTensor('W', [3, 3], [1, 0, 0, 0, NaN, 0, 0, 0, 1]),
        floatTensor('B', [3], [0, 0, 0]),
      ],
      nodes: [
        node('Conv', ['input', 'K'], ['features'], '/conv/Conv'),
        node('GlobalAveragePool', ['features'], ['pooled'], '/pool/GlobalAveragePool'),
        node('Flatten', ['pooled'], ['flat'], '/Flatten'),
        node('Gemm', ['flat', 'W', 'B'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]),
      ],
    });
    const summary = await engine.openModelBytes({ name: 'nan-weights.onnx', bytes: withConv });
    const expected = /^nan-weights\.onnx computed NaN as the score of class 1 for this input: its output is not finite/;
    await expect(engine.predict({ modelId: summary.id, image: await red() })).rejects.toThrow(expected);
    await expect(
      engine.computeCam({
        modelId: summary.id,
        image: await red(),
        methods: ['gradcam', 'layercam'],
        classIndex: 'top',
        counterfactual: false,
        jobId: 'nan-output-cam',
      }),
    ).rejects.toThrow(expected);
  });
});

describe('broken images (issue 17, item 8)', () => {
  it('a truncated JPEG gives one short line, not libvips repeating itself', async () => {
    const summary = await engine.openModelPath({ path: modelPath });
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .jpeg()
      .toBuffer();
    for (const cut of [20, 200, jpeg.byteLength - 40]) {
      const image = { kind: 'bytes' as const, name: 'cut.jpg', bytes: new Uint8Array(jpeg.subarray(0, cut)) };
      const error = await engine.predict({ modelId: summary.id, image }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      const message = (error as Error).message;
      expect(message).toMatch(/^cut\.jpg could not be (read as an image|decoded) \(/);
      expect(message).not.toMatch(/\n|Vips/);
      expect(message.length).toBeLessThan(160);
    }
  });
});

describe('caches bounded by bytes (issue 17, item 9)', () => {
  it('holds no more models and sessions than the cache limit allows', async () => {
    const MB = 1024 * 1024;
    const small = await Engine.create({ device: 'cpu', cacheLimitBytes: 16 * MB });
    try {
      for (let i = 0; i < 6; i++) {
        // ~1 MB of weights each (an unused initializer still counts: it is in the file and the session).
        const padded = buildModel({
          inputs: [valueInfo('input', [1, 3, 8, 8])],
          outputs: [valueInfo('logits', [1, 3])],
          initializers: [
            floatTensor('W', [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
            floatTensor('B', [3], [0, 0, 0]),
            floatTensor('pad', [262_144], new Array<number>(262_144).fill(i)),
          ],
          nodes: [
            node('GlobalAveragePool', ['input'], ['pooled']),
            node('Flatten', ['pooled'], ['flat']),
            node('Gemm', ['flat', 'W', 'B'], ['logits'], 'fc', [intAttr('transB', 1)]),
          ],
        });
        const summary = await small.openModelBytes({ name: `m${i}.onnx`, bytes: padded });
        const p = await small.predict({
          modelId: summary.id,
          image: { kind: 'bytes', name: 'r.png', bytes: await solidPng(8, 8, [255, 0, 0]) },
        });
        expect(p.top[0]?.class).toBe(0);
      }
      // Budget: models a fifth of 16 MB (each weighs 2 × 1 MB), sessions half (each 2 × 1 MB).
      expect(small.models.values().length).toBe(1);
      expect(small.sessions.size).toBeLessThanOrEqual(4);
    } finally {
      small.dispose();
    }
  });
});
