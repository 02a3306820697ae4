/**
 * Every gradient rule against central finite differences of onnxruntime's forward pass, on random inputs
 * and a spread of attributes (strides, pads, dilations, groups, ceil_mode, broadcasting, opsets).
 */
import { describe, expect, it } from 'vitest';
import {
  floatAttr,
  floatTensor,
  int64Scalar,
  int64Tensor,
  intAttr,
  intsAttr,
  node,
  opModel,
  stringAttr,
} from '../../../helpers/onnx-builder';
import { gradCheck, randomTensor, rng } from '../../../helpers/gradcheck';

const r = rng(42);
const weights = (name: string, dims: number[]) => randomTensor(name, dims, r);

interface Case {
  name: string;
  model: Uint8Array;
  shape: number[];
  /** Linear ops are exact for any step: a large one keeps rounding out of the comparison. */
  linear?: boolean;
  scale?: number;
  /** Piecewise-linear ops (max pooling): inputs spaced apart so that no finite-difference step flips an argmax. */
  distinct?: boolean;
}

const conv = (name: string, shape: number[], w: number[], attrs: Parameters<typeof node>[4], opset = 13): Case => ({
  name,
  shape,
  linear: true,
  model: opModel([node('Conv', ['x', 'W', 'B'], ['y'], 'conv', attrs)], shape, {
    initializers: [weights('W', w), weights('B', [w[0] as number])],
    opset,
  }),
});

const unary = (op: string, attrs: Parameters<typeof node>[4] = [], opset = 13, scale = 1): Case => ({
  name: `${op} ${JSON.stringify(attrs?.map((a) => a.name))}`,
  shape: [2, 3, 4, 5],
  scale,
  model: opModel([node(op, ['x'], ['y'], op, attrs)], [2, 3, 4, 5], { opset }),
});

/**
 * Channel counts divisible by 8 take the blocked-layout forms of the rules (blocked-layout.ts): ReLU masks
 * and spreads as depthwise convolutions, and onnxruntime's fusion of fan-out sums into the adjoint convolutions.
 */
const blockedCases: Case[] = [
  {
    ...unary('Relu'),
    name: 'Relu, 16 channels (mask as a blocked convolution)',
    shape: [2, 16, 3, 4],
    model: opModel([node('Relu', ['x'], ['y'])], [2, 16, 3, 4]),
  },
  {
    name: 'GlobalAveragePool, 16 channels (blocked spread)',
    shape: [2, 16, 3, 4],
    linear: true,
    model: opModel([node('GlobalAveragePool', ['x'], ['y'])], [2, 16, 3, 4]),
  },
  conv('Conv 1×1 stride 2, 16 channels (blocked unpool)', [1, 16, 6, 7], [8, 16, 1, 1], [intsAttr('strides', [2, 2])]),
  conv(
    'Conv 3×3 stride 2, 16 channels (blocked phases)',
    [1, 16, 7, 7],
    [8, 16, 3, 3],
    [intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
  ),
  {
    // Biases of ±3 (half the channels on, half off) against small weights and inputs: every ReLU keeps its
    // side under the finite-difference steps, and both mask values occur.
    name: 'Residual block, 16 channels: ReLU masks, fan-out sum, pooling, all blocked',
    shape: [1, 16, 4, 4],
    scale: 0.2,
    model: opModel(
      [
        node('Conv', ['x', 'W1', 'B'], ['c1'], 'c1', [intsAttr('pads', [1, 1, 1, 1])]),
        node('Relu', ['c1'], ['r1']),
        node('Conv', ['r1', 'W2', 'B'], ['c2'], 'c2', [intsAttr('pads', [1, 1, 1, 1])]),
        node('Add', ['c2', 'x'], ['s']),
        node('Relu', ['s'], ['r2']),
        node('GlobalAveragePool', ['r2'], ['y']),
      ],
      [1, 16, 4, 4],
      {
        initializers: [
          randomTensor('W1', [16, 16, 3, 3], r, 0.05),
          randomTensor('W2', [16, 16, 3, 3], r, 0.05),
          floatTensor(
            'B',
            [16],
            Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 3 : -3)),
          ),
        ],
      },
    ),
  },
];

