/**
 * onnxruntime-node as LayerLens loads it: private and quiet. Imported for its effect before any session is
 * created (onnxruntime reads both settings when it creates its environment, at the first session).
 *
 * - Telemetry off. onnxruntime-node 1.30's Linux build links Microsoft's 1DS telemetry client
 *   (core/platform/posix/telemetry.cc): every process that creates a session reads /etc/machine-id,
 *   writes a device id to $TMPDIR/.ses and leaves an empty $TMPDIR/mat-debug-<pid>.log. Its switch, the
 *   ORT_DISABLE_TELEMETRY environment variable (a string in the library), stops all three (checked with strace).
 * - Its log lines (ANSI-coloured "[W:onnxruntime:…]") are not for LayerLens's users: every failure reaches
 *   them as LayerLens's own one-line error instead.
 */
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

process.env.ORT_DISABLE_TELEMETRY = '1';
ort.env.logLevel = 'fatal';

// Should a build ignore the switch, do not leave its empty per-process log behind.
const debugLog = path.join(tmpdir(), `mat-debug-${process.pid}.log`);
process.once('exit', () => {
  try {
    if (statSync(debugLog).size === 0) rmSync(debugLog);
  } catch {
    // Not there: nothing to clean.
  }
});
