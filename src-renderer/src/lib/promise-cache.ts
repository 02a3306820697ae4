/**
 * Remembers the promise of each key, so a question is asked once; a failed answer is forgotten. Bounded:
 * past `limit` entries the oldest is dropped (a studio left open all day must not grow without limit).
 */
export class PromiseCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  constructor(private readonly limit = 512) {}

  get(key: string, ask: () => Promise<V>): Promise<V> {
    let pending = this.entries.get(key);
    if (!pending) {
      pending = ask();
      pending.catch(() => this.entries.delete(key));
      this.entries.set(key, pending);
      while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
    }
    return pending;
  }
}
