/**
 * `npx tsx bench/hooked-nodes.ts`: how many nodes the hooked CAM graph of the ResNet-50-shaped bench model
 * (224², four stages, every in-graph method) has in each form (plain, blocked, gpu), by part and op — the
 * dispatch count that bounds the WebGPU run (docs/performance.md, GPU).
 */
import { analyzeGraph } from '../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../src-main/engine/graph/layers';
import { buildHookedModel } from '../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../src-main/engine/hooks/map-graph';
import { describeModel } from '../src-main/engine/model-registry';
import { decodeModel } from '../src-main/engine/onnx/decode-model';
import { resnet50Model } from './resnet50';
const bytes = resnet50Model();
const model = describeModel(bytes, 'r50', null);
const analysis = await analyzeGraph(model, new Map([['input' as never, [1, 3, 224, 224]]]));
const tensors = [...new Set(resolveLayers(analysis, ['stages'], 'r50').map((l) => l.tensor))];
const methods = IN_GRAPH_METHODS;
for (const form of ['plain', 'blocked', 'gpu'] as const) {
  const h = buildHookedModel(analysis, tensors, true, { maps: methods, exposeActivations: false, exposeGradients: false, form });
  const m = decodeModel(h.bytes, 'h');
  const nodes = m.graph!.node;
  const by = (p: string) => nodes.filter((n) => n.name.includes(p) || n.output.some((o) => o.includes(p)));
  const ops = (list: typeof nodes) => {
    const c: Record<string, number> = {};
    for (const n of list) c[n.opType] = (c[n.opType] ?? 0) + 1;
    return Object.entries(c)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
  };
  console.log(
    form,
    'total',
    nodes.length,
    '| backward',
    by('layerlens/grad').length,
    ops(by('layerlens/grad')),
    '| maps',
    by('layerlens/map').length,
    ops(by('layerlens/map')),
    '| Sum',
    nodes.filter((n) => n.opType === 'Sum').length,
    'MaxUnpool',
    nodes.filter((n) => n.opType === 'MaxUnpool').length,
  );
}
console.log('methods', methods.join(','));
