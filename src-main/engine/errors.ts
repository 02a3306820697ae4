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
    super(message);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
