import { describe, expect, it } from 'vitest';
import { ClassMatcher } from '../../../../src-main/engine/dataset/class-matcher';

describe('ClassMatcher', () => {
  const imagenetLike = new ClassMatcher(['tench, Tinca tinca', 'great white shark', 'hen-of-the-woods'], 3);

  it("matches a name without case, spaces, _ or -, and any of a label's comma-separated synonyms", () => {
    expect(imagenetLike.match('Tench')).toBe(0);
    expect(imagenetLike.match('tinca_tinca')).toBe(0);
    expect(imagenetLike.match('great_white_shark')).toBe(1);
    expect(imagenetLike.match('Hen of the woods')).toBe(2);
  });

  it('takes class indices within the model’s classes', () => {
    expect(imagenetLike.match('2')).toBe(2);
    expect(imagenetLike.match('3')).toBeNull();
    expect(new ClassMatcher(null, 10).match('7')).toBe(7);
  });

  it('refuses labels that match nothing, naming the first five and counting the rest', () => {
    const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'tench'];
    expect(() => imagenetLike.matchAll(labels, 'class folder')).toThrow(
      /^7 class folders "a", "b", "c", "d", "e" and 2 more match none of the model's classes \(tench, Tinca tinca, great white shark, hen-of-the-woods\)/,
    );
    expect(() => new ClassMatcher(null, 4).matchAll(['cat'], 'label')).toThrow(/no names, indices 0–3; give a labels file/);
  });
});
