/**
 * A data set's labels → the model's class indices. A label is a class name (compared without case,
 * spaces, `_` or `-`; any of a name's comma-separated synonyms, as ImageNet's "tench, Tinca tinca") or a
 * class index. Every label must match: a set whose labels mean nothing to the model is refused, naming
 * the first few, rather than scored as all wrong.
 */
import { EngineError } from '../errors';

const normalise = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');

export class ClassMatcher {
  private readonly byName = new Map<string, number>();

  constructor(
    readonly labels: string[] | null,
    /** How many classes the model outputs, when its output shape says. */
    readonly classCount: number | null,
  ) {
    labels?.forEach((label, index) => {
      const names = [label, ...label.split(',')];
      for (const name of names) {
        const key = normalise(name);
        if (key && !this.byName.has(key)) this.byName.set(key, index);
      }
    });
  }

  match(label: string): number | null {
    const named = this.byName.get(normalise(label));
    if (named !== undefined) return named;
    if (!/^\d+$/.test(label.trim())) return null;
    const index = Number(label.trim());
    const count = this.classCount ?? this.labels?.length ?? null;
    return count === null || index < count ? index : null;
  }

  /** The class of every label, or an error naming the labels that match nothing. */
  matchAll(labels: string[], what: string): number[] {
    const classes = labels.map((l) => this.match(l));
    const unmatched = [...new Set(labels.filter((_, i) => classes[i] === null))];
    if (unmatched.length > 0) {
      const shown = unmatched
        .slice(0, 5)
        .map((l) => `"${l}"`)
        .join(', ');
      const more = unmatched.length > 5 ? ` and ${unmatched.length - 5} more` : '';
      throw new EngineError(
        'bad-input',
        `${unmatched.length === 1 ? `The ${what}` : `${unmatched.length} ${what}s`} ${shown}${more} ${unmatched.length === 1 ? 'matches' : 'match'} none of the model's classes (${this.describeClasses()}): name them as the model does, or by class index.`,
      );
    }
    return classes as number[];
  }

  private describeClasses(): string {
    const count = this.classCount ?? this.labels?.length ?? null;
    if (!this.labels)
      return count ? `no names, indices 0–${count - 1}; give a labels file for names` : 'the model has no class names';
    const shown = this.labels.slice(0, 6).join(', ');
    return this.labels.length > 6 ? `${shown}, … ${this.labels.length} in all` : shown;
  }
}
