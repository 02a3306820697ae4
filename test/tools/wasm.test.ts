/** Each committed WebAssembly module is what tools/wasm assembles from its kernel's text. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WASM_KERNELS, wasmModuleSource } from '../../tools/wasm/assemble';

describe('the WebAssembly kernels', () => {
  it.each(WASM_KERNELS.map((k) => [k.target, k] as const))('%s is what tools/wasm writes', async (_, kernel) => {
    expect(readFileSync(kernel.target, 'utf8')).toBe(await wasmModuleSource(kernel));
  });
});
