import pkg from '../../package.json';

/** Stored with every result so that cached runs from another engine version are not mistaken for current ones. */
export const ENGINE_VERSION: string = pkg.version;
