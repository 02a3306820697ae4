/**
 * The shown maps of one image's states, in shared memory. The comparison workers (compare-pool.ts) read
 * views of a SharedArrayBuffer where they are, without the copy a message makes of an ordinary array (a
 * few megabytes per image), and a check allocates a few blocks instead of an array per map: those
 * hundreds of arrays set off collections whose concurrent marking took the cores the comparisons run
 * on (measured, docs/performance.md).
 */

/** Floats per block (1 MiB); a larger map gets a block of its own size. */
const BLOCK = 1 << 18;

export class MapArena {
  private readonly blocks: Float32Array[] = [];
  private block = 0;
  private used = 0;

  /** A view of `length` floats, valid until the next reset(). */
  take(length: number): Float32Array {
    for (; this.block < this.blocks.length; this.block++, this.used = 0) {
      const current = this.blocks[this.block] as Float32Array;
      if (current.length - this.used >= length) {
        const view = current.subarray(this.used, this.used + length);
        this.used += length;
        return view;
      }
    }
    const fresh = new Float32Array(new SharedArrayBuffer(4 * Math.max(BLOCK, length)));
    this.blocks.push(fresh);
    this.used = length;
    return fresh.subarray(0, length);
  }

  /** Every view taken so far may be overwritten: the blocks are reused (they never exceed one image's maps). */
  reset(): void {
    this.block = 0;
    this.used = 0;
  }
}
