/** Remembers the promise of each key, so a question is asked once; a failed answer is forgotten. */
export class PromiseCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  get(key: string, ask: () => Promise<V>): Promise<V> {
    let pending = this.entries.get(key);
    if (!pending) {
      pending = ask();
      pending.catch(() => this.entries.delete(key));
      this.entries.set(key, pending);
    }
    return pending;
  }
}
