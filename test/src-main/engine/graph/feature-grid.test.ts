import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { featureGrid, fromChannelMajor, toChannelMajor } from '../../../../src-main/engine/graph/feature-grid';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { randomTensor, rng } from '../../../helpers/gradcheck';
import { buildModel, int64Tensor, intsAttr, node, valueInfo } from '../../../helpers/onnx-builder';

const grid = (shape: number[], image: [number, number] | null = [224, 224], channelsLast = false) => {
  const g = featureGrid(shape, image, channelsLast);
  return g && { c: g.channels, h: g.height, w: g.width, first: g.channelsFirst, prefix: g.prefix, batch: g.batchAxis };
};

describe('featureGrid: where a tensor keeps its grid of image positions', () => {
  it('reads NCHW and channels-last maps from the image’s aspect', () => {
    expect(grid([1, 2048, 7, 7])).toEqual({ c: 2048, h: 7, w: 7, first: true, prefix: 0, batch: 0 });
    expect(grid([1, 56, 56, 96])).toEqual({ c: 96, h: 56, w: 56, first: false, prefix: 0, batch: 0 });
    expect(grid([1, 7, 7, 768])).toEqual({ c: 768, h: 7, w: 7, first: false, prefix: 0, batch: 0 });
    // A non-square image: 7×10 of 224×320 either way round, rounding of odd sizes allowed.
    expect(grid([1, 512, 7, 10], [224, 320])).toMatchObject({ c: 512, h: 7, w: 10, first: true });
    expect(grid([1, 7, 10, 512], [224, 320])).toMatchObject({ c: 512, h: 7, w: 10, first: false });
    expect(grid([1, 64, 57, 57], [225, 225])).toMatchObject({ c: 64, h: 57, w: 57 });
  });

  it('keeps 4-D maps whose axes shrink differently (strides per axis, unpadded convolutions)', () => {
    expect(grid([1, 8, 2, 25], [32, 100])).toMatchObject({ c: 8, h: 2, w: 25, first: true });
    expect(grid([1, 64, 58, 122], [64, 128])).toMatchObject({ c: 64, h: 58, w: 122, first: true });
    expect(grid([1, 2048, 10, 8], [299, 299])).toMatchObject({ c: 2048, h: 10, w: 8 });
    // Neither reading matches: the layout it is given decides.
    expect(grid([1, 58, 122, 64], [64, 128], true)).toMatchObject({ c: 64, h: 58, w: 122, first: false });
  });

  it('settles shapes that read both ways with the layout it is given', () => {
    expect(grid([1, 16, 16, 16], [64, 64])).toMatchObject({ first: true });
    expect(grid([1, 16, 16, 16], [64, 64], true)).toMatchObject({ first: false });
    expect(featureGrid([1, 16, 16, 16], [64, 64], () => 'last')?.channelsFirst).toBe(false);
    // 1024 channels on 14×14 tokens, or 196 on 32×32.
    expect(grid([1, 1024, 196], [224, 224], false)).toMatchObject({ c: 1024, h: 14, w: 14, first: true });
    expect(grid([1, 1024, 196], [224, 224], true)).toMatchObject({ c: 196, h: 32, w: 32, first: false });
  });

  it('finds the patch grid in transformer tokens after class and register tokens', () => {
    expect(grid([1, 197, 768])).toEqual({ c: 768, h: 14, w: 14, first: false, prefix: 1, batch: 0 });
    expect(grid([1, 196, 768])).toMatchObject({ h: 14, w: 14, prefix: 0 });
    expect(grid([1, 198, 384])).toMatchObject({ h: 14, w: 14, prefix: 2 }); // DeiT: class + distillation
    expect(grid([1, 261, 384])).toMatchObject({ h: 16, w: 16, prefix: 5 }); // class + 4 registers
    expect(grid([1, 768, 197])).toEqual({ c: 768, h: 14, w: 14, first: true, prefix: 1, batch: 0 });
    expect(grid([197, 1, 768])).toEqual({ c: 768, h: 14, w: 14, first: false, prefix: 1, batch: 1 });
    expect(grid([1, 1 + 14 * 20, 64], [224, 320], true)).toMatchObject({ h: 14, w: 20, prefix: 1 });
  });

  it('is null for what holds no grid', () => {
    expect(grid([1, 1000])).toBeNull();
    expect(grid([1, 2048, 1, 1])).toBeNull();
    expect(grid([1, 197, 768], null)).toBeNull(); // tokens need the image to be read
    expect(featureGrid([1, 'C', 7, 7], [224, 224])).toBeNull();
    expect(grid([2, 64, 7, 7])).toBeNull();
    expect(grid([1, 1, 1024])).toBeNull(); // a class token sliced off: one "channel" is no grid
  });
});

