/** Colour families for op types, so a glance tells convolutions from activations from reshapes. */

const FAMILIES: [color: string, ops: string[]][] = [
  ['#4f8dff', ['Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'DeformConv']],
  [
    '#3fb68b',
    [
      'Relu',
      'LeakyRelu',
      'PRelu',
      'Clip',
      'Sigmoid',
      'HardSigmoid',
      'HardSwish',
      'Tanh',
      'Elu',
      'Selu',
      'Softplus',
      'Mish',
      'Gelu',
      'Erf',
      'Softmax',
      'LogSoftmax',
    ],
  ],
  ['#c678dd', ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'Resize', 'Upsample']],
  [
    '#e5c07b',
    ['BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization', 'LpNormalization', 'LRN'],
  ],
  ['#56b6c2', ['Gemm', 'MatMul', 'MatMulInteger', 'QLinearMatMul', 'Einsum', 'Attention']],
  [
    '#d19a66',
    [
      'Add',
      'Sub',
      'Mul',
      'Div',
      'Sum',
      'Mean',
      'Max',
      'Min',
      'Pow',
      'Sqrt',
      'Exp',
      'Log',
      'Neg',
      'Abs',
      'ReduceMean',
      'ReduceSum',
      'ReduceMax',
    ],
  ],
];

const BY_OP = new Map<string, string>(FAMILIES.flatMap(([color, ops]) => ops.map((op): [string, string] => [op, color])));
const OTHER = '#7d8594';

export function opColor(op: string | null | undefined): string {
  return (op && BY_OP.get(op)) || OTHER;
}

/** Stage outlines and badges. */
export const STAGE_COLOR = '#35b7d6';
