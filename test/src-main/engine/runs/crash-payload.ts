/** Deterministic, large result blobs for the crash test: big enough that a kill lands inside a write. */
export function runPayload(n: number): Record<string, Uint8Array> {
  const blobs: Record<string, Uint8Array> = {};
  for (let part = 0; part < 4; part++) {
    const data = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = (n * 31 + part * 7 + i / 4096) & 0xff;
    blobs[`part-${part}`] = data;
  }
  return blobs;
}
