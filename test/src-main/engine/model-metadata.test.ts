import { describe, expect, it } from 'vitest';
import type { TensorInfo, TensorName } from '../../../src-shared/api';
import { guessLayout, labelsFromMetadata, preprocessFromMetadata } from '../../../src-main/engine/model-metadata';

const input = (shape: (number | string)[]): TensorInfo => ({ name: 'x' as TensorName, dtype: 'float32', shape });

describe('labels from metadata', () => {
  it('reads our JSON array, JSON objects and the Python-dict form other exporters write', () => {
    expect(labelsFromMetadata({ 'layerlens.labels': '["cat","dog"]' })).toEqual(['cat', 'dog']);
    expect(labelsFromMetadata({ classes: '{"1": "dog", "0": "cat"}' })).toEqual(['cat', 'dog']);
    expect(labelsFromMetadata({ names: "{0: 'person', 1: 'bicycle'}" })).toEqual(['person', 'bicycle']);
    expect(labelsFromMetadata({ labels: 'a, b ,c' })).toEqual(['a', 'b', 'c']);
    expect(labelsFromMetadata({ other: 'x' })).toBeNull();
  });
});

describe('preprocessing', () => {
  it('takes the model metadata when valid', () => {
    const { preprocess, warning } = preprocessFromMetadata(
      {
        'layerlens.preprocess': JSON.stringify({
          input_size: [96, 96],
          resize: 'stretch',
          mean: [0.5, 0.5, 0.5],
          std: [0.25, 0.25, 0.25],
        }),
      },
      input([1, 3, 96, 96]),
    );
    expect(warning).toBeNull();
    expect(preprocess).toMatchObject({
      inputSize: [96, 96],
      resize: 'stretch',
      mean: [0.5, 0.5, 0.5],
      source: 'metadata',
      layout: 'NCHW',
    });
  });

  it('falls back to ImageNet defaults at the model input size, and says why when metadata is broken', () => {
    const { preprocess, warning } = preprocessFromMetadata(
      { 'layerlens.preprocess': '{"input_size": [0, 5]}' },
      input(['N', 3, 160, 128]),
    );
    expect(warning).toMatch(/not valid/);
    expect(preprocess).toMatchObject({
      inputSize: [160, 128],
      resize: 'center-crop',
      source: 'default',
      std: [0.229, 0.224, 0.225],
    });
  });

  it('uses 224 when the model input is dynamic', () => {
    expect(preprocessFromMetadata({}, input(['N', 3, 'H', 'W'])).preprocess.inputSize).toEqual([224, 224]);
  });

  it('recognises channels-last inputs', () => {
    expect(guessLayout(input([1, 224, 224, 3]))).toBe('NHWC');
    expect(guessLayout(input([1, 3, 224, 224]))).toBe('NCHW');
  });
});
