/**
 * Writes each WebAssembly kernel's module (assemble.ts): run after changing a kernel's text,
 * `npm run wasm`; a test checks the committed modules are what this writes.
 */
import { writeFileSync } from 'node:fs';
import { WASM_KERNELS, wasmModuleSource } from './assemble';

for (const kernel of WASM_KERNELS) writeFileSync(kernel.target, await wasmModuleSource(kernel));
