import pkg from '../../package.json';

/** Stored with every result so that cached runs from another engine version are not mistaken for current ones. */
export const ENGINE_VERSION: string = pkg.version;

/**
 * Part of every stored run's key with ENGINE_VERSION. Bump it in any change that alters a computed number
 * (a map, a statistic), so that runs stored by the earlier code are computed again rather than reused.
 */
export const RESULTS_REVISION = 5;
