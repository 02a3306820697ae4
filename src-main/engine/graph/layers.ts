/**
 * Layers are addressable everywhere (UI, CLI, API) by module path ("layer4", "features.3") or by tensor
 * name ("/layer4/layer4.1/relu_1/Relu_output_0"); "stages" means the detected stages (a request that wants others names them).
 */
import type { Dim, TensorName } from '../../../src-shared/api';
import type { ModulePath } from '../../../src-shared/graph';
import { EngineError } from '../errors';
import { parentPath } from './module-scopes';
import type { GraphAnalysis } from './analyze-graph';

export interface ResolvedLayer {
  /** The layer as the user wrote it (keys of CLI/JSON output). */
  label: string;
  tensor: TensorName;
  module: ModulePath | null;
  shape: Dim[] | null;
}

export function resolveLayer(analysis: GraphAnalysis, spec: string, modelName: string): ResolvedLayer {
  const module = analysis.tree.modules.get(spec as ModulePath);
  if (module && spec !== '') {
    if (!module.output)
      throw new EngineError('bad-input', `Module "${spec}" of ${modelName} has no output tensor that leaves it.`);
    return { label: spec, tensor: module.output, module: module.path, shape: analysis.shapes.get(module.output)?.shape ?? null };
  }
  const tensor = spec as TensorName;
  if (analysis.index.producer.has(tensor) || analysis.index.inputs.has(tensor)) {
    const node = analysis.index.producer.get(tensor);
    // The outermost module whose output this is ("layer4" rather than "layer4.1.relu_1").
    let module: ModulePath | null = node === undefined ? null : (analysis.tree.nodeModule[node] ?? null);
    for (let up = module ? parentPath(module) : null; up; up = parentPath(up)) {
      if (analysis.tree.modules.get(up)?.output !== tensor) break;
      module = up;
    }
    return {
      label: spec,
      tensor,
      module,
      shape: analysis.shapes.get(tensor)?.shape ?? null,
    };
  }
  const examples = analysis.view.stages.map((s) => s.module).slice(0, 4);
  const topLevel = (analysis.tree.modules.get('' as ModulePath)?.children ?? []).slice(0, 8);
  throw new EngineError(
    'bad-input',
    `${modelName} has no module or tensor named "${spec}". Modules include: ${[...new Set([...examples, ...topLevel])].join(', ') || '(none)'}; run "layerlens graph" to list them all.`,
  );
}

export function resolveLayers(analysis: GraphAnalysis, specs: string[], modelName: string): ResolvedLayer[] {
  const out: ResolvedLayer[] = [];
  for (const spec of specs) {
    if (spec === 'stages') {
      if (analysis.view.stages.length === 0 && analysis.probeFailure) {
        throw new EngineError(
          'bad-model',
          `onnxruntime cannot run ${modelName} (${analysis.probeFailure}), so no heatmap can be made.`,
        );
      }
      if (analysis.view.stages.length === 0) {
        throw new EngineError(
          'unsupported',
          `${modelName} has no spatial layers (no 4-D feature maps were found): heatmaps need a convolutional layer.`,
        );
      }
      for (const s of analysis.view.stages)
        out.push({ label: s.module || s.tensor, tensor: s.tensor, module: s.module, shape: s.shape });
    } else {
      out.push(resolveLayer(analysis, spec, modelName));
    }
  }
  return out;
}
