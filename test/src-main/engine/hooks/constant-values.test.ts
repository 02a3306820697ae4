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

  it('leaves rank-2 integer arithmetic alone instead of pairing flat values', async () => {
    const constants = await constantsOf(
      opModel(
        [
          node('Add', ['col', 'row'], ['sum']),
          node('Concat', ['col', 'col'], ['wide'], 'cat', [intAttr('axis', 1)]),
          node('ReduceMean', ['x'], ['y'], 'mean', [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]),
        ],
        [1, 3, 4, 4],
        {
          initializers: [
            { ...int64Tensor('col', [10, 20]), dims: [2n, 1n] },
            { ...int64Tensor('row', [1, 2]), dims: [1n, 2n] },
          ],
        },
      ),
    );
    expect(constants.ints('sum')).toBeNull();
    expect(constants.ints('wide')).toBeNull();
  });
});
