/**
 * Messages between the desktop app's main process and its engine process (Electron's utilityProcess, or a
 * Node child in tests). API frames from the window pass through untouched — the engine process decodes and
 * validates them — and a few control messages let the main process push menu commands, grant file paths
 * the user chose, read the recent models for its menu, and print reports to PDF for the engine.
 *
 * Frames carry a channel: one per connected page (the desktop app has one window, channel 0; browser mode
 * one per WebSocket), each with its own API session in the engine; `close` ends a channel's session.
 */
import * as v from 'valibot';
import { MAX_PATH_LENGTH, type AppCommand } from '../../../src-shared/api';
import { VIEW_NAMES } from '../../../src-shared/primitives';

export type ToEngine =
  | { kind: 'frame'; frame: Uint8Array; channel?: number }
  | { kind: 'close'; channel: number }
  | { kind: 'command'; command: AppCommand }
  | { kind: 'grant'; paths: string[] }
  | { kind: 'recent'; id: number }
  | { kind: 'printed'; id: number; pdf: Uint8Array | null; error: string | null };

export type FromEngine =
  | { kind: 'ready' }
  | { kind: 'frame'; frame: Uint8Array; channel?: number }
  | { kind: 'recent'; id: number; models: { name: string; path: string }[] }
  | { kind: 'fatal'; message: string }
  /** A report to print to PDF: the app's own Chromium does it (the engine process has no window). */
  | { kind: 'print'; id: number; html: string };

const path = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH));
const channel = v.pipe(v.number(), v.integer(), v.minValue(0));
const command = v.variant('kind', [
  v.object({ kind: v.literal('open-model'), path }),
  v.object({ kind: v.literal('open-images'), paths: v.array(path) }),
  v.object({ kind: v.literal('view'), view: v.picklist(VIEW_NAMES) }),
  v.object({ kind: v.literal('export-report'), format: v.picklist(['html', 'pdf']) }),
  v.object({ kind: v.literal('settings') }),
]);

export const toEngineSchema = v.variant('kind', [
  v.object({ kind: v.literal('frame'), frame: v.instance(Uint8Array), channel: v.optional(channel) }),
  v.object({ kind: v.literal('close'), channel }),
  v.object({ kind: v.literal('command'), command }),
  v.object({ kind: v.literal('grant'), paths: v.array(path) }),
  v.object({ kind: v.literal('recent'), id: v.number() }),
  v.object({
    kind: v.literal('printed'),
    id: v.number(),
    pdf: v.nullable(v.instance(Uint8Array)),
    error: v.nullable(v.string()),
  }),
]);

/** Either end of the link: Electron's parentPort / UtilityProcess, or a Node child process's IPC channel. */
export interface MessageLink<In, Out> {
  post(message: Out): void;
  subscribe(listener: (message: In) => void): () => void;
}
