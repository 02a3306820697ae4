/**
 * A ResNet-50-shaped model (torchvision layout: Bottleneck blocks [3, 4, 6, 3], BatchNorm folded into the
 * convolutions as PyTorch's exporter does, scoped node names) with random He-initialised weights, built in
 * memory: benchmarks need its shape and cost, not trained weights, and nothing can be downloaded here.
 */
import { buildModel, floatTensor, intAttr, intsAttr, node, valueInfo } from '../test/helpers/onnx-builder';
import { rng } from '../test/helpers/gradcheck';

type NodeSpec = Parameters<typeof node>;

export function resnet50Model(size = 224, classes = 1000): Uint8Array {
  const random = rng(50);
  const nodes: ReturnType<typeof node>[] = [];
  const initializers: ReturnType<typeof floatTensor>[] = [];
  let counter = 0;
  const gaussian = (): number => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const conv = (scope: string, x: string, cin: number, cout: number, k: number, stride: number): string => {
    const w = `${scope}.weight`;
    const b = `${scope}.bias`;
    const std = Math.sqrt(2 / (cin * k * k));
    initializers.push(
      floatTensor(
        w,
        [cout, cin, k, k],
        Array.from({ length: cout * cin * k * k }, () => gaussian() * std),
      ),
    );
    initializers.push(floatTensor(b, [cout], new Array<number>(cout).fill(0)));
    const y = `/${scope.split('.').join('/')}/Conv_output_${counter++}`;
    const pad = Math.floor(k / 2);
    nodes.push(
      node('Conv', [x, w, b], [y], `/${scope.replace(/\./g, '/')}/Conv`, [
        intsAttr('kernel_shape', [k, k]),
        intsAttr('strides', [stride, stride]),
        intsAttr('pads', [pad, pad, pad, pad]),
      ] as NodeSpec[4]),
    );
    return y;
  };
  const op = (type: string, scope: string, inputs: string[], attrs: NodeSpec[4] = []): string => {
    const y = `/${scope}/${type}_output_${counter++}`;
    nodes.push(node(type, inputs, [y], `/${scope}/${type}`, attrs));
    return y;
  };
  let x = conv('conv1', 'input', 3, 64, 7, 2);
  x = op('Relu', 'relu', [x]);
  x = op(
    'MaxPool',
    'maxpool',
    [x],
    [intsAttr('kernel_shape', [3, 3]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 1, 1])],
  );
  let cin = 64;
  [3, 4, 6, 3].forEach((blocks, li) => {
    const width = 64 * 2 ** li;
    for (let bi = 0; bi < blocks; bi++) {
      const scope = `layer${li + 1}/layer${li + 1}.${bi}`;
      const stride = bi === 0 && li > 0 ? 2 : 1;
      const dotted = `layer${li + 1}.layer${li + 1}.${bi}`;
      let y = op('Relu', `${scope}/relu`, [conv(`${dotted}.conv1`, x, cin, width, 1, 1)]);
      y = op('Relu', `${scope}/relu_1`, [conv(`${dotted}.conv2`, y, width, width, 3, stride)]);
      y = conv(`${dotted}.conv3`, y, width, width * 4, 1, 1);
      const shortcut = bi === 0 ? conv(`${dotted}.downsample.downsample.0`, x, cin, width * 4, 1, stride) : x;
      x = op('Relu', `${scope}/relu_2`, [op('Add', scope, [y, shortcut])]);
      cin = width * 4;
    }
  });
  x = op('GlobalAveragePool', 'avgpool', [x]);
  x = op('Flatten', '', [x]);
  initializers.push(
    floatTensor(
      'fc.weight',
      [classes, cin],
      Array.from({ length: classes * cin }, () => gaussian() * 0.01),
    ),
  );
  initializers.push(floatTensor('fc.bias', [classes], new Array<number>(classes).fill(0)));
  nodes.push(node('Gemm', [x, 'fc.weight', 'fc.bias'], ['logits'], '/fc/Gemm', [intAttr('transB', 1)]));
  return buildModel({
    inputs: [valueInfo('input', ['batch', 3, size, size])],
    outputs: [valueInfo('logits', ['batch', classes])],
    initializers,
    nodes,
    opset: 13,
  });
}
