/**
 * What fastai's ClassificationInterpretation derives from the predictions: accuracy, the confusion matrix,
 * per-class precision and recall, the most confused pairs and the top losses. Pure functions of the
 * per-image outcomes, so the numbers are checked against a direct computation in the tests.
 */
import type { ClassMetrics, ConfusedPair, ConfusionMatrix, DatasetPrediction } from '../../../src-shared/dataset';

export function accuracy(images: DatasetPrediction[]): number {
  if (images.length === 0) return 0;
  return images.filter((i) => i.actual === i.predicted).length / images.length;
}

export function meanLoss(images: DatasetPrediction[]): number {
  if (images.length === 0) return 0;
  return images.reduce((sum, i) => sum + i.loss, 0) / images.length;
}

/** Over the classes that occur as actual or predicted (a 1000-class model's matrix stays the set's size). */
export function confusionMatrix(images: DatasetPrediction[], labelledClasses: number[] = []): ConfusionMatrix {
  const classes = [...new Set([...labelledClasses, ...images.flatMap((i) => [i.actual, i.predicted])])].sort((a, b) => a - b);
  const row = new Map(classes.map((c, i) => [c, i]));
  const n = classes.length;
  const counts = new Array<number>(n * n).fill(0);
  for (const image of images) {
    const a = row.get(image.actual) as number;
    const p = row.get(image.predicted) as number;
    counts[a * n + p] = (counts[a * n + p] as number) + 1;
  }
  return { classes, counts };
}

export function perClassMetrics(matrix: ConfusionMatrix, labels: string[]): ClassMetrics[] {
  const n = matrix.classes.length;
  const at = (a: number, p: number): number => matrix.counts[a * n + p] as number;
  return matrix.classes.map((cls, i) => {
    let support = 0;
    let predictedCount = 0;
    for (let j = 0; j < n; j++) {
      support += at(i, j);
      predictedCount += at(j, i);
    }
    const correct = at(i, i);
    return {
      class: cls,
      label: labels[cls] ?? `class ${cls}`,
      support,
      predictedCount,
      correct,
      precision: predictedCount > 0 ? correct / predictedCount : null,
      recall: support > 0 ? correct / support : null,
    };
  });
}

/** Off-diagonal cells with at least `minCount` images, most first (fastai's most_confused). */
export function mostConfused(matrix: ConfusionMatrix, minCount = 1): ConfusedPair[] {
  const n = matrix.classes.length;
  const pairs: ConfusedPair[] = [];
  for (let a = 0; a < n; a++) {
    for (let p = 0; p < n; p++) {
      const count = matrix.counts[a * n + p] as number;
      if (a !== p && count >= minCount) {
        pairs.push({ actual: matrix.classes[a] as number, predicted: matrix.classes[p] as number, count });
      }
    }
  }
  return pairs.sort((x, y) => y.count - x.count || x.actual - y.actual || x.predicted - y.predicted);
}

/** Indices of the k highest-loss images, highest first (ties: the earlier image first). */
export function topLossIndices(images: DatasetPrediction[], k: number): number[] {
  return Array.from(images.keys())
    .sort((a, b) => (images[b] as DatasetPrediction).loss - (images[a] as DatasetPrediction).loss || a - b)
    .slice(0, Math.max(0, k));
}
