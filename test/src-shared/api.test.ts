import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { engineRequestSchemas, isEngineMethod } from '../../src-shared/api';

const MODEL = 'a'.repeat(16);
const UPLOAD = 'b'.repeat(64);
const valid = (method: keyof typeof engineRequestSchemas, args: unknown[]): boolean =>
  v.safeParse(engineRequestSchemas[method], args).success;

const cam = (over: Record<string, unknown>): unknown[] => [
  {
    modelId: MODEL,
    image: { kind: 'sample', id: 's' },
    methods: ['gradcam'],
    classIndex: 'top',
    counterfactual: false,
    jobId: 'j',
    ...over,
  },
];

describe('the engine API', () => {
  it('has no stage override to set: the stages are named by the requests that use them', () => {
    expect(isEngineMethod('setStages')).toBe(false);
    expect(valid('getGraph', [{ modelId: MODEL }])).toBe(true);
    expect(valid('getGraph', [{ modelId: MODEL, stages: null }])).toBe(true);
    expect(valid('getGraph', [{ modelId: MODEL, stages: ['layer3', '/layer4/Relu_output_0'] }])).toBe(true);
    expect(valid('getGraph', [{ modelId: MODEL, stages: [] }])).toBe(false);
    expect(valid('getGraph', [{ modelId: MODEL, stages: [''] }])).toBe(false);
    expect(valid('getGraph', [{ modelId: MODEL, stages: Array.from({ length: 65 }, (_, i) => `l${i}`) }])).toBe(false);
    expect(valid('computeCam', cam({ layers: ['layer3'] }))).toBe(true);
    expect(valid('computeCam', cam({ layers: [42] }))).toBe(false);
    const stats = {
      modelId: MODEL,
      images: [{ kind: 'sample', id: 's' }],
      layers: null,
      includeParamless: false,
      bins: 40,
      range: null,
      jobId: 'j',
    };
    expect(valid('computeStats', [stats])).toBe(true);
    expect(valid('computeStats', [{ ...stats, stages: ['layer2'] }])).toBe(true);
    expect(valid('computeStats', [{ ...stats, stages: [] }])).toBe(false);
  });

  it('takes an image once (uploadImage) and then by its content id, which must look like one', () => {
    expect(valid('uploadImage', [{ name: 'cat.jpg', bytes: new Uint8Array([1, 2, 3]) }])).toBe(true);
    expect(valid('uploadImage', [{ name: 'cat.jpg', bytes: [1, 2, 3] }])).toBe(false);
    expect(valid('computeCam', cam({ image: { kind: 'upload', id: UPLOAD, name: 'cat.jpg' } }))).toBe(true);
    expect(valid('computeCam', cam({ image: { kind: 'upload', id: '../etc/passwd', name: 'x' } }))).toBe(false);
    expect(valid('computeCam', cam({ image: { kind: 'upload', id: UPLOAD.toUpperCase(), name: 'x' } }))).toBe(false);
    expect(valid('computeCam', cam({ image: { kind: 'upload', id: UPLOAD, name: 'x', bytes: new Uint8Array(1) } }))).toBe(false);
    expect(valid('getActivation', [{ modelId: MODEL, image: { kind: 'upload', id: UPLOAD, name: 'x' }, layer: 'layer1' }])).toBe(
      true,
    );
  });
});
