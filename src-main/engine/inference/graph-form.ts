/** Which forms a rewritten graph is written in for the provider it will run on (GraphForm). */
import type { ExecutionProvider } from '../../../src-shared/primitives';
import type { GraphForm } from '../hooks/graph-builder';

export function graphFormFor(provider: ExecutionProvider): GraphForm {
  if (provider === 'webgpu') return 'gpu';
  // onnxruntime keeps convolutions in a channel-blocked layout on x86 CPUs only (vjp/blocked-layout.ts).
  return provider === 'cpu' && process.arch === 'x64' ? 'blocked' : 'plain';
}
