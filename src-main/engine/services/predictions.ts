/** The model's class scores for one input: a plain forward run, its top-k read with the model's labels. */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ClassScore, ImageSource, ModelId, Prediction } from '../../../src-shared/api';
import { checkFiniteScores, softmax, topK } from '../classify';
import { EngineError, runtimeMessage } from '../errors';
import { toInputTensor } from '../input-tensor';
import type { ModelRegistry, OpenModel } from '../model-registry';
import type { Images, ResolvedImage } from './images';
import type { Sessions } from './sessions';

export class Predictions {
  constructor(
    private readonly models: ModelRegistry,
    private readonly images: Images,
    private readonly sessions: Sessions,
  ) {}

  async predict(req: { modelId: ModelId; image: ImageSource; topK?: number }): Promise<Prediction> {
    const model = this.models.get(req.modelId);
    const image = await this.images.resolve(req.image);
    return this.predictTensor(model, image, req.topK ?? 5);
  }

  async predictTensor(model: OpenModel, image: ResolvedImage, k: number): Promise<Prediction> {
    const input = await toInputTensor(model, image.bytes, image.name);
    const { session, provider } = await this.sessions.plain(model);
    const outputName = model.summary.outputs[0]?.name;
    if (!outputName) throw new EngineError('bad-model', `${model.summary.name} declares no output.`);
    const started = performance.now();
    let output: ort.Tensor;
    try {
      const results = await session.run({ [input.name]: new ort.Tensor('float32', input.data, input.shape) }, [outputName]);
      output = results[outputName] as ort.Tensor;
    } catch (error) {
      throw new EngineError('inference-failed', `Running ${model.summary.name} failed: ${runtimeMessage(error)}`);
    }
    const inferenceMs = performance.now() - started;
    if (output.type !== 'float32') {
      throw new EngineError(
        'unsupported',
        `${model.summary.name}'s output ${outputName} is ${output.type}, not float32 class scores.`,
      );
    }
    const logits = new Float32Array(output.data as Float32Array);
    checkFiniteScores(logits, model.summary.name);
    const nonUnit = output.dims.filter((d) => d !== 1).length;
    if (nonUnit > 1) {
      throw new EngineError(
        'unsupported',
        `${model.summary.name}'s output ${outputName} has shape [${output.dims.join(', ')}], not one row of class scores.`,
      );
    }
    return { top: topClasses(model, logits, k), logits, provider, inferenceMs, inputShape: input.shape };
  }
}

/** The k best classes of `logits` from the model's first output (softmaxed unless the model did it already). */
export function topClasses(model: OpenModel | null, logits: Float32Array, k: number): ClassScore[] {
  const outputName = model?.summary.outputs[0]?.name;
  const probs = model && outputName && endsInSoftmax(model, outputName) ? logits : softmax(logits);
  return topK(probs, k, model?.summary.labels ?? null, logits);
}

/** A model that already outputs probabilities must not be softmaxed again. */
export function endsInSoftmax(model: OpenModel, outputName: string): boolean {
  const producer = model.proto.graph?.node.find((n) => n.output.includes(outputName));
  return producer?.opType === 'Softmax' && (producer.domain === '' || producer.domain === 'ai.onnx');
}
