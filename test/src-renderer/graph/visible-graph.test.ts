import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import type { Dim, TensorName } from '../../../src-shared/api';
import type { GraphNodeView, GraphView, ModulePath, ModuleView, TensorView } from '../../../src-shared/graph';
import { fromElkGraph, LAYOUT_OPTIONS, toElkGraph } from '../../../src-renderer/src/graph/elk-graph';
import { buildGraphIndex } from '../../../src-renderer/src/graph/graph-index';
import { estimateText, fitText, prepareLayout } from '../../../src-renderer/src/graph/layout-input';
import { labelPlace } from '../../../src-renderer/src/graph/shown-graph';
import { centerOn, fitView, zoomAt } from '../../../src-renderer/src/graph/viewport';
import {
  buildVisibleGraph,
  defaultExpanded,
  expandableModules,
  itemForTarget,
  itemText,
  revealTarget,
  searchGraph,
} from '../../../src-renderer/src/graph/visible-graph';

const T = (s: string): TensorName => s as TensorName;
const M = (s: string): ModulePath => s as ModulePath;

/**
 * A tiny ResNet-like graph built like the engine builds GraphViews:
 *   input → stem (Conv) → block.0 {conv, relu, Add(skip)} → block.1 {conv, relu, Add(skip)} → fc (Gemm) → logits
 * with `block` as the one stage.
 */
function tinyResNet(): GraphView {
  const nodes: GraphNodeView[] = [];
  const tensors = new Map<string, TensorView>();
  const shapes: Record<string, Dim[]> = {};
  const tensor = (name: string, kind: TensorView['kind'], shape: Dim[] | null = null): void => {
    tensors.set(name, { name: T(name), dtype: 'float32', shape, shapeSource: 'probe', kind, producer: null, consumers: [] });
  };
  const add = (opType: string, module: string, inputs: string[], output: string, shape: Dim[]): void => {
    const index = nodes.length;
    nodes.push({
      index,
      name: `/${module.replace(/\./g, '/')}/${opType}`,
      opType,
      domain: '',
      inputs: inputs.map(T),
      outputs: [T(output)],
      module: M(module),
      attributes: {},
      subgraphs: [],
    });
    for (const i of inputs) tensors.get(i)?.consumers.push(index);
    if (!tensors.has(output)) tensor(output, output === 'logits' ? 'output' : 'intermediate', shape);
    (tensors.get(output) as TensorView).producer = index;
    shapes[output] = shape;
  };
  tensor('input', 'input', ['batch', 3, 8, 8]);
  for (const w of ['stem.w', 'b0.w', 'b1.w', 'fc.w']) tensor(w, 'initializer', [4, 4, 3, 3]);
  add('Conv', 'stem', ['input', 'stem.w'], 'stem.out', [1, 4, 8, 8]);
  add('Conv', 'block.0.conv', ['stem.out', 'b0.w'], 'b0.conv', [1, 4, 8, 8]);
  add('Relu', 'block.0.relu', ['b0.conv'], 'b0.relu', [1, 4, 8, 8]);
  add('Add', 'block.0', ['b0.relu', 'stem.out'], 'b0.out', [1, 4, 8, 8]);
  add('Conv', 'block.1.conv', ['b0.out', 'b1.w'], 'b1.conv', [1, 4, 8, 8]);
  add('Relu', 'block.1.relu', ['b1.conv'], 'b1.relu', [1, 4, 8, 8]);
  add('Add', 'block.1', ['b1.relu', 'b0.out'], 'b1.out', [1, 4, 8, 8]);
  add('Gemm', 'fc', ['b1.out', 'fc.w'], 'logits', [1, 6]);

  const modules = new Map<string, ModuleView>();
  const ensure = (path: string): ModuleView => {
    let m = modules.get(path);
    if (m) return m;
    const parent = path === '' ? null : path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    m = {
      path: M(path),
      name: path.slice(path.lastIndexOf('.') + 1),
      parent: parent === null ? null : M(parent),
      children: [],
      nodes: [],
      nodeCount: 0,
      output: null,
      opType: null,
      parameterCount: 0,
    };
    modules.set(path, m);
    if (parent !== null) ensure(parent).children.push(M(path));
    return m;
  };
  ensure('');
  for (const n of nodes) {
    ensure(n.module).nodes.push(n.index);
    for (let p: string | null = n.module; p !== null; p = modules.get(p)?.parent ?? null) {
      const m = ensure(p);
      m.nodeCount += 1;
      m.output = n.outputs[0] ?? null;
    }
  }
  for (const m of modules.values()) if (m.nodeCount === 1) m.opType = nodes[m.nodes[0] ?? -1]?.opType ?? null;

  return {
    opset: 13,
    nodes,
    tensors: [...tensors.values()],
    modules: [...modules.values()],
    stages: [{ module: M('block'), tensor: T('b1.out'), shape: [1, 4, 8, 8] }],
    stagesSource: 'auto',
    hierarchy: 'scopes',
    opHistogram: { Conv: 3, Relu: 2, Add: 2, Gemm: 1 },
  };
}

