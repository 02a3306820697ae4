import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { pathFromSegments, scopeOf } from '../../../../src-main/engine/graph/module-scopes';
import { externalWeightModel } from '../../../helpers/onnx-builder';
import { solidPng } from '../../../helpers/images';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, NodeProtoSchema } from 'onnx-buf';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ device: 'cpu' });
});
afterAll(() => engine.dispose());

describe('module paths from PyTorch scopes', () => {
  it.each([
    ['/layer1/layer1.0/conv1/Conv', 'layer1.0.conv1'],
    ['/features/features.3/conv/conv.0/conv.0.0/Conv', 'features.3.conv.0.0'],
    ['/features/denseblock2/denselayer1/norm1/BatchNormalization', 'features.denseblock2.denselayer1.norm1'],
    ['/trunk_output/block2/block2-0/proj/Conv', 'trunk_output.block2.block2-0.proj'],
    ['/Flatten', ''],
  ])('%s → %s', (name, expected) => {
    expect(scopeOf(create(NodeProtoSchema, { name, opType: 'X' }))).toBe(expected);
  });

  it('reads the dynamo exporter’s name_scopes metadata', () => {
    const n = create(NodeProtoSchema, {
      name: 'node_Conv_3',
      opType: 'Conv',
      metadataProps: [{ key: 'pkg.torch.onnx.name_scopes', value: "['', 'layer1', 'layer1.0', 'layer1.0.conv1']" }],
    });
    expect(scopeOf(n)).toBe('layer1.0.conv1');
    expect(pathFromSegments(['layer1', '0', 'conv1'])).toBe('layer1.0.conv1');
  });

  it('gives no scope to names without one', () => {
    expect(scopeOf(create(NodeProtoSchema, { name: 'Conv_12', opType: 'Conv' }))).toBeNull();
  });
});

interface Meta {
  stages: { module: string; tensor: string; shape: number[] }[];
}

