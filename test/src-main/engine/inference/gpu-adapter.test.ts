/** `--device auto` takes WebGPU only where a hardware Vulkan driver serves it (Linux), never a software one. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linuxVerdict, pciDisplayVendors } from '../../../../src-main/engine/inference/gpu-adapter';

const dir = mkdtempSync(path.join(tmpdir(), 'layerlens-icd-'));
function manifest(name: string, library: string): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } }));
  return file;
}

describe('the GPU verdict on Linux', () => {
  it('refuses software drivers, naming them', () => {
    const swiftshader = manifest('vk_swiftshader_icd', './libvk_swiftshader.so');
    const lavapipe = manifest('lvp_icd.x86_64', '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so');
    const verdict = linuxVerdict({ VK_ICD_FILENAMES: `${swiftshader}:${lavapipe}` }, ['NVIDIA']);
    expect(verdict.usable).toBe(false);
    if (!verdict.usable) expect(verdict.why).toMatch(/software Vulkan driver.*libvk_swiftshader\.so.*libvulkan_lvp\.so/);
  });

  it('accepts a hardware driver beside a software one (VK_DRIVER_FILES wins over VK_ICD_FILENAMES)', () => {
    const nvidia = manifest('nvidia_icd', 'libGLX_nvidia.so.0');
    const swiftshader = manifest('vk_swiftshader_icd', './libvk_swiftshader.so');
    expect(linuxVerdict({ VK_DRIVER_FILES: `${swiftshader}:${nvidia}`, VK_ICD_FILENAMES: swiftshader }, ['NVIDIA'])).toEqual({
      usable: true,
      adapter: 'NVIDIA (nvidia_icd)',
    });
  });

  it('refuses hardware drivers’ manifests on a machine with no display hardware (Mesa installs them anyway)', () => {
    const intel = manifest('intel_icd.x86_64', '/usr/lib/x86_64-linux-gnu/libvulkan_intel.so');
    expect(linuxVerdict({ VK_ICD_FILENAMES: intel }, [])).toEqual({ usable: false, why: 'no GPU is visible on the PCI bus' });
  });

  it('reads display controllers, not other PCI devices, from sysfs', () => {
    const sys = mkdtempSync(path.join(tmpdir(), 'layerlens-pci-'));
    const device = (name: string, cls: string, vendor: string) => {
      mkdirSync(path.join(sys, name));
      writeFileSync(path.join(sys, name, 'class'), `${cls}\n`);
      writeFileSync(path.join(sys, name, 'vendor'), `${vendor}\n`);
    };
    device('0000:00:01.0', '0x060000', '0x8086');
    device('0000:17:00.0', '0x030200', '0x10de');
    expect(pciDisplayVendors(sys)).toEqual(['NVIDIA']);
    expect(pciDisplayVendors(path.join(sys, 'none'))).toEqual([]);
  });

  it('says when no driver manifest can be read', () => {
    const verdict = linuxVerdict({ VK_ICD_FILENAMES: path.join(dir, 'missing.json') }, ['AMD']);
    expect(verdict).toEqual({ usable: false, why: 'no Vulkan driver is installed' });
  });
});