const graph = tinyResNet();
const index = buildGraphIndex(graph);
const ids = (g: ReturnType<typeof buildVisibleGraph>): string[] => g.items.map((i) => i.id);
const edgePairs = (g: ReturnType<typeof buildVisibleGraph>): string[] => g.edges.map((e) => `${e.source}>${e.target}`);

describe('the graph index', () => {
  it('knows lineages, one-op modules, op mixes, module inputs and parameters', () => {
    expect(index.lineage(M('block.0.conv'))).toEqual(['block', 'block.0', 'block.0.conv']);
    expect(index.isTransparent(M('block.0.conv'))).toBe(true);
    expect(index.isTransparent(M('block'))).toBe(false);
    expect(index.moduleOps(M('block'))).toEqual([
      ['Add', 2],
      ['Conv', 2],
      ['Relu', 2],
    ]);
    expect(index.moduleInputs(M('block.1'))).toEqual(['b0.out']);
    expect(index.moduleInputs(M('block'))).toEqual(['stem.out']);
    expect(index.nodeParameterCount(graph.nodes[0] as GraphNodeView)).toBe(4 * 4 * 3 * 3);
    expect(index.stageOfModule.get(M('block'))).toBe(0);
  });
});

describe('the visible graph', () => {
  it('fully expanded: groups around their ops, one-op modules drawn as their op, io at the ends', () => {
    const all = new Set(expandableModules(index));
    expect([...all].sort()).toEqual(['block', 'block.0', 'block.1']);
    const g = buildVisibleGraph(index, all);
    expect(ids(g)).toEqual([
      'i:input',
      'n:0',
      'm:block',
      'm:block.0',
      'n:1',
      'n:2',
      'n:3',
      'm:block.1',
      'n:4',
      'n:5',
      'n:6',
      'n:7',
      'o:logits',
    ]);
    expect(g.byId.get('m:block')).toMatchObject({ kind: 'group', parent: null, depth: 0, stages: [0] });
    expect(g.byId.get('m:block.0')).toMatchObject({ kind: 'group', parent: 'm:block', depth: 1 });
    expect(g.byId.get('n:1')).toMatchObject({ kind: 'node', parent: 'm:block.0', module: 'block.0.conv' });
    expect(g.byId.get('n:3')).toMatchObject({ kind: 'node', parent: 'm:block.0', module: 'block.0' });
    expect(g.byId.get('n:7')).toMatchObject({ kind: 'node', parent: null, module: 'fc' });
    // One edge per tensor use, the skip connections included; initializers are not drawn.
    expect(edgePairs(g).sort()).toEqual(
      [
        'i:input>n:0',
        'n:0>n:1',
        'n:0>n:3',
        'n:1>n:2',
        'n:2>n:3',
        'n:3>n:4',
        'n:3>n:6',
        'n:4>n:5',
        'n:5>n:6',
        'n:6>n:7',
        'n:7>o:logits',
      ].sort(),
    );
  });

  it('collapsed: a module is one box; edges into it are deduplicated and internal ones vanish', () => {
    const g = buildVisibleGraph(index, new Set());
    expect(ids(g)).toEqual(['i:input', 'n:0', 'm:block', 'n:7', 'o:logits']);
    expect(g.byId.get('m:block')).toMatchObject({ kind: 'module', stages: [0] });
    // stem.out feeds the conv and the Add of block.0: both are inside the box, so one edge carrying it once.
    expect(g.edges.find((e) => e.source === 'n:0' && e.target === 'm:block')?.tensors).toEqual(['stem.out']);
    expect(edgePairs(g)).toEqual(['i:input>n:0', 'n:0>m:block', 'm:block>n:7', 'n:7>o:logits']);
    expect(g.itemOfNode).toEqual(['n:0', 'm:block', 'm:block', 'm:block', 'm:block', 'm:block', 'm:block', 'n:7']);
  });

  it('a collapsed child inside an open parent; the key tells structures apart', () => {
    const g = buildVisibleGraph(index, new Set([M('block'), M('block.0')]));
    expect(g.byId.get('m:block')?.kind).toBe('group');
    expect(g.byId.get('m:block.1')).toMatchObject({ kind: 'module', parent: 'm:block', depth: 1 });
    expect(edgePairs(g)).toContain('n:3>m:block.1');
    expect(edgePairs(g)).toContain('m:block.1>n:7');
    // An open module hidden inside a closed one changes nothing that is shown.
    const hidden = buildVisibleGraph(index, new Set([M('block.0')]));
    expect(hidden.key).toBe(buildVisibleGraph(index, new Set()).key);
    expect(g.key).not.toBe(hidden.key);
  });

  it('opens small graphs fully and large ones level by level within a budget', () => {
    expect(defaultExpanded(index)).toEqual(new Set(['block', 'block.0', 'block.1']));
    // As if large: level 1 (block) fits in 6 items, level 2 (its blocks) would not.
    expect(defaultExpanded(index, { expandAllUpTo: 0, budget: 6 })).toEqual(new Set(['block']));
    expect(defaultExpanded(index, { expandAllUpTo: 0, budget: 4 })).toEqual(new Set());
  });

  it('reveals a hidden op by opening what hides it, and finds items for targets', () => {
    const closed = new Set<ModulePath>();
    const opened = revealTarget(index, closed, { kind: 'node', index: 5 });
    expect(opened).toEqual(new Set(['block', 'block.1']));
    expect(itemForTarget(index, buildVisibleGraph(index, closed), { kind: 'node', index: 5 })).toBe('m:block');
    expect(itemForTarget(index, buildVisibleGraph(index, opened), { kind: 'node', index: 5 })).toBe('n:5');
    expect(itemForTarget(index, buildVisibleGraph(index, closed), { kind: 'module', path: M('block.1') })).toBe('m:block');
    // Revealing a module opens its ancestors, not the module itself.
    expect(revealTarget(index, closed, { kind: 'module', path: M('block.1') })).toEqual(new Set(['block']));
  });

  it('searches modules, op types and node names', () => {
    expect(searchGraph(index, 'gemm').map((h) => h.target)).toEqual([{ kind: 'node', index: 7 }]);
    expect(searchGraph(index, 'block.1').map((h) => h.target)).toEqual([
      { kind: 'module', path: 'block.1' },
      { kind: 'node', index: 4 },
      { kind: 'node', index: 5 },
      { kind: 'node', index: 6 },
    ]);
    expect(searchGraph(index, '  ')).toEqual([]);
  });

  it('describes a collapsed module by name, size, op mix and output shape', () => {
    const g = buildVisibleGraph(index, new Set([M('block')]));
    const text = itemText(index, g, g.byId.get('m:block.0') as never);
    expect(text).toEqual({ title: 'block.0', subtitle: '3 nodes · Add Conv Relu', detail: '1 × 4 × 8 × 8' });
    expect(itemText(index, g, g.byId.get('n:7') as never)).toEqual({ title: 'Gemm', subtitle: 'fc', detail: null });
    expect(fitText('a_very_long_module_name', 60, 'title', estimateText)).toMatch(/…$/);
  });
});

