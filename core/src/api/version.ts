/**
 * The plugin API version (semver). Plugins declare `engines.cfx` as a range on it with the
 * major pinned; minor versions only add, a new major breaks.
 */
// 1.1: jobs as contributions (contributes.jobs, registerJob, defineJob), the service catalogue (coreServices), Clock, FaultHook, PriceDecoding.skipped
// 1.2: Transport.capabilities (atomicPut: direct writes instead of temp + rename) and Transport.watch (changes pushed, polling the fallback)
// 1.3: Transport.capabilities.multiplexed (one connection shared by a process's jobs) and WatchOptions.onLive (the poll relaxes while a watch is live)
// 1.4: Transport.writeThenRename (optional: a small temp-name upload as one call)
// 1.5: CallOptions.more (a hint: another upload follows at once)
export const API_VERSION = '1.5.0';
export const API_MAJOR = 1;
