/**
 * The plugin API version (semver). Plugins declare `engines.cfx` as a range on it with the
 * major pinned; minor versions only add, a new major breaks.
 */
export const API_VERSION = '1.1.0';
export const API_MAJOR = 1;