describe('layout', () => {
  it('lays the visible graph out with ELK: every box placed, groups around their contents, edges routed', async () => {
    const g = buildVisibleGraph(index, new Set(expandableModules(index)));
    const { input } = prepareLayout(index, g, estimateText);
    const laidOut = await new ELK().layout(toElkGraph(input), { layoutOptions: LAYOUT_OPTIONS });
    const result = fromElkGraph(laidOut, 0);
    expect(Object.keys(result.boxes).sort()).toEqual(ids(g).sort());
    expect(Object.keys(result.edges).sort()).toEqual(g.edges.map((e) => e.id).sort());
    for (const item of g.items) {
      const box = result.boxes[item.id];
      const parent = item.parent ? result.boxes[item.parent] : undefined;
      if (!box || !parent) continue;
      expect(box.x).toBeGreaterThanOrEqual(parent.x);
      expect(box.y).toBeGreaterThan(parent.y);
      expect(box.x + box.width).toBeLessThanOrEqual(parent.x + parent.width);
      expect(box.y + box.height).toBeLessThanOrEqual(parent.y + parent.height);
    }
    // Top to bottom: the input above the stem above the output.
    const y = (id: string): number => result.boxes[id]?.y ?? NaN;
    expect(y('i:input')).toBeLessThan(y('n:0'));
    expect(y('n:0')).toBeLessThan(y('n:7'));
    expect(y('n:7')).toBeLessThan(y('o:logits'));
  });
});

