/**
 * The engine process runs below normal CPU priority, so that on a busy machine the process serving the pages
 * (the desktop app's main process, `layerlens serve`) is scheduled first: inference fills the cores, the UI
 * still answers at once. The engine process's entry lowers itself first thing (run-lowered.ts); hosts start it
 * in a session of its own where that matters (ENGINE_DETACHED).
 *
 * On Linux a priority belongs to a thread, and a new thread inherits its creator's: every thread that exists
 * now (the main one, V8's and libuv's workers) is lowered, so every later one (onnxruntime's pools) starts
 * lowered too. On macOS and Windows it is the process's.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';

/**
 * Whether a host starts the engine process in a session of its own (Linux): the kernel's autogroups share the
 * CPU between sessions first, so an engine in the server's session would spend the server's share too and
 * make it wait behind every other session's work, whatever the engine's nice value.
 */
export const ENGINE_DETACHED = process.platform === 'linux';

/** Nice 10: well behind the UI, still ahead of the machine's idle-priority work. */
export const ENGINE_NICE = 10;

function lower(id: number): void {
  try {
    // Only ever lowered (an unprivileged process cannot raise it back).
    if (os.getPriority(id) < ENGINE_NICE) os.setPriority(id, ENGINE_NICE);
  } catch {
    // Not permitted here (some sandboxes) or the thread is gone: it keeps its priority.
  }
}

export function lowerEnginePriority(): void {
  let threads: number[] = [];
  try {
    if (process.platform === 'linux') threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // No /proc: the process's own call below.
  }
  if (threads.length === 0) lower(0);
  threads.forEach(lower);
}
