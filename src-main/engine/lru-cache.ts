/**
 * A bounded map that evicts the least recently used entry and hands it to `dispose` (sessions must be
 * released, not just forgotten). Every engine cache goes through this. It is bounded by a count and, where
 * entries differ in size by orders of magnitude (models, sessions, analyses), by bytes too: each entry is
 * weighed when it is set. The entry just set is never evicted by its own weight (it is in use), so one entry
 * above the byte budget is held alone.
 */
export interface ByteBudget<K, V> {
  maxBytes: number;
  /** An entry's weight in bytes, when `set` is not given one. */
  sizeOf?: (value: V, key: K) => number;
}

export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private totalBytes = 0;

  constructor(
    readonly capacity: number,
    private readonly dispose: (value: V, key: K) => void = () => {},
    private readonly budget: ByteBudget<K, V> | null = null,
  ) {
    if (!(capacity >= 1)) throw new RangeError('LruCache capacity must be at least 1');
    if (budget && !(budget.maxBytes > 0)) throw new RangeError('LruCache byte budget must be positive');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The weight of what is held, in bytes (0 without a byte budget). */
  get bytes(): number {
    return this.totalBytes;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry?.value;
  }

  /** The entry without marking it used. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Entries from least to most recently used, without touching their order. */
  values(): V[] {
    return [...this.entries.values()].map((e) => e.value);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** `bytes`: the entry's weight where the caller knows it (default: the budget's sizeOf, else 0). */
  set(key: K, value: V, bytes?: number): void {
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.totalBytes -= previous.bytes;
      if (previous.value !== value) this.dispose(previous.value, key);
    }
    const weight = this.budget ? Math.max(0, bytes ?? this.budget.sizeOf?.(value, key) ?? 0) : 0;
    this.entries.set(key, { value, bytes: weight });
    this.totalBytes += weight;
    const maxBytes = this.budget?.maxBytes ?? Infinity;
    while (this.entries.size > this.capacity || (this.totalBytes > maxBytes && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value as K;
      this.evict(oldest);
    }
  }

  delete(key: K): void {
    if (this.entries.has(key)) this.evict(key);
  }

  clear(): void {
    for (const [key, entry] of this.entries) this.dispose(entry.value, key);
    this.entries.clear();
    this.totalBytes = 0;
  }

  private evict(key: K): void {
    const entry = this.entries.get(key) as { value: V; bytes: number };
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    this.dispose(entry.value, key);
  }
}
