/**
 * Errors a user can act on. `code` lets programs branch; `message` is one sentence saying what is wrong and,
 * where possible, what to do. Anything else thrown inside the engine is a bug and is reported as such.
 */
export type EngineErrorCode =
  | 'bad-model'
  | 'bad-image'
  | 'bad-input'
  | 'not-found'
  | 'unsupported'
  | 'inference-failed'
  | 'invalid-request'
  | 'cancelled'
  | 'storage';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(oneLine(message));
  }
}

// eslint-disable-next-line no-control-regex -- terminal colour codes are exactly what is removed
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * A message as one line: libraries' multi-line texts (libvips repeats each decoder complaint, onnxruntime
 * appends stack-like context) become their distinct lines joined by "; ", without terminal colour codes.
 */
export function oneLine(message: string): string {
  const lines = message
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return [...new Set(lines)].join('; ');
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * onnxruntime's error as a user reads it: the first line, without the C++ source location and function
 * signature it starts with ("/onnxruntime_src/…/model_load_utils.h:46 void onnxruntime::…(…) Unsupported…").
 */
export function runtimeMessage(error: unknown): string {
  return firstSentences(withoutSourceLocation(oneLine(describeError(error).split('\n')[0] ?? '')), 240);
}

function withoutSourceLocation(text: string): string {
  const location = /^\S+\.(?:h|hpp|cc|cpp|c):\d+\s+/.exec(text);
  if (!location) return text;
  const rest = text.slice(location[0].length);
  // The signature ends at the parenthesis that closes its parameter list.
  const open = rest.indexOf('(');
  if (open < 0 || !rest.slice(0, open).includes('::')) return rest;
  let depth = 0;
  for (let i = open; i < rest.length; i++) {
    if (rest[i] === '(') depth++;
    else if (rest[i] === ')' && --depth === 0) return rest.slice(i + 1).replace(/^\s*(const\s*)?/, '') || rest;
  }
  return rest;
}

/** Whole sentences up to about `max` characters (onnxruntime explains some refusals at length). */
function firstSentences(text: string, max: number): string {
  if (text.length <= max) return text;
  const sentences = text.match(/[^.]+(?:\.(?=\s|$)|$)\s*/g) ?? [text];
  let out = '';
  for (const sentence of sentences) {
    if (out.length > 0 && out.length + sentence.length > max) return `${out.trim()} …`;
    out += sentence;
  }
  return out.length > max * 2 ? `${out.slice(0, max)}…` : out.trim();
}
