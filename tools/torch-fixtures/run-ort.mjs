// Helper of make_fixtures.py: run an ONNX model with onnxruntime-node on one
// float32 .npy input and dump every float32 output as .npy.
//
//   node tools/torch-fixtures/run-ort.mjs <model.onnx> <input.npy> <outdir>
//
// Writes <outdir>/out<i>.npy and <outdir>/index.json ({outputName: file}).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not an .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: expected C-order little-endian float32, got ${header}`);
  }
  const dims = header
    .match(/'shape':\s*\(([^)]*)\)/)[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const offset = start + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length));
  return { dims, data };
}

function writeNpy(path, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

const [modelPath, inputPath, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node run-ort.mjs <model.onnx> <input.npy> <outdir>');
  process.exit(2);
}
const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'disabled' });
const input = readNpy(inputPath);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
const results = await session.run(feeds);
const index = {};
session.outputNames.forEach((name, i) => {
  const t = results[name];
  if (t.type !== 'float32') return;
  const file = `out${i}.npy`;
  writeNpy(join(outDir, file), t.dims, t.data);
  index[name] = file;
});
writeFileSync(join(outDir, 'index.json'), JSON.stringify(index));
console.log(`${Object.keys(index).length} outputs`);
