/**
 * The scan of one image's activation (see scan-activation.ts for what it computes) in WebAssembly with
 * SIMD: about twice as fast as the best JavaScript loop, which matters because on a small model the scan
 * costs as much as inference itself. The bytes are scan-kernel.wat as assembled by wabt
 * (scan-kernel-wasm.ts, written by `npm run wasm`); the tests check the kernel against the plain
 * JavaScript loop bit for bit. Where the runtime lacks Wasm SIMD, the JavaScript scan is used.
 */
import { f32AtLeast, f32AtMost, NEAR_ZERO, type ScanOutput } from './scan-activation';
import { SCAN_KERNEL_WASM } from './scan-kernel-wasm';

export interface KernelExports {
  memory: WebAssembly.Memory;
  scan(
    src: number,
    channels: number,
    per: number,
    lo: number,
    scale: number,
    bins: number,
    near: number,
    out: number,
    hist: number,
    lo32: number,
    hi32: number,
  ): void;
}

/** The float32 thresholds of a range that make the kernel's float32 comparisons exact (see scan-kernel.wat). */
export interface KernelBounds {
  near32: number;
  lo32: number;
  hi32: number;
}

export function kernelBounds(lo: number, hi: number): KernelBounds {
  return { near32: f32AtMost(NEAR_ZERO), lo32: f32AtLeast(lo), hi32: f32AtMost(hi) };
}

/**
 * Runs the kernel on one activation (scanActivation's contract). Self-contained — it names nothing but its
 * parameters and globals — because scan-pool.ts also runs its source text in a worker thread.
 */
export function scanWithKernel(
  kernel: KernelExports,
  values: Float32Array,
  channels: number,
  lo: number,
  hi: number,
  bins: number,
  bounds: KernelBounds,
  out: ScanOutput,
): void {
  const subHistograms = 8;
  const per = Math.floor(values.length / channels);
  const stride = bins + 1;
  // Layout: per-channel figures, then the sub-histograms, then the activation (16-byte aligned).
  const histAt = (channels * 24 + 15) & ~15;
  const srcAt = (histAt + subHistograms * stride * 4 + 15) & ~15;
  const needed = srcAt + channels * per * 4;
  const memory = kernel.memory;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const buffer = memory.buffer;
  new Float32Array(buffer, srcAt, channels * per).set(values.subarray(0, channels * per));
  const hist = new Int32Array(buffer, histAt, subHistograms * stride);
  hist.fill(0);
  kernel.scan(srcAt, channels, per, lo, bins / (hi - lo), bins, bounds.near32, 0, histAt, bounds.lo32, bounds.hi32);
  const figures = new Float64Array(buffer, 0, channels * 3);
  for (let c = 0; c < channels; c++) {
    out.channelSum[c] = figures[3 * c] as number;
    out.channelSumSq[c] = figures[3 * c + 1] as number;
    out.channelNear[c] = figures[3 * c + 2] as number;
  }
  for (let k = 0; k < bins; k++) {
    let count = 0;
    for (let s = 0; s < subHistograms; s++) count += hist[s * stride + k] as number;
    out.hist[k] = count;
  }
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where this runtime lacks Wasm SIMD. */
export function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Uint8Array.from(atob(SCAN_KERNEL_WASM), (c) => c.charCodeAt(0));
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

export class WasmScanner {
  private readonly kernel: KernelExports;

  private constructor(module: WebAssembly.Module) {
    this.kernel = new WebAssembly.Instance(module).exports as unknown as KernelExports;
  }

  /** A scanner with its own memory, or null where this runtime cannot run the kernel. */
  static create(): WasmScanner | null {
    const m = kernelModule();
    return m ? new WasmScanner(m) : null;
  }

  /** Same contract as scanActivation. */
  scan(values: Float32Array, channels: number, lo: number, hi: number, bins: number, out: ScanOutput): void {
    scanWithKernel(this.kernel, values, channels, lo, hi, bins, kernelBounds(lo, hi), out);
  }
}