describe('the viewport', () => {
  it('fits, zooms about a point and centres', () => {
    const view = fitView({ x: 0, y: 0, width: 200, height: 100 }, { width: 448, height: 248 }, 24, 10);
    expect(view.k).toBeCloseTo(2);
    expect(view.x).toBeCloseTo(24);
    expect(view.y).toBeCloseTo(24);
    const zoomed = zoomAt(view, 2, { x: 100, y: 50 });
    // The graph point under (100, 50) stays there.
    expect((100 - zoomed.x) / zoomed.k).toBeCloseTo((100 - view.x) / view.k);
    const centred = centerOn(view, { x: 10, y: 10, width: 20, height: 20 }, { width: 400, height: 200 }, 1);
    expect(centred).toEqual({ k: 1, x: 180, y: 80 });
  });
});

describe('constants', () => {
  it('are not drawn as ops: their values feed the op like a weight', () => {
    const base = tinyResNet();
    const constant: GraphNodeView = {
      index: base.nodes.length,
      name: '/fc/Constant',
      opType: 'Constant',
      domain: '',
      inputs: [],
      outputs: [T('fc.scale')],
      module: M('fc'),
      attributes: {},
      subgraphs: [],
    };
    const gemm = base.nodes[7] as GraphNodeView;
    const withConstant: GraphView = {
      ...base,
      nodes: [...base.nodes.slice(0, 7), { ...gemm, inputs: [...gemm.inputs, T('fc.scale')] }, constant],
      tensors: [
        ...base.tensors,
        {
          name: T('fc.scale'),
          dtype: 'float32',
          shape: [],
          shapeSource: 'probe',
          kind: 'intermediate',
          producer: 8,
          consumers: [7],
        },
      ],
      modules: base.modules.map((m) =>
        m.path === 'fc' ? { ...m, nodes: [7, 8], nodeCount: 2 } : m.path === '' ? { ...m, nodeCount: 9 } : m,
      ),
    };
    const idx = buildGraphIndex(withConstant);
    // fc still draws a single op, so it stays transparent.
    expect(idx.isTransparent(M('fc'))).toBe(true);
    const g = buildVisibleGraph(idx, new Set(expandableModules(idx)));
    expect(g.byId.has('n:8')).toBe(false);
    expect(g.itemOfNode[8]).toBe('');
    expect(g.edges.some((e) => e.tensors.includes(T('fc.scale')))).toBe(false);
    expect(itemForTarget(idx, g, { kind: 'node', index: 8 })).toBeUndefined();
  });
});

