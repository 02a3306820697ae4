/**
 * Module paths from node names, the way PyTorch's exporter writes scopes:
 * `/layer1/layer1.0/conv1/Conv` → `layer1.0.conv1`, `/features/features.3/conv/conv.0/Conv` →
 * `features.3.conv.0`, `/features/denseblock2/denselayer1/norm1/BatchNormalization` →
 * `features.denseblock2.denselayer1.norm1`. A segment that starts with the previous segment plus "." is an
 * indexed child and replaces it. The dynamo exporter's `pkg.torch.onnx.name_scopes` node metadata follows
 * the same rule. Names without scopes yield the root ("").
 */
import type { NodeProto } from 'onnx-buf';
import type { ModulePath } from '../../../src-shared/graph';

const TORCH_SCOPES_KEY = 'pkg.torch.onnx.name_scopes';

export function pathFromSegments(segments: string[]): ModulePath {
  let path = '';
  let previous = '';
  for (const segment of segments) {
    if (!segment) continue;
    if (previous && segment.startsWith(`${previous}.`)) {
      path = path.slice(0, path.length - previous.length) + segment;
    } else {
      path = path ? `${path}.${segment}` : segment;
    }
    previous = segment;
  }
  return path as ModulePath;
}

/** Python list literal as the dynamo exporter writes it: "['', 'layer1', 'layer1.0']". */
function parsePythonStringList(text: string): string[] | null {
  const matches = [...text.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)];
  return matches.length > 0 ? matches.map((m) => m[1] ?? m[2] ?? '') : null;
}

/** The node's module path, or null when its name carries no scope. */
export function scopeOf(node: NodeProto): ModulePath | null {
  const torchScopes = node.metadataProps.find((p) => p.key === TORCH_SCOPES_KEY)?.value;
  if (torchScopes) {
    const segments = parsePythonStringList(torchScopes);
    if (segments) return pathFromSegments(segments);
  }
  const name = node.name;
  if (!name.includes('/')) return null;
  const segments = name.split('/').filter((s) => s.length > 0);
  segments.pop(); // the last segment names the op itself ("Conv", "Relu_1")
  return pathFromSegments(segments);
}

/** PyTorch module paths are dot-separated: the parent of "layer1.0.conv1" is "layer1.0"; of "layer1", the root. */
export function parentPath(path: ModulePath): ModulePath | null {
  if (path === '') return null;
  const dot = path.lastIndexOf('.');
  return (dot < 0 ? '' : path.slice(0, dot)) as ModulePath;
}

/** A path and all its ancestors, root last. */
export function lineage(path: ModulePath): ModulePath[] {
  const out: ModulePath[] = [];
  for (let p: ModulePath | null = path; p !== null; p = parentPath(p)) out.push(p);
  return out;
}
