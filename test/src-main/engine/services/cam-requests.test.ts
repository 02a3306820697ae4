import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CamRequestMessage, ModelId } from '../../../../src-shared/api';
import { Engine } from '../../../../src-main/engine/engine';
import { toInputTensor } from '../../../../src-main/engine/input-tensor';
import { upgradeStoredCam } from '../../../../src-main/engine/services/cam-requests';
import { solidPng } from '../../../helpers/images';

let engine: Engine;
let modelId: ModelId;

beforeAll(async () => {
  const database = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-camreq-')), 'runs.db');
  engine = await Engine.create({ device: 'cpu', database });
  modelId = (await engine.openModelPath({ path: 'test/fixtures/torch/resnet/model.onnx' })).id;
});
afterAll(() => engine.dispose());

const request = (image: CamRequestMessage['image'], over: Partial<CamRequestMessage> = {}): CamRequestMessage => ({
  modelId,
  image,
  methods: ['gradcam'],
  classIndex: 'top',
  counterfactual: false,
  jobId: 'j',
  ...over,
});

/** Stripes, so that a wrong row stride or channel order shows. */
async function stripes(width: number, height: number): Promise<Uint8Array> {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set([(i * 7) % 256, (i * 13) % 256, (i % width) * 3], i * 3);
  return sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('CAM requests', () => {
  it('name an uploaded image by its id: the same run (key) as its bytes, and the history keeps only its name', async () => {
    const png = await stripes(80, 70);
    const byBytes = await engine.computeCam(request({ kind: 'bytes', name: 'stripes.png', bytes: png }));
    const { source } = await engine.uploadImage({ name: 'stripes.png', bytes: png });
    const byUpload = await engine.computeCam(request(source));
    expect(byUpload.key).toBe(byBytes.key);
    expect(byUpload.cached).toBe(true);
    const run = await engine.openRun({ id: byBytes.run as never });
    expect(run.summary.kind === 'cam' && run.summary.params.image).toEqual({ kind: 'bytes', name: 'stripes.png' });
  });

  it('carry the model view as raw RGB pixels: the resized input itself, not an encoded file', async () => {
    const png = await stripes(64, 64);
    const answer = await engine.computeCam(request({ kind: 'bytes', name: 's.png', bytes: png }));
    // The pixels the input tensor was made from (after the model's resize and crop), byte for byte.
    const input = await toInputTensor(engine.models.get(modelId), png, 's.png');
    expect(answer.modelView).toMatchObject({ width: input.rgb?.width, height: input.rgb?.height });
    expect(answer.modelView?.rgb).toEqual(input.rgb?.data);
    expect(answer.modelView?.rgb.byteLength).toBe(3 * (input.rgb?.width ?? 0) * (input.rgb?.height ?? 0));
  });

  it('carry the logits and top classes of the same run, and a key that differs with the layers asked for', async () => {
    const png = await solidPng(64, 64, [30, 160, 90]);
    const answer = await engine.computeCam(request({ kind: 'bytes', name: 'g.png', bytes: png }));
    const prediction = await engine.predict({ modelId, image: { kind: 'bytes', name: 'g.png', bytes: png }, topK: 5 });
    expect(Array.from(answer.result.logits)).toEqual(Array.from(prediction.logits));
    expect(answer.top).toEqual(prediction.top);
    const other = await engine.computeCam(request({ kind: 'bytes', name: 'g.png', bytes: png }, { layers: ['layer2'] }));
    expect(other.key).not.toBe(answer.key);
    expect(other.result.layers.map((l) => l.label)).toEqual(['layer2']);
  });

  it('read a run stored when model views were PNG files as raw pixels too', async () => {
    const png = await solidPng(5, 3, [10, 20, 30]);
    const legacy = { result: {} as never, modelView: { mime: 'image/png', bytes: png, width: 5, height: 3 } as never };
    const upgraded = await upgradeStoredCam(legacy);
    expect(upgraded.modelView).toEqual({
      rgb: new Uint8Array(15 * 3).map((_, i) => [10, 20, 30][i % 3] as number),
      width: 5,
      height: 3,
    });
    const empty = {
      result: {} as never,
      modelView: { mime: 'image/png', bytes: new Uint8Array(0), width: 8, height: 8 } as never,
    };
    expect((await upgradeStoredCam(empty)).modelView).toBeNull();
  });
});
