import { DEVICE_CHOICES, type DeviceChoice } from '../../../src-shared/primitives';
/** A mistake in how the CLI was called (exit status 2), as opposed to a model or input problem (1). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseDevice(value: string | undefined): DeviceChoice {
  if (value === undefined) return 'auto';
  const choice = DEVICE_CHOICES.find((d) => d === value);
  if (choice) return choice;
  throw new UsageError(`--device must be ${DEVICE_CHOICES.join(', ')} (got "${value}")`);
}

export function parsePositiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer (got "${value}")`);
  return n;
}

/** Ctrl-C cancels the running job (its partial result is kept) instead of killing the process. */
export function cancelOnInterrupt(): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  return { signal: abort.signal, dispose: () => process.off('SIGINT', onSignal) };
}
