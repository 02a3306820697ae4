/**
 * Measures the bundled demo model's accuracy on the committed held-out images, with LayerLens's own engine
 * (onnxruntime, the model's preprocessing metadata) — no Python. Run: npm run demo:accuracy
 */
import { Engine } from '../src-main/engine/engine';
import { loadLabelledSet, measureAccuracy } from '../src-main/engine/labelled-set';

const engine = await Engine.create({ device: 'cpu' });
const model = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
const images = await loadLabelledSet('test/fixtures/demo-heldout/index.json');
const report = await measureAccuracy(engine, model, images);
console.log(`held-out accuracy: ${(report.accuracy * 100).toFixed(1)}% (${report.correct}/${report.total})`);
for (const miss of report.misses) console.log(`  miss: ${miss.file} expected ${miss.expected}, got ${miss.predicted}`);
engine.dispose();