describe('stages and shapes of PyTorch exports', () => {
  const expectExact = ['resnet', 'mobilenetv2', 'densenet', 'efficientnet', 'noscope', 'convnext', 'swin', 'vit'];
  it.each(expectExact)('%s: detected stages are the reference stages, with probed shapes', async (dir) => {
    const meta = JSON.parse(await readFile(`test/fixtures/torch/${dir}/meta.json`, 'utf8')) as Meta;
    const model = await engine.models.openPath(`test/fixtures/torch/${dir}/model.onnx`);
    const { graph } = await engine.getGraph({ modelId: model.id });
    expect(graph.hierarchy).toBe(dir === 'noscope' ? 'structural' : 'scopes');
    expect(graph.stages.map((s) => s.tensor)).toEqual(meta.stages.map((s) => s.tensor));
    if (dir !== 'noscope') expect(graph.stages.map((s) => s.module)).toEqual(meta.stages.map((s) => s.module));
    expect(graph.stages.map((s) => s.shape)).toEqual(meta.stages.map((s) => s.shape));
  });

  it('a ViT without module scopes: the same stages, found along its residual stream', async () => {
    // The vit fixture with every node and intermediate tensor renamed (as some exporters and optimisers
    // leave a graph): no blocks to count, so the stages come from the residual stream itself.
    const meta = JSON.parse(await readFile('test/fixtures/torch/vit/meta.json', 'utf8')) as Meta;
    const proto = fromBinary(ModelProtoSchema, await readFile('test/fixtures/torch/vit/model.onnx'));
    const graph = proto.graph;
    if (!graph) throw new Error('no graph');
    const keep = new Set([
      ...graph.input.map((v) => v.name),
      ...graph.output.map((v) => v.name),
      ...graph.initializer.map((t) => t.name),
    ]);
    const renamed = new Map<string, string>();
    const rename = (t: string): string => {
      if (!t || keep.has(t)) return t;
      if (!renamed.has(t)) renamed.set(t, `t_${renamed.size}`);
      return renamed.get(t) as string;
    };
    graph.node.forEach((n, i) => {
      n.name = `node_${i}`;
      n.input = n.input.map(rename);
      n.output = n.output.map(rename);
    });
    graph.valueInfo = [];
    const model = await engine.openModelBytes({ name: 'vit-noscope.onnx', bytes: toBinary(ModelProtoSchema, proto) });
    const { graph: view } = await engine.getGraph({ modelId: model.id });
    expect(view.hierarchy).toBe('structural');
    expect(view.stages).toHaveLength(4);
    for (const s of view.stages) expect(s.shape).toEqual([1, 65, 32]);
    // The same block outputs as with scopes: encoder_layer_1, 3, 5 and the last block's input (6).
    expect(view.stages.map((s) => s.tensor)).toEqual(meta.stages.map((s) => renamed.get(s.tensor)));
  });

  it('VGG: the pools are stages', async () => {
    const meta = JSON.parse(await readFile('test/fixtures/torch/vgg/meta.json', 'utf8')) as Meta;
    const model = await engine.models.openPath('test/fixtures/torch/vgg/model.onnx');
    const { graph } = await engine.getGraph({ modelId: model.id });
    const modules = graph.stages.map((s) => s.module);
    for (const s of meta.stages) expect(modules).toContain(s.module);
  });

  it('every module knows its output tensor and parameter count', async () => {
    const model = await engine.models.openPath('test/fixtures/torch/resnet/model.onnx');
    const { graph } = await engine.getGraph({ modelId: model.id });
    const layer1 = graph.modules.find((m) => m.path === 'layer1');
    expect(layer1?.output).toBe('/layer1/layer1.0/relu_1/Relu_output_0');
    const conv = graph.modules.find((m) => m.path === 'layer1.0.conv1');
    expect(conv?.opType).toBe('Conv');
    expect(conv?.parameterCount).toBe(8 * 8 * 3 * 3 + 8);
    const root = graph.modules.find((m) => m.path === '');
    expect(root?.nodeCount).toBe(graph.nodes.length);
  });

  it('the graph shows the stages a request names (module path or tensor name), refuses a typo, and keeps nothing', async () => {
    const model = await engine.models.openPath('test/fixtures/torch/resnet/model.onnx');
    const chosen = ['layer3', '/layer4/layer4.0/relu_1/Relu_output_0'];
    const set = await engine.getGraph({ modelId: model.id, stages: chosen });
    expect(set.graph.stagesSource).toBe('user');
    expect(set.graph.stages.map((s) => s.module)).toEqual(['layer3', 'layer4']);
    await expect(engine.getGraph({ modelId: model.id, stages: ['layer9'] })).rejects.toThrow(
      /no module or tensor named "layer9"/,
    );
    // No hidden state: the next request without stages sees the detected ones, and so does a CAM request.
    const plain = await engine.getGraph({ modelId: model.id });
    expect(plain.graph.stagesSource).toBe('auto');
    expect(plain.graph.stages).toHaveLength(4);
    const png = await solidPng(32, 32, [120, 40, 200]);
    const cam = await engine.computeCam({
      modelId: model.id,
      image: { kind: 'bytes', name: 'x.png', bytes: png },
      methods: ['gradcam'],
      classIndex: 'top',
      counterfactual: false,
      jobId: 'stages-1',
    });
    expect(cam.result.layers.map((l) => l.module)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    const named = await engine.computeCam({
      modelId: model.id,
      image: { kind: 'bytes', name: 'x.png', bytes: png },
      layers: chosen,
      methods: ['gradcam'],
      classIndex: 'top',
      counterfactual: false,
      jobId: 'stages-2',
    });
    expect(named.result.layers.map((l) => l.label)).toEqual(chosen);
    expect(named.key).not.toBe(cam.key);
  });
});

describe('external data', () => {
  const model = (location: string): Uint8Array => externalWeightModel(location);

  it('reads weights from a file in the model’s folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-ext-'));
    const data = new Float32Array([0, 1, 2, 3, 4]);
    await writeFile(path.join(dir, 'w.bin'), new Uint8Array(data.buffer));
    await writeFile(path.join(dir, 'm.onnx'), model('w.bin'));
    const opened = await engine.models.openPath(path.join(dir, 'm.onnx'));
    const stats = await engine.getWeightStats({ modelId: opened.id, tensor: 'w' as never });
    expect(stats).toMatchObject({ count: 4, min: 1, max: 4, mean: 2.5 });
  });

  it('refuses a link that leads out of the folder', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'layerlens-outside-'));
    await writeFile(path.join(outside, 'secret.bin'), new Uint8Array(64));
    const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-ext-'));
    await symlink(path.join(outside, 'secret.bin'), path.join(dir, 'w.bin'));
    await writeFile(path.join(dir, 'm.onnx'), model('w.bin'));
    await expect(engine.models.openPath(path.join(dir, 'm.onnx'))).rejects.toThrow(/outside the model's folder/);
  });
});
