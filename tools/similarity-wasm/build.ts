/**
 * Writes src-main/engine/trust/similarity-wasm.ts: the WebAssembly module of the sanity check's hot loops
 * (wat.ts), assembled by wabt, as base64. Run after changing wat.ts: `npm run wasm:similarity`; a test
 * checks the committed module is what this writes.
 */
import { writeFileSync } from 'node:fs';
import { similarityWasmSource } from './assemble';

writeFileSync('src-main/engine/trust/similarity-wasm.ts', await similarityWasmSource());
