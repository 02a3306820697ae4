/** A small hand-made ReportData whose every user-controlled string is hostile markup (escaping tests). */
import type { LayerStatsView, ModelId, StatsResponse, TensorName } from '../../../src-shared/api';
import { summariseFaithfulness, type MapMetrics, type TrustResult } from '../../../src-shared/trust';
import { fromResults } from '../../../src-main/report/trust-section';
import type { CamResult, LayerMaps } from '../../../src-shared/cam';
import { DEFAULT_DISPLAY, type ReportData, type ReportImage } from '../../../src-main/report/report-data';
import { solidPng } from '../../helpers/images';

export const EVIL = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>';

function layer(label: string, size: number): LayerMaps {
  const data = Float32Array.from({ length: size * size }, (_, i) => Math.sin(i) * 2);
  return {
    label,
    tensor: `${label}/out` as TensorName,
    module: label,
    shape: [4, size, size],
    maps: { gradcam: { width: size, height: size, data } },
    unavailable: { cam: `${EVIL} needs global pooling` },
  };
}

async function image(name: string): Promise<ReportImage> {
  const png = await solidPng(32, 24, [200, 120, 40]);
  const cam: CamResult = {
    classIndex: 1,
    label: EVIL,
    counterfactual: false,
    logits: Float32Array.from([0.1, 2]),
    provider: 'cpu',
    inputShape: [1, 3, 24, 32],
    layers: [layer(`stage${EVIL}`, 4), layer('stage2', 2)],
    timings: { totalMs: 3, hookedRunMs: 2, perturbationMs: 0 },
  };
  return {
    name,
    original: { mime: 'image/png', bytes: png, width: 32, height: 24 },
    modelView: { rgb: new Uint8Array(32 * 24 * 3).fill(150), width: 32, height: 24 },
    top: [
      { class: 1, label: EVIL, prob: 0.9 },
      { class: 0, label: 'plain', prob: 0.1 },
    ],
    cam,
    run: null,
    cached: false,
    predictMs: 1,
  };
}

function statsLayer(label: string, images: number, bins: number): LayerStatsView {
  return {
    label,
    tensor: `${label}/out` as TensorName,
    mean: 0.5,
    std: 1,
    nearZero: 0.95,
    range: [0, 10],
    hist: new Float64Array(bins).fill(1),
    outside: 0,
    perImage: [],
    imageHists: Float32Array.from({ length: images * bins }, (_, i) => i % 7),
    channelMean: new Float64Array(4),
    channelNearZero: new Float64Array(4),
    deadChannels: [2],
  };
}

export async function syntheticReport(shown: number, total: number): Promise<ReportData> {
  const images = await Promise.all(Array.from({ length: shown }, (_, i) => image(`${i}-${EVIL}.png`)));
  const stats: StatsResponse = {
    images: total,
    skipped: [],
    total,
    cancelled: false,
    bins: 5,
    layers: [statsLayer(`stage${EVIL}`, total, 5), statsLayer('fc', total, 5)],
    provider: 'cpu',
    ms: 5,
    cached: false,
    run: null,
  };
  return {
    title: EVIL,
    generatedAt: '2026-01-02T03:04:05.000Z',
    engineVersion: '0.0.0-test',
    provider: 'cpu',
    model: {
      name: EVIL,
      id: '0123456789abcdef' as ModelId,
      sha256: 'ab'.repeat(32),
      irVersion: 7,
      producer: EVIL,
      opsets: [{ domain: '', version: 13 }],
      inputs: [{ name: EVIL as TensorName, dtype: 'float32', shape: [1, 3, 24, 32] }],
      outputs: [{ name: 'logits' as TensorName, dtype: 'float32', shape: [1, 2] }],
      nodeCount: 3,
      parameterCount: 1234,
      sizeBytes: 2048,
      stages: [{ module: `stage${EVIL}`, tensor: `stage${EVIL}/out`, shape: [1, 4, 4, 4] }],
      stagesSource: 'auto',
      classCount: 2,
      preprocess: {
        inputSize: [24, 32],
        resize: 'stretch',
        channelOrder: 'RGB',
        scale: 255,
        mean: [0.5, 0.5, 0.5],
        std: [0.25, 0.25, 0.25],
        layout: 'NCHW',
        source: 'metadata',
      },
      warnings: [EVIL],
    },
    images,
    trust: fromResults(syntheticTrust(), 1, syntheticTrust(), 2),
    totalImages: total,
    skipped: [],
    run: {
      methods: ['cam', 'gradcam'],
      layers: [EVIL],
      classChoice: 'top',
      counterfactual: false,
      device: 'cpu',
      stats: { bins: 5, range: [0, 10], layers: null },
    },
    display: DEFAULT_DISPLAY,
    stats,
    timings: [{ label: 'everything', ms: 12 }],
  };
}

const metrics = (deletion: number, insertion: number, drop: number, pointing: boolean | null): MapMetrics => ({
  deletion: { auc: deletion, probs: Float32Array.of(0.9, deletion, 0.1) },
  insertion: { auc: insertion, probs: Float32Array.of(0.1, insertion, 0.9) },
  drop,
  increase: drop === 0,
  pointing,
});

/** A trust result of two images at one hostile-named layer, with a sanity check. */
export function syntheticTrust(): TrustResult {
  const images = [0.2, 0.4].map((d, i) => ({
    name: `img${i}.png`,
    classIndex: 1,
    label: 'square',
    prob: 0.9,
    box: [0, 0, 4, 4] as [number, number, number, number],
    pointingChance: 0.25,
    layers: [
      {
        label: EVIL,
        methods: { gradcam: metrics(d, 0.8, 0.1, i === 0) },
        random: metrics(0.5, 0.5, 0.4, false),
        unavailable: {},
      },
    ],
  }));
  return {
    settings: { steps: 2, baseline: { kind: 'blur', sigma: 5 }, seed: 0 },
    methods: ['gradcam'],
    images,
    summary: summariseFaithfulness(images, ['gradcam']),
    sanity: {
      modules: [
        { label: 'head', tensors: 2, parameters: 10 },
        { label: 'stem', tensors: 1, parameters: 5 },
      ],
      layers: [
        {
          label: EVIL,
          methods: {
            gradcam: {
              cascading: { spearman: [0.4, 0.1], ssim: [0.5, 0.2] },
              independent: { spearman: [0.4, 0.7], ssim: [0.5, 0.6] },
              verdict: 'pass',
            },
          },
          unavailable: {},
        },
      ],
      verdicts: { gradcam: 'pass' },
      images: 2,
      ms: 1,
    },
    provider: 'cpu',
    timings: { totalMs: 1, camMs: 1, faithfulnessMs: 1, forwardPasses: 10, sanityMs: 1 },
  };
}
