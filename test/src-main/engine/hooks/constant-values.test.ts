import { describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { analyzeGraph } from '../../../../src-main/engine/graph/analyze-graph';
import { ConstantValues } from '../../../../src-main/engine/hooks/constant-values';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { int64Scalar, int64Tensor, intAttr, intsAttr, node, opModel } from '../../../helpers/onnx-builder';

/** The analysed model's constants at input shape [1, 3, 4, 4]. */
async function constantsOf(bytes: Uint8Array): Promise<ConstantValues> {
  const analysis = await analyzeGraph(describeModel(bytes, 'm.onnx', null), new Map([['x' as TensorName, [1, 3, 4, 4]]]));
  return ConstantValues.of(analysis);
}

describe('constant values: shape arithmetic', () => {
  it('folds what follows from the input shape, variadic Max included', async () => {
    const constants = await constantsOf(
      opModel(
        [
          node('Shape', ['x'], ['s']),
          node('Gather', ['s', 'one'], ['c']),
          node('Div', ['c', 'two'], ['half']),
          node('Shape', ['x'], ['tail'], 'tail', [intAttr('start', -2)]),
          node('Max', ['tail', 'three', 'half'], ['m']),
          node('Flatten', ['x'], ['f']),
          node('Size', ['f'], ['n']),
          node('ReduceMean', ['x'], ['y'], 'mean', [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]),
        ],
        [1, 3, 4, 4],
        // Shape's start attribute is opset 15.
        { opset: 15, initializers: [int64Scalar('one', 1), int64Scalar('two', 2), int64Tensor('three', [3])] },
      ),
    );
    expect(constants.ints('half')).toEqual([1]);
    expect(constants.ints('m')).toEqual([4, 4]);
    expect(constants.ints('n')).toEqual([48]);
  });

  it('does not fold a shape that depends on the data (the probe ran on one input)', async () => {
    const constants = await constantsOf(
      opModel(
        [
          node('NonZero', ['x'], ['nz']),
          node('Shape', ['nz'], ['s']),
          node('Gather', ['s', 'one'], ['count']),
          // A Reshape to a size computed from the data count: its shape is no more static.
          node('Reshape', ['x', 'flat'], ['r']),
          node('Shape', ['r'], ['rs']),
          node('ReduceMean', ['x'], ['y'], 'mean', [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]),
        ],
        [1, 3, 4, 4],
        { initializers: [int64Scalar('one', 1), int64Tensor('flat', [1, -1])] },
      ),
    );
    expect(constants.ints('count')).toBeNull();
    // …while a Reshape to a constant shape is static.
    expect(constants.ints('rs')).toEqual([1, 48]);
  });

  it('folds rank-2 integer arithmetic with numpy broadcasting, Concat, Transpose and reversed Slice', async () => {
    const constants = await constantsOf(
      opModel(
        [
          node('Add', ['col', 'row'], ['sum']),
          node('Concat', ['col', 'col'], ['wide'], 'cat', [intAttr('axis', 1)]),
          // F.pad's pads as PyTorch exports them: reshape to pairs, reverse the rows, transpose, flatten.
          node('Reshape', ['sum', 'pairs'], ['p']),
          node('Slice', ['p', 'minus1', 'huge', 'zero', 'minus1'], ['reversed'], 'rev'),
          node('Transpose', ['reversed'], ['t'], 'tr', [intsAttr('perm', [1, 0])]),
          node('Reshape', ['t', 'flat'], ['pads']),
          node('ReduceMean', ['x'], ['y'], 'mean', [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]),
        ],
        [1, 3, 4, 4],
        {
          initializers: [
            { ...int64Tensor('col', [10, 20]), dims: [2n, 1n] },
            { ...int64Tensor('row', [1, 2]), dims: [1n, 2n] },
            int64Tensor('pairs', [-1, 2]),
            int64Tensor('minus1', [-1]),
            int64Tensor('huge', [-1000]),
            int64Tensor('zero', [0]),
            int64Tensor('flat', [-1]),
          ],
        },
      ),
    );
    expect(constants.ints('sum')).toEqual([11, 12, 21, 22]);
    expect(constants.ints('wide')).toEqual([10, 10, 20, 20]);
    // [[11, 12], [21, 22]] reversed → [[21, 22], [11, 12]], transposed → [[21, 11], [22, 12]].
    expect(constants.ints('pads')).toEqual([21, 11, 22, 12]);
  });
});
