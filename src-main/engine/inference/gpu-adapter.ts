/**
 * Whether `--device auto` should try onnxruntime's WebGPU provider: only where a hardware GPU will serve it.
 * Dawn happily runs on software Vulkan drivers (SwiftShader, lavapipe/llvmpipe), which are tens of times
 * slower than the CPU provider, and onnxruntime does not say which adapter it took; so on Linux the Vulkan
 * drivers in effect are read the way the Vulkan loader finds them. An explicit `--device webgpu` skips this
 * check (the tests use it to run the provider on SwiftShader).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

export type GpuVerdict = { usable: true; adapter: string } | { usable: false; why: string };

/** Software rasterisers that present themselves as Vulkan devices. */
const SOFTWARE_DRIVER = /swiftshader|lvp|lavapipe|llvmpipe|softpipe/i;

/** Where the Vulkan loader looks for driver manifests when no variable names them (Linux). */
const DEFAULT_ICD_DIRS = [
  '/etc/vulkan/icd.d',
  '/usr/local/etc/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
];

interface IcdManifest {
  file: string;
  library: string;
}

function manifestsIn(env: NodeJS.ProcessEnv): IcdManifest[] {
  const listed = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const files = listed
    ? listed.split(':').filter(Boolean)
    : DEFAULT_ICD_DIRS.flatMap((dir) => {
        try {
          return readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => path.join(dir, f));
        } catch {
          return [];
        }
      });
  const manifests: IcdManifest[] = [];
  for (const file of files) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: unknown } };
      const library = parsed.ICD?.library_path;
      manifests.push({ file, library: typeof library === 'string' ? library : '' });
    } catch {
      // An unreadable manifest is one the loader cannot use either.
    }
  }
  return manifests;
}

const GPU_VENDORS: Record<string, string> = { '0x10de': 'NVIDIA', '0x1002': 'AMD', '0x8086': 'Intel', '0x13b5': 'Arm' };

/** Vendors of the PCI display controllers (class 0x03xxxx) the kernel lists. */
export function pciDisplayVendors(root = '/sys/bus/pci/devices'): string[] {
  const vendors: string[] = [];
  let devices: string[];
  try {
    devices = readdirSync(root);
  } catch {
    return vendors;
  }
  for (const device of devices) {
    try {
      const cls = readFileSync(path.join(root, device, 'class'), 'utf8').trim();
      if (!cls.startsWith('0x03')) continue;
      const vendor = readFileSync(path.join(root, device, 'vendor'), 'utf8').trim();
      vendors.push(GPU_VENDORS[vendor] ?? vendor);
    } catch {
      // A device that vanished or cannot be read is not one Dawn can use either.
    }
  }
  return vendors;
}

/**
 * The verdict for Linux from its Vulkan driver manifests and its display hardware (exported for tests).
 * Both are needed: distributions install Mesa's Intel and AMD manifests on machines without such a GPU, and
 * Dawn then settles for lavapipe.
 */
export function linuxVerdict(env: NodeJS.ProcessEnv, displays: string[]): GpuVerdict {
  if (displays.length === 0) return { usable: false, why: 'no GPU is visible on the PCI bus' };
  const manifests = manifestsIn(env);
  if (manifests.length === 0) return { usable: false, why: 'no Vulkan driver is installed' };
  const hardware = manifests.filter((m) => !SOFTWARE_DRIVER.test(m.library) && !SOFTWARE_DRIVER.test(m.file));
  if (hardware.length === 0) {
    const names = manifests.map((m) => path.basename(m.library || m.file)).join(', ');
    return { usable: false, why: `only a software Vulkan driver is present (${names})` };
  }
  return { usable: true, adapter: `${displays.join(', ')} (${path.basename(hardware[0]?.file ?? '', '.json')})` };
}

/** Whether the Vulkan loader Dawn needs on Linux is installed. */
export function vulkanLoaderPresent(): boolean {
  return ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some((f) =>
    existsSync(f),
  );
}

let cached: GpuVerdict | null = null;

/** Whether `auto` should use WebGPU here; computed once per process (drivers do not change under it). */
export function gpuVerdict(): GpuVerdict {
  if (cached) return cached;
  cached = computeVerdict();
  return cached;
}

function computeVerdict(): GpuVerdict {
  const bundled = ort.listSupportedBackends().some((b) => b.name === 'webgpu');
  if (!bundled) return { usable: false, why: `onnxruntime-node has no WebGPU provider for ${process.platform}-${process.arch}` };
  if (process.platform === 'linux') {
    if (!vulkanLoaderPresent()) return { usable: false, why: 'the Vulkan loader (libvulkan.so.1) is not installed' };
    return linuxVerdict(process.env, pciDisplayVendors());
  }
  // Windows (D3D12) and macOS (Metal) always have a hardware adapter behind WebGPU where onnxruntime ships
  // it; a machine without one fails at session creation and falls back then.
  return { usable: true, adapter: process.platform === 'darwin' ? 'Metal' : 'D3D12' };
}
