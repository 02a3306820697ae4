import { parseArgs } from 'node:util';
import type { Dim } from '../../../../src-shared/api';
import type { GraphView, ModulePath, ModuleView } from '../../../../src-shared/graph';
import { Engine } from '../../../engine/engine';
import { UsageError } from '../errors';

interface ModuleJson {
  path: string;
  name: string;
  op: string | null;
  nodes: number;
  params: number;
  output: string | null;
  shape: Dim[] | null;
  children: ModuleJson[];
}

function moduleJson(view: GraphView, path: ModulePath, shapeOf: (t: string | null) => Dim[] | null): ModuleJson {
  const byPath = new Map(view.modules.map((m) => [m.path, m]));
  const build = (m: ModuleView): ModuleJson => ({
    path: m.path,
    name: m.name,
    op: m.opType,
    nodes: m.nodeCount,
    params: m.parameterCount,
    output: m.output,
    shape: shapeOf(m.output),
    children: m.children.map((c) => build(byPath.get(c) as ModuleView)),
  });
  return build(byPath.get(path) as ModuleView);
}

const shapeText = (s: Dim[] | null): string => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '[?]');

export async function graphCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, depth: { type: 'string' } },
  });
  const [modelPath, ...extra] = positionals;
  if (!modelPath || extra.length > 0) throw new UsageError('graph takes one MODEL');
  const depth = values.depth === undefined ? 2 : Number(values.depth);
  if (!Number.isInteger(depth) || depth < 0) throw new UsageError('--depth must be a non-negative integer');
  const engine = await Engine.create({ device: 'cpu' });
  try {
    const model = await engine.models.openPath(modelPath);
    const { graph, warnings } = await engine.getGraph({ modelId: model.id });
    const shapes = new Map(graph.tensors.map((t) => [t.name as string, t.shape]));
    const shapeOf = (t: string | null): Dim[] | null => (t ? (shapes.get(t) ?? null) : null);
    const root = moduleJson(graph, '' as ModulePath, shapeOf);
    const summary = model.summary;
    if (values.json) {
      out(
        JSON.stringify({
          name: summary.name,
          ir_version: summary.irVersion,
          opset: graph.opset,
          opsets: summary.opsets,
          producer: summary.producer,
          inputs: summary.inputs,
          outputs: summary.outputs,
          node_count: graph.nodes.length,
          op_histogram: graph.opHistogram,
          hierarchy: graph.hierarchy,
          modules: root.children,
          stages: graph.stages.map((s) => ({ module: s.module, tensor: s.tensor, shape: s.shape })),
          warnings,
        }),
      );
      return;
    }
    out(
      `${summary.name}: opset ${graph.opset ?? '?'}, IR ${summary.irVersion}, ${graph.nodes.length} nodes, producer ${summary.producer}`,
    );
    for (const i of summary.inputs) out(`  input  ${i.name} ${i.dtype} ${shapeText(i.shape)}`);
    for (const o of summary.outputs) out(`  output ${o.name} ${o.dtype} ${shapeText(o.shape)}`);
    out('\nOps:');
    const ops = Object.entries(graph.opHistogram).sort((a, b) => b[1] - a[1]);
    out(`  ${ops.map(([op, n]) => `${op} ${n}`).join(', ')}`);
    out(`\nModules (${graph.hierarchy === 'scopes' ? 'from node-name scopes' : 'structural: the model has no scopes'}):`);
    const print = (m: ModuleJson, level: number): void => {
      if (level > depth) return;
      const label = m.op ? `${m.name} (${m.op})` : `${m.name} [${m.nodes} nodes]`;
      out(
        `${'  '.repeat(level)}${label} → ${shapeText(m.shape)}${m.params ? `, ${m.params.toLocaleString('en-US')} params` : ''}`,
      );
      for (const c of m.children) print(c, level + 1);
    };
    for (const c of root.children) print(c, 1);
    out('\nStages:');
    if (graph.stages.length === 0) out('  none (no 4-D feature maps found)');
    for (const s of graph.stages) out(`  ${s.module || '(root)'}  ${shapeText(s.shape)}  ${s.tensor}`);
    for (const w of warnings) out(`\nwarning: ${w}`);
  } finally {
    engine.dispose();
  }
}