const cases: Case[] = [
  unary('Relu'),
  unary('LeakyRelu', [floatAttr('alpha', 0.1)]),
  unary('Sigmoid'),
  unary('Tanh'),
  unary('HardSigmoid', [floatAttr('alpha', 0.3), floatAttr('beta', 0.4)]),
  unary('HardSwish', [], 14, 4),
  unary('Identity'),
  {
    name: 'PRelu with per-channel slope',
    shape: [2, 3, 4, 5],
    model: opModel([node('PRelu', ['x', 'slope'], ['y'])], [2, 3, 4, 5], { initializers: [weights('slope', [3, 1, 1])] }),
  },
  {
    name: 'Clip (ReLU6 as exported, opset 13 inputs)',
    shape: [2, 3, 4, 5],
    scale: 8,
    model: opModel([node('Clip', ['x', 'lo', 'hi'], ['y'])], [2, 3, 4, 5], {
      initializers: [floatTensor('lo', [], [0]), floatTensor('hi', [], [6])],
    }),
  },
  {
    name: 'Clip with attributes (opset 9)',
    shape: [2, 3, 4],
    scale: 2,
    model: opModel([node('Clip', ['x'], ['y'], 'clip', [floatAttr('min', -0.5), floatAttr('max', 0.7)])], [2, 3, 4], {
      opset: 9,
    }),
  },
  {
    name: 'Add/Mul/Sub/Div with broadcasting both ways',
    shape: [2, 3, 4, 5],
    model: opModel(
      [
        node('Mul', ['x', 'c'], ['m']),
        node('Add', ['m', 'x'], ['a']),
        node('ReduceMean', ['x'], ['xm'], 'rm', [intsAttr('axes', [0, 2]), intAttr('keepdims', 1)]),
        node('Sub', ['a', 'xm'], ['s']),
        node('Mul', ['x', 'x'], ['sq']),
        node('Add', ['sq', 'one'], ['den']),
        node('Div', ['s', 'den'], ['y']),
      ],
      [2, 3, 4, 5],
      { initializers: [weights('c', [3, 1, 1]), floatTensor('one', [], [1])] },
    ),
  },
  {
    name: 'squeeze-excite style broadcasting Mul (SiLU + channel gate)',
    shape: [1, 4, 5, 5],
    model: opModel(
      [
        node('Sigmoid', ['x'], ['sx']),
        node('Mul', ['x', 'sx'], ['silu']),
        node('GlobalAveragePool', ['silu'], ['pooled']),
        node('Sigmoid', ['pooled'], ['gate']),
        node('Mul', ['silu', 'gate'], ['y']),
      ],
      [1, 4, 5, 5],
    ),
  },
  conv('Conv 3×3 pad 1', [2, 3, 7, 7], [4, 3, 3, 3], [intsAttr('pads', [1, 1, 1, 1])]),
  conv(
    'Conv stride 2 asymmetric pads',
    [1, 3, 8, 9],
    [4, 3, 3, 3],
    [intsAttr('strides', [2, 2]), intsAttr('pads', [0, 1, 1, 0])],
  ),
  conv(
    'Conv 7×7 stride 2 pad 3 (ResNet stem)',
    [1, 3, 15, 15],
    [4, 3, 7, 7],
    [intsAttr('strides', [2, 2]), intsAttr('pads', [3, 3, 3, 3])],
  ),
  conv('Conv stride 1, asymmetric pads, 1×3 kernel', [1, 3, 6, 7], [2, 3, 1, 3], [intsAttr('pads', [0, 2, 1, 0])]),
  conv('Conv stride 1 with pads wider than the kernel reach', [1, 2, 5, 5], [3, 2, 3, 3], [intsAttr('pads', [3, 3, 3, 3])]),
  conv(
    'Conv depthwise stride 1 dilation 2',
    [1, 4, 9, 9],
    [4, 1, 3, 3],
    [intAttr('group', 4), intsAttr('dilations', [2, 2]), intsAttr('pads', [2, 2, 2, 2])],
  ),
  conv('Conv dilation 2', [1, 2, 9, 9], [3, 2, 3, 3], [intsAttr('dilations', [2, 2]), intsAttr('pads', [2, 2, 2, 2])]),
  conv('Conv groups 2', [1, 4, 6, 6], [6, 2, 3, 3], [intAttr('group', 2), intsAttr('pads', [1, 1, 1, 1])]),
  conv(
    'Conv depthwise stride 2',
    [1, 4, 7, 7],
    [4, 1, 3, 3],
    [intAttr('group', 4), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
  ),
  conv(
    'Conv SAME_UPPER stride 2',
    [1, 2, 7, 6],
    [3, 2, 3, 3],
    [stringAttr('auto_pad', 'SAME_UPPER'), intsAttr('strides', [2, 2])],
  ),
  conv('Conv 1×1 stride 2 (downsample), opset 11', [1, 3, 7, 7], [5, 3, 1, 1], [intsAttr('strides', [2, 2])], 11),
  conv('Conv 1×1 stride 2, batch 2, even size', [2, 3, 8, 6], [5, 3, 1, 1], [intsAttr('strides', [2, 2])]),
  conv('Conv 1×1 strides 3×2, groups 2', [1, 4, 7, 5], [6, 2, 1, 1], [intAttr('group', 2), intsAttr('strides', [3, 2])]),
  conv('Conv 1×1 stride 2 with pads', [1, 3, 6, 6], [4, 3, 1, 1], [intsAttr('strides', [2, 2]), intsAttr('pads', [1, 0, 0, 1])]),
  conv('Conv1d 1×1 stride 3', [2, 3, 10], [4, 3, 1], [intsAttr('strides', [3])]),
  conv(
    'Conv 3×3 stride 2, groups 2, batch 2, odd size',
    [2, 4, 9, 8],
    [6, 2, 3, 3],
    [intAttr('group', 2), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
  ),
  conv('Conv 3×3 stride 3 (kernel = stride)', [1, 2, 10, 11], [3, 2, 3, 3], [intsAttr('strides', [3, 3])]),
  conv('Conv 2×2 stride 3 (some inputs never read)', [1, 2, 8, 8], [3, 2, 2, 2], [intsAttr('strides', [3, 3])]),
  conv(
    'Conv 5×5 stride 2, pads 2/1',
    [1, 2, 11, 10],
    [3, 2, 5, 5],
    [intsAttr('strides', [2, 2]), intsAttr('pads', [2, 1, 2, 1])],
  ),
  conv('Conv1d', [2, 3, 11], [4, 3, 3], [intsAttr('strides', [2]), intsAttr('pads', [1, 1])]),
  {
    name: 'ConvTranspose stride 2 output_padding',
    shape: [1, 3, 4, 5],
    linear: true,
    model: opModel(
      [
        node('ConvTranspose', ['x', 'W'], ['y'], 'ct', [
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
          intsAttr('output_padding', [1, 0]),
        ]),
      ],
      [1, 3, 4, 5],
      { initializers: [weights('W', [3, 2, 3, 3])] },
    ),
  },
  {
    name: 'BatchNormalization (inference)',
    shape: [2, 3, 4, 4],
    linear: true,
    model: opModel(
      [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y'], 'bn', [floatAttr('epsilon', 1e-3)])],
      [2, 3, 4, 4],
      {
        initializers: [weights('s', [3]), weights('b', [3]), weights('m', [3]), floatTensor('v', [3], [0.5, 1.5, 2])],
      },
    ),
  },
  {
    // PyTorch writes a parameter equal to another as an Identity of it (DenseNet's fresh BatchNorms).
    name: 'BatchNormalization whose parameters are Identity aliases of initializers',
    shape: [2, 3, 4, 4],
    linear: true,
    model: opModel(
      [
        node('Identity', ['v'], ['v_alias']),
        node('Identity', ['s'], ['s_alias']),
        node('Identity', ['s_alias'], ['s_alias2']),
        node('BatchNormalization', ['x', 's_alias2', 'b', 'm', 'v_alias'], ['y'], 'bn'),
      ],
      [2, 3, 4, 4],
      {
        opset: 9,
        initializers: [weights('s', [3]), weights('b', [3]), weights('m', [3]), floatTensor('v', [3], [0.5, 1.5, 2])],
      },
    ),
  },
  {
    name: 'MaxPool 3×3 stride 2 pad 1 (ResNet)',
    shape: [1, 2, 9, 9],
    distinct: true,

    model: opModel(
      [
        node('MaxPool', ['x'], ['y'], 'mp', [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
        ]),
      ],
      [1, 2, 9, 9],
    ),
  },
  {
    name: 'MaxPool 2×2 ceil_mode on odd size',
    shape: [1, 2, 7, 5],
    distinct: true,

    model: opModel(
      [
        node('MaxPool', ['x'], ['y'], 'mp', [
          intsAttr('kernel_shape', [2, 2]),
          intsAttr('strides', [2, 2]),
          intAttr('ceil_mode', 1),
        ]),
      ],
      [1, 2, 7, 5],
    ),
  },
  {
    // No strided Slice before opset 10: windows are cut as contiguous runs reshaped to [count, stride].
    name: 'MaxPool 3×3 stride 2 pad 1 at opset 9, and 2×3 stride 3×2 on an uneven size',
    shape: [1, 2, 9, 8],
    distinct: true,
    model: opModel(
      [
        node('MaxPool', ['x'], ['p'], 'mp', [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
        ]),
        node('MaxPool', ['p'], ['y'], 'mp2', [intsAttr('kernel_shape', [2, 3]), intsAttr('strides', [3, 2])]),
      ],
      [1, 2, 9, 8],
      { opset: 9 },
    ),
  },
  {
    // No Where before opset 9: masks select by arithmetic.
    name: 'LeakyRelu, Clip, HardSigmoid and MaxPool at opset 8',
    shape: [1, 2, 6, 6],
    distinct: true,
    model: opModel(
      [
        node('LeakyRelu', ['x'], ['l'], 'lr', [floatAttr('alpha', 0.1)]),
        node('Clip', ['l'], ['c'], 'clip', [floatAttr('min', -0.5), floatAttr('max', 0.6)]),
        node('HardSigmoid', ['c'], ['h'], 'hs'),
        node('MaxPool', ['h'], ['y'], 'mp', [intsAttr('kernel_shape', [2, 2]), intsAttr('strides', [2, 2])]),
      ],
      [1, 2, 6, 6],
      { opset: 8 },
    ),
  },
  {
    name: 'MaxPool dilation 2, opset 11',
    shape: [1, 1, 9, 9],
    distinct: true,

    model: opModel(
      [node('MaxPool', ['x'], ['y'], 'mp', [intsAttr('kernel_shape', [2, 2]), intsAttr('dilations', [2, 2])])],
      [1, 1, 9, 9],
      { opset: 11 },
    ),
  },
  {
    name: 'AveragePool 3×3 stride 2 pad 1 excluding pads',
    shape: [1, 2, 7, 7],
    linear: true,
    model: opModel(
      [
        node('AveragePool', ['x'], ['y'], 'ap', [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
        ]),
      ],
      [1, 2, 7, 7],
    ),
  },
  {
    name: 'AveragePool counting pads, ceil_mode',
    shape: [1, 2, 6, 7],
    linear: true,
    model: opModel(
      [
        node('AveragePool', ['x'], ['y'], 'ap', [
          intsAttr('kernel_shape', [3, 3]),
          intsAttr('strides', [2, 2]),
          intsAttr('pads', [1, 1, 1, 1]),
          intAttr('count_include_pad', 1),
          intAttr('ceil_mode', 1),
        ]),
      ],
      [1, 2, 6, 7],
    ),
  },
  {
    name: 'GlobalAveragePool',
    shape: [2, 3, 4, 5],
    linear: true,
    model: opModel([node('GlobalAveragePool', ['x'], ['y'])], [2, 3, 4, 5]),
  },
  {
    name: 'GlobalMaxPool',
    shape: [2, 3, 4, 5],
    distinct: true,
    model: opModel([node('GlobalMaxPool', ['x'], ['y'])], [2, 3, 4, 5]),
  },
  {
    name: 'Flatten → Gemm (transB) like a classifier head',
    shape: [2, 6, 1, 1],
    linear: true,
    model: opModel(
      [
        node('Flatten', ['x'], ['f']),
        node('Gemm', ['f', 'W', 'B'], ['y'], 'fc', [intAttr('transB', 1), floatAttr('alpha', 0.7), floatAttr('beta', 0.3)]),
      ],
      [2, 6, 1, 1],
      {
        initializers: [weights('W', [4, 6]), weights('B', [4])],
      },
    ),
  },
  {
    name: 'Gemm with transA, activation as B',
    shape: [3, 4],
    linear: true,
    model: opModel([node('Gemm', ['A', 'x'], ['y'], 'g', [intAttr('transA', 1)])], [3, 4], {
      initializers: [weights('A', [3, 2])],
    }),
  },
  {
    // Gemm's C is required before opset 11: the adjoint Gemms must carry one too.
    name: 'Gemm at opset 10 (x as A, then as B)',
    shape: [2, 3],
    linear: true,
    model: opModel(
      [
        node('Gemm', ['x', 'W', 'c'], ['h'], 'g1', [intAttr('transB', 1), floatAttr('alpha', 0.5)]),
        node('Gemm', ['V', 'h', 'c'], ['y'], 'g2', [intAttr('transA', 1)]),
      ],
      [2, 3],
      { opset: 10, initializers: [weights('W', [4, 3]), floatTensor('c', [4], [0.1, 0.2, 0.3, 0.4]), weights('V', [2, 5])] },
    ),
  },
  {
    name: 'MatMul with batch broadcasting, both operands from x',
    shape: [2, 3, 4],
    model: opModel(
      [
        node('Transpose', ['x'], ['xt'], 't', [intsAttr('perm', [0, 2, 1])]),
        node('MatMul', ['x', 'xt'], ['xx']),
        node('MatMul', ['xx', 'W'], ['y']),
      ],
      [2, 3, 4],
      { initializers: [weights('W', [3, 2])] },
    ),
  },
  {
    // Attention as MaxViT writes it: both operands from x, a batch index, a contraction.
    name: 'Einsum bhid,bhjd->bhij and bhij,bhjd->bhid (both operands from x)',
    shape: [1, 2, 3, 4],
    model: opModel(
      [
        node('Einsum', ['x', 'x'], ['s'], 'e1', [stringAttr('equation', 'bhid,bhjd->bhij')]),
        node('Einsum', ['s', 'x'], ['y'], 'e2', [stringAttr('equation', 'bhij,bhjd->bhid')]),
      ],
      [1, 2, 3, 4],
      { opset: 12 },
    ),
  },
  {
    name: 'Einsum with a summed index, an ellipsis, implicit output, and one operand',
    shape: [2, 3, 4],
    model: opModel(
      [
        // k is only x's: summed in the forward pass, broadcast back in the adjoint.
        node('Einsum', ['x', 'W'], ['a'], 'e1', [stringAttr('equation', 'ijk,jl->il')]),
        node('Einsum', ['x', 'V'], ['b'], 'e2', [stringAttr('equation', '...k,km')]),
        node('Einsum', ['b'], ['c'], 'e3', [stringAttr('equation', 'ijm->mi')]),
        node('Einsum', ['a', 'c'], ['d'], 'e4', [stringAttr('equation', 'il,mi->lm')]),
        // d (no ellipsis) against a's: broadcast over it in the forward pass, summed over it backward.
        node('Einsum', ['d', 'a'], ['y'], 'e5', [stringAttr('equation', 'lm,...l->...m')]),
      ],
      [2, 3, 4],
      { opset: 12, initializers: [weights('W', [3, 5]), weights('V', [4, 2])] },
    ),
  },
  {
    name: 'Reshape, Squeeze/Unsqueeze (opset 13 inputs), Transpose',
    shape: [2, 3, 4],
    linear: true,
    model: opModel(
      [
        node('Reshape', ['x', 'shape'], ['r']),
        node('Unsqueeze', ['r', 'ax'], ['u']),
        node('Transpose', ['u'], ['t'], 't', [intsAttr('perm', [1, 0, 2])]),
        node('Squeeze', ['t', 'ax1'], ['y']),
      ],
      [2, 3, 4],
      { initializers: [int64Tensor('shape', [6, 4]), int64Tensor('ax', [0]), int64Tensor('ax1', [1])] },
    ),
  },
  {
    name: 'Unsqueeze/Squeeze with attributes (opset 11)',
    shape: [2, 3],
    linear: true,
    model: opModel(
      [
        node('Unsqueeze', ['x'], ['u'], 'u', [intsAttr('axes', [1])]),
        node('Squeeze', ['u'], ['y'], 's', [intsAttr('axes', [1])]),
      ],
      [2, 3],
      { opset: 11 },
    ),
  },
  {
    name: 'Concat and Split (opset 13 split input) with an unused output',
    shape: [1, 4, 3, 3],
    distinct: true,

    model: opModel(
      [
        node('Relu', ['x'], ['rx']),
        node('Concat', ['x', 'rx', 'x'], ['c'], 'cat', [intAttr('axis', 1)]),
        node('Split', ['c', 'sizes'], ['s0', 's1', 's2'], 'split', [intAttr('axis', 1)]),
        node('Add', ['s0', 's2'], ['y']),
      ],
      [1, 4, 3, 3],
      { initializers: [int64Tensor('sizes', [5, 2, 5])] },
    ),
  },
  {
    name: 'Split with split attribute (opset 11)',
    shape: [2, 6],
    linear: true,
    model: opModel(
      [
        node('Split', ['x'], ['a', 'b'], 'split', [intAttr('axis', 1), intsAttr('split', [2, 4])]),
        node('Concat', ['b', 'a'], ['y'], 'cat', [intAttr('axis', 1)]),
      ],
      [2, 6],
      {
        opset: 11,
      },
    ),
  },
  {
    name: 'Slice with negative starts and clamped ends',
    shape: [2, 5, 6],
    linear: true,
    model: opModel([node('Slice', ['x', 'st', 'en', 'ax'], ['y'])], [2, 5, 6], {
      initializers: [int64Tensor('st', [1, -4]), int64Tensor('en', [100, -1]), int64Tensor('ax', [1, 2])],
    }),
  },
  {
    // torch.chunk and flatten as exporters write them: starts, ends and shapes computed from Shape.
    name: 'Slice and Reshape whose inputs are shape arithmetic (folded at the static shape)',
    shape: [2, 6, 3],
    linear: true,
    model: opModel(
      [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'one'], ['c'], 'g1', [intAttr('axis', 0)]),
        node('Div', ['c', 'two'], ['half']),
        node('Mul', ['half', 'two'], ['full']),
        node('Unsqueeze', ['half', 'ax0'], ['st']),
        node('Unsqueeze', ['full', 'ax0'], ['en']),
        node('Slice', ['x', 'st', 'en', 'ax1'], ['second'], 'chunk'),
        node('Gather', ['s', 'zero'], ['n'], 'g0', [intAttr('axis', 0)]),
        node('Unsqueeze', ['n', 'ax0'], ['n1']),
        node('Concat', ['n1', 'minus1'], ['flat'], 'cat', [intAttr('axis', 0)]),
        node('Reshape', ['second', 'flat'], ['y'], 'flatten'),
      ],
      [2, 6, 3],
      {
        initializers: [
          int64Scalar('one', 1),
          int64Scalar('zero', 0),
          int64Scalar('two', 2),
          int64Tensor('ax0', [0]),
          int64Tensor('ax1', [1]),
          int64Tensor('minus1', [-1]),
        ],
      },
    ),
  },
  {
    // LayerNorm as torch exports it before opset 17: ReduceMean, Sub, Pow 2, Add ε, Sqrt, Div.
    name: 'decomposed LayerNorm (Pow, Sqrt) with Exp, Log and Reciprocal',
    shape: [2, 3, 5],
    model: opModel(
      [
        node('ReduceMean', ['x'], ['m'], 'mean', [intsAttr('axes', [-1])]),
        node('Sub', ['x', 'm'], ['d']),
        node('Pow', ['d', 'two'], ['d2']),
        node('ReduceMean', ['d2'], ['v'], 'var', [intsAttr('axes', [-1])]),
        node('Add', ['v', 'eps'], ['ve']),
        node('Sqrt', ['ve'], ['s']),
        node('Div', ['d', 's'], ['n']),
        node('Exp', ['n'], ['e']),
        node('Log', ['e'], ['l']),
        node('Pow', ['x', 'three'], ['c']),
        node('Reciprocal', ['ve'], ['r']),
        node('Add', ['l', 'c'], ['lc']),
        node('Mul', ['lc', 'r'], ['y']),
      ],
      [2, 3, 5],
      { initializers: [floatTensor('two', [], [2]), floatTensor('three', [], [3]), floatTensor('eps', [], [1e-5])] },
    ),
  },
  {
    name: 'Erf (GELU as x·(1 + erf(x/√2))/2)',
    shape: [2, 6],
    model: opModel(
      [
        node('Div', ['x', 'root2'], ['u']),
        node('Erf', ['u'], ['e']),
        node('Add', ['e', 'one'], ['p']),
        node('Mul', ['x', 'p'], ['q']),
        node('Mul', ['q', 'half'], ['y']),
      ],
      [2, 6],
      { initializers: [floatTensor('root2', [], [Math.SQRT2]), floatTensor('one', [], [1]), floatTensor('half', [], [0.5])] },
    ),
  },
  {
    name: 'Gelu (opset 20, exact)',
    shape: [2, 6],
    model: opModel([node('Gelu', ['x'], ['y'], 'gelu')], [2, 6], { opset: 20 }),
  },
  {
    name: 'Gelu (opset 20, tanh approximation)',
    shape: [2, 6],
    model: opModel([node('Gelu', ['x'], ['y'], 'gelu', [stringAttr('approximate', 'tanh')])], [2, 6], { opset: 20 }),
  },
  {
    name: 'LayerNormalization (opset 17) over the last two axes, with scale and bias',
    shape: [2, 3, 4],
    model: opModel([node('LayerNormalization', ['x', 'scale', 'bias'], ['y'], 'ln', [intAttr('axis', 1)])], [2, 3, 4], {
      opset: 17,
      initializers: [randomTensor('scale', [3, 4], rng(7)), randomTensor('bias', [3, 4], rng(8))],
    }),
  },
  {
    name: 'LayerNormalization (opset 17), last axis, no bias',
    shape: [2, 5, 6],
    model: opModel([node('LayerNormalization', ['x', 'scale'], ['y'], 'ln', [floatAttr('epsilon', 1e-3)])], [2, 5, 6], {
      opset: 17,
      initializers: [randomTensor('scale', [6], rng(9))],
    }),
  },
  {
    name: 'Gather: a class token (scalar index) and repeated indices on another axis',
    shape: [2, 5, 3],
    linear: true,
    model: opModel(
      [
        node('Gather', ['x', 'token'], ['t'], 'cls', [intAttr('axis', 1)]),
        node('Gather', ['x', 'picks'], ['p'], 'pick', [intAttr('axis', 2)]),
        node('ReduceSum', ['p'], ['s'], 'sum', [intsAttr('axes', [2]), intAttr('keepdims', 0)]),
        node('Mul', ['s', 'w'], ['sw']),
        node('Concat', ['t', 'sw'], ['y'], 'cat', [intAttr('axis', 1)]),
      ],
      [2, 5, 3],
      {
        opset: 11,
        initializers: [int64Scalar('token', 0), int64Tensor('picks', [2, -1, 0, 2]), randomTensor('w', [5], rng(3))],
      },
    ),
  },
  {
    // Swin's patch merging: x[:, 0::2, 1::2] and its neighbours, concatenated.
    name: 'strided Slice (steps 2 and 3, offsets, ends past the input)',
    shape: [1, 7, 8],
    model: opModel(
      [
        node('Slice', ['x', 'st1', 'en1', 'ax', 'two'], ['a'], 's1'),
        node('Slice', ['x', 'st2', 'en2', 'ax', 'two'], ['b'], 's2'),
        node('Slice', ['x', 'st3', 'en3', 'ax1', 'three'], ['c'], 's3'),
        node('Mul', ['a', 'b'], ['ab']),
        node('ReduceSum', ['c'], ['cs'], 'sum', [intAttr('keepdims', 0)]),
        node('Mul', ['ab', 'cs'], ['y']),
      ],
      [1, 7, 8],
      {
        initializers: [
          int64Tensor('st1', [0, 1]),
          int64Tensor('en1', [6, 100]),
          int64Tensor('st2', [1, 0]),
          int64Tensor('en2', [100, 8]),
          int64Tensor('ax', [1, 2]),
          int64Tensor('two', [2, 2]),
          int64Tensor('st3', [2]),
          int64Tensor('en3', [-1]),
          int64Tensor('ax1', [2]),
          int64Tensor('three', [3]),
        ],
      },
    ),
  },
  {
    name: 'Pad constant (opset 13 inputs)',
    shape: [1, 2, 3, 4],
    linear: true,
    model: opModel([node('Pad', ['x', 'pads', 'v'], ['y'], 'pad', [stringAttr('mode', 'constant')])], [1, 2, 3, 4], {
      initializers: [int64Tensor('pads', [0, 0, 1, 2, 0, 1, 0, 3]), floatTensor('v', [], [0.5])],
    }),
  },
  {
    name: 'ReduceMean keepdims 0 (opset 18 axes input)',
    shape: [2, 3, 4],
    linear: true,
    model: opModel([node('ReduceMean', ['x', 'axes'], ['y'], 'rm', [intAttr('keepdims', 0)])], [2, 3, 4], {
      opset: 18,
      initializers: [int64Tensor('axes', [1, 2])],
    }),
  },
  {
    name: 'Softmax (opset 13, last axis)',
    shape: [2, 3, 5],
    model: opModel([node('Softmax', ['x'], ['s'], 'sm', [intAttr('axis', -1)]), node('Identity', ['s'], ['y'])], [2, 3, 5]),
  },
  {
    name: 'Softmax (opset 11 coerces to 2-D from axis 1)',
    shape: [2, 3, 2, 2],
    model: opModel([node('Softmax', ['x'], ['s'], 'sm', [intAttr('axis', 1)]), node('Identity', ['s'], ['y'])], [2, 3, 2, 2], {
      opset: 11,
    }),
  },
  {
    name: 'LogSoftmax',
    shape: [3, 4],
    model: opModel([node('LogSoftmax', ['x'], ['s'], 'lsm', [intAttr('axis', 1)]), node('Identity', ['s'], ['y'])], [3, 4]),
  },
  {
    name: 'Dropout (inference) and fan-out summing',
    shape: [2, 4],
    model: opModel([node('Dropout', ['x'], ['d']), node('Tanh', ['d'], ['t']), node('Mul', ['t', 'x'], ['y'])], [2, 4]),
  },
];

describe.each(['blocked', 'gpu'] as const)('gradient rules match finite differences (%s form)', (form) => {
  for (const c of [...cases, ...blockedCases]) {
    it(c.name, async () => {
      for (const seed of [1, 2]) {
        const result = await gradCheck(c.model, c.shape, {
          form,
          seed,
          epsilon: c.linear ? 0.5 : c.distinct ? 5e-3 : 2e-3,
          inputScale: c.scale ?? 1,
          distinct: c.distinct ?? false,
        });
        expect(result.maxRelativeError, `seed ${seed}: analytic ${result.analytic} vs numeric ${result.numeric}`).toBeLessThan(
          c.linear ? 1e-4 : c.distinct ? 1e-3 : 5e-3,
        );
      }
    });
  }
});

describe('gradient errors name the node and op', () => {
  it('refuses an op it has no rule for, pointing to the gradient-free methods', async () => {
    const model = opModel([node('Relu', ['x'], ['r'], '/block/relu/Relu'), node('Sin', ['r'], ['y'], '/block/sin/Sin')], [1, 4]);
    await expect(gradCheck(model, [1, 4])).rejects.toThrow(/node "\/block\/sin\/Sin" \(Sin\).*gradient-free methods/);
  });

  it('refuses reversed slices rather than computing a wrong gradient', async () => {
    const model = opModel([node('Slice', ['x', 'st', 'en', 'ax', 'steps'], ['y'], 'reversed')], [1, 8], {
      initializers: [int64Tensor('st', [7]), int64Tensor('en', [-9]), int64Tensor('ax', [1]), int64Tensor('steps', [-1])],
    });
    await expect(gradCheck(model, [1, 8])).rejects.toThrow(/node "reversed" \(Slice\): reversed/);
  });
});
