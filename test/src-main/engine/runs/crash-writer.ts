/**
 * Child process for the kill -9 test: writes finished runs forever through the real RunStore, announcing
 * each run as it begins and ends, until it is killed in the middle of one.
 */
import { RunStore } from '../../../../src-main/engine/runs/run-store';
import { runPayload } from './crash-payload';

const [file] = process.argv.slice(2);
const store = RunStore.open(file as string);
store.recordModel({ hash: 'c'.repeat(64), name: 'm.onnx', path: null, sizeBytes: 1, opset: 17, summary: {} });
store.recordInput({ hash: 'input', name: 'x.png', source: {}, preprocess: {}, thumbnail: null });
for (let n = 1; ; n++) {
  const id = store.begin({ key: `run-${n}`, kind: 'stats', modelHash: 'c'.repeat(64), params: { n }, inputHashes: ['input'] });
  process.stdout.write(`begun ${id}\n`);
  store.finish(id, 'complete', { blobs: runPayload(n), durationMs: n, provider: 'cpu' });
  process.stdout.write(`finished ${id}\n`);
}
