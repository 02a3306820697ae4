/**
 * A size-bounded map that evicts the least recently used entry and hands it to `dispose`
 * (sessions must be released, not just forgotten). Every engine cache goes through this.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly dispose: (value: V, key: K) => void = () => {},
  ) {
    if (!(capacity >= 1)) throw new RangeError('LruCache capacity must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Entries from least to most recently used, without touching their order. */
  values(): V[] {
    return [...this.entries.values()];
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    const previous = this.entries.get(key);
    if (previous !== undefined && previous !== value) this.dispose(previous, key);
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      const evicted = this.entries.get(oldest) as V;
      this.entries.delete(oldest);
      this.dispose(evicted, oldest);
    }
  }

  delete(key: K): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.dispose(value, key);
  }

  clear(): void {
    for (const [key, value] of this.entries) this.dispose(value, key);
    this.entries.clear();
  }
}
