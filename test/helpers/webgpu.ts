/**
 * Running onnxruntime's WebGPU provider in tests on a machine without a GPU: Debian's chromium package ships
 * SwiftShader's Vulkan driver, through which Dawn runs WebGPU on the CPU (slowly). Tests that need it skip
 * with this reason where it is missing.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { vulkanLoaderPresent } from '../../src-main/engine/inference/gpu-adapter';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Why WebGPU cannot run here, or null when it can (through SwiftShader). */
export function webgpuUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the WebGPU tests run on Linux x64 only';
  if (!existsSync(SWIFTSHADER_ICD)) return `no SwiftShader Vulkan driver (${SWIFTSHADER_ICD}: apt-get install chromium)`;
  if (!vulkanLoaderPresent()) return 'no Vulkan loader (apt-get install libvulkan1)';
  return null;
}

/** Points Dawn at SwiftShader; must run before the process creates its first WebGPU session. */
export function useSwiftShader(): void {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  delete process.env.VK_DRIVER_FILES;
}

export interface PlacedRun {
  outputs: ort.InferenceSession.ReturnType;
  /** `op_name node_name` of every node onnxruntime ran on its CPU provider. */
  cpuNodes: string[];
  webgpuNodes: number;
}

/** One run on the WebGPU provider with onnxruntime's profiler on, to read each node's provider. */
export async function runOnWebgpu(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<PlacedRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'layerlens-webgpu-'));
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['webgpu'],
      logSeverityLevel: 3,
      enableProfiling: true,
      profileFilePrefix: path.join(dir, 'profile'),
    });
    const outputs = await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    const events = (
      JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
        cat: string;
        name: string;
        args?: { op_name?: string; provider?: string };
      }[]
    ).filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
    return {
      outputs,
      cpuNodes: events
        .filter((e) => e.args?.provider === 'CPUExecutionProvider')
        .map((e) => `${e.args?.op_name} ${e.name.replace(/_kernel_time$/, '')}`),
      webgpuNodes: events.filter((e) => e.args?.provider === 'WebGpuExecutionProvider').length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