describe('PyTorch’s Identity aliases of parameters', () => {
  /** tinyResNet with fc's bias reached through Identity (a deduplicated parameter) and an Identity of data. */
  function withAliases(): GraphView {
    const base = tinyResNet();
    const node = (index: number, opType: string, inputs: string[], output: string, module = ''): GraphNodeView => ({
      index,
      name: `${opType}_${index}`,
      opType,
      domain: '',
      inputs: inputs.map(T),
      outputs: [T(output)],
      module: M(module),
      attributes: {},
      subgraphs: [],
    });
    const tensor = (
      name: string,
      kind: TensorView['kind'],
      producer: number | null,
      consumers: number[],
      shape: Dim[],
    ): TensorView => ({
      name: T(name),
      dtype: 'float32',
      shape,
      shapeSource: 'probe',
      kind,
      producer,
      consumers,
    });
    const gemm = base.nodes[7] as GraphNodeView;
    return {
      ...base,
      nodes: [
        ...base.nodes.slice(0, 7),
        { ...gemm, inputs: [...gemm.inputs, T('onnx::Gemm_9')] },
        node(8, 'Identity', ['shared.b'], 'onnx::Gemm_9'),
        node(9, 'Identity', ['b1.out'], 'copy', 'fc'),
      ],
      tensors: [
        ...base.tensors.map((t) => (t.name === 'b1.out' ? { ...t, consumers: [...t.consumers, 9] } : t)),
        tensor('shared.b', 'initializer', null, [8], [6]),
        tensor('onnx::Gemm_9', 'intermediate', 8, [7], [6]),
        tensor('copy', 'intermediate', 9, [], [1, 4, 8, 8]),
      ],
      modules: base.modules.map((m) => (m.path === '' ? { ...m, nodes: [...m.nodes, 8] } : m)),
    };
  }

  it('fold into the op they feed: not drawn, no edge, the weight (and its parameters) is the op’s', () => {
    const idx = buildGraphIndex(withAliases());
    expect(idx.isConstant(idx.graph.nodes[8] as GraphNodeView)).toBe(true);
    expect(idx.isConstant(idx.graph.nodes[9] as GraphNodeView)).toBe(false); // an Identity of data stays an op
    expect(idx.isWeight(T('onnx::Gemm_9'))).toBe(true);
    expect(idx.initializerOf(T('onnx::Gemm_9'))).toBe('shared.b');
    expect(idx.initializerOf(T('copy'))).toBeNull();
    expect(idx.nodeParameterCount(idx.graph.nodes[7] as GraphNodeView)).toBe(4 * 4 * 3 * 3 + 6);
    const g = buildVisibleGraph(idx, new Set(expandableModules(idx)));
    expect(g.byId.has('n:8')).toBe(false);
    expect(g.edges.some((e) => e.tensors.includes(T('onnx::Gemm_9')))).toBe(false);
    expect(idx.moduleOps(M('')).find(([op]) => op === 'Identity')?.[1]).toBe(1); // only the data one
  });

  it('leave edges their shapes, and stage badges room inside their box', () => {
    const idx = buildGraphIndex(withAliases());
    const collapsed = buildVisibleGraph(idx, new Set());
    const { input, edgeLabels } = prepareLayout(idx, collapsed, estimateText);
    expect(edgeLabels.get('m:block->n:7')).toBe('1 × 4 × 8 × 8');
    // Written beside the longest vertical run of the edge, where there is room for a line.
    expect(
      labelPlace([
        { x: 0, y: 0 },
        { x: 0, y: 10 },
        { x: 30, y: 10 },
        { x: 30, y: 50 },
      ]),
    ).toEqual({ x: 35, y: 23.5 });
    expect(
      labelPlace([
        { x: 0, y: 0 },
        { x: 0, y: 12 },
      ]),
    ).toBeNull();
    const block = input.boxes.find((b) => b.id === 'm:block');
    const unstaged = buildGraphIndex({ ...withAliases(), stages: [] });
    const plain = prepareLayout(unstaged, buildVisibleGraph(unstaged, new Set()), estimateText);
    const unmarked = plain.input.boxes.find((b) => b.id === 'm:block');
    expect(block && unmarked && block.height > unmarked.height).toBe(true);
    expect(block?.width).toBeGreaterThanOrEqual(58 + 8);
  });
});