describe('[C, H, W] views', () => {
  const values = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

  it('transposes channels-last maps and drops prefix tokens, and writes them back', () => {
    // Tokens [1, 1 + 2·3, 4]: token t, channel k holds 10·t + k.
    const g = featureGrid([1, 7, 4], [2, 3], true);
    expect(g).toMatchObject({ channels: 4, height: 2, width: 3, prefix: 1 });
    if (!g) return;
    const native = Float32Array.from({ length: 28 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const chw = toChannelMajor(g, native);
    expect(Array.from(chw.subarray(0, 6))).toEqual([10, 20, 30, 40, 50, 60]);
    expect(Array.from(chw.subarray(18, 24))).toEqual([13, 23, 33, 43, 53, 63]);
    // Two copies, the second with channel 0 zeroed: the class token (t = 0) kept from the template.
    const batch = new Float32Array(48);
    batch.set(chw, 0);
    batch.set(chw, 24);
    batch.fill(0, 24, 30);
    const back = fromChannelMajor(g, batch, native, 2);
    expect(Array.from(back.subarray(0, 28))).toEqual(Array.from(native));
    expect(Array.from(back.subarray(28, 36))).toEqual([0, 1, 2, 3, 0, 11, 12, 13]);
  });

  it('round-trips every layout', () => {
    for (const [shape, image] of [
      [
        [1, 4, 2, 3],
        [2, 3],
      ],
      [
        [1, 2, 3, 4],
        [2, 3],
      ],
      [
        [1, 4, 7],
        [2, 3],
      ],
      [
        [7, 1, 4],
        [2, 3],
      ],
    ] as [number[], [number, number]][]) {
      const g = featureGrid(shape, image);
      expect(g, shape.join()).not.toBeNull();
      if (!g) continue;
      const native = values(shape.reduce((a, d) => a * d, 1));
      expect(Array.from(fromChannelMajor(g, toChannelMajor(g, native), native, 1)), shape.join()).toEqual(Array.from(native));
    }
  });
});

describe('tokens read from the ops around them', () => {
  it('channels first after a feature map is flattened, last where a Linear layer reads them', async () => {
    // A patch embedding: 32² image, 2×2 patches, 64 channels → [1, 64, 256] → Transpose → [1, 256, 64]
    // → Linear. Both tensors read both ways on a 32² image (64 = 8×8, 256 = 16×16).
    const model = buildModel({
      inputs: [valueInfo('x', [1, 3, 32, 32])],
      outputs: [valueInfo('y', [1, 256, 10])],
      initializers: [
        randomTensor('w', [64, 3, 2, 2], rng(1)),
        randomTensor('fc', [64, 10], rng(2)),
        int64Tensor('flat', [1, 64, 256]),
      ],
      nodes: [
        node('Conv', ['x', 'w'], ['patches'], '/embed/Conv', [intsAttr('kernel_shape', [2, 2]), intsAttr('strides', [2, 2])]),
        node('Reshape', ['patches', 'flat'], ['channels_first'], '/embed/Reshape'),
        node('Transpose', ['channels_first'], ['tokens'], '/embed/Transpose', [intsAttr('perm', [0, 2, 1])]),
        node('MatMul', ['tokens', 'fc'], ['y'], '/head/MatMul'),
      ],
    });
    const analysis = await analyzeGraph(
      describeModel(model, 'tokens.onnx', null),
      new Map([['x' as TensorName, [1, 3, 32, 32]]]),
    );
    expect(analysis.gridOf('channels_first' as TensorName)).toMatchObject({
      channels: 64,
      height: 16,
      width: 16,
      channelsFirst: true,
    });
    expect(analysis.gridOf('tokens' as TensorName)).toMatchObject({
      channels: 64,
      height: 16,
      width: 16,
      channelsFirst: false,
    });
  });

  it('a map that matches the image in neither reading is one where a convolution made it', async () => {
    // A text-line model: 32×100 input, strides 16×4 → [1, 8, 2, 25]; its Reshape to [1, 5, 10, 8] has no
    // convolution around it and no image aspect: not a grid.
    const model = buildModel({
      inputs: [valueInfo('x', [1, 3, 32, 100])],
      outputs: [valueInfo('y', [1, 5, 10, 8])],
      initializers: [randomTensor('w', [8, 3, 3, 3], rng(3)), int64Tensor('to', [1, 5, 10, 8])],
      nodes: [
        node('Conv', ['x', 'w'], ['c'], '/conv/Conv', [intsAttr('pads', [1, 1, 1, 1]), intsAttr('strides', [16, 4])]),
        node('Relu', ['c'], ['feat'], '/relu/Relu'),
        node('Reshape', ['feat', 'to'], ['y'], '/reshape/Reshape'),
      ],
    });
    const analysis = await analyzeGraph(describeModel(model, 'crnn.onnx', null), new Map([['x' as TensorName, [1, 3, 32, 100]]]));
    expect(analysis.gridOf('feat' as TensorName)).toMatchObject({ channels: 8, height: 2, width: 25, channelsFirst: true });
    expect(analysis.gridOf('y' as TensorName)).toBeNull();
  });
});
