import { coreServices, defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { pruneArchive } from './prune.js';

export { pruneArchive } from './prune.js';

/** archive.prune (both roles): archive day folders older than archive.keepDays removed; "today" is the clock's */
export const archivePruneJob = defineJob({
  id: 'archive.prune',
  roles: ['terminal', 'office'],
  description: 'remove archive day folders older than archive.keepDays',
  deps: { config: coreRefs.config, clock: coreServices.clock, logger: coreServices.logger },
  create({ config, clock, logger }) {
    return {
      async run() {
        const removed = pruneArchive(config.dataDir, config.archive.keepDays, clock.now());
        logger.info({ removed: removed.length, keepDays: config.archive.keepDays }, 'archive pruned');
        return { result: removed.length ? 'ok' : 'idle', files: removed.length, details: { removed: removed.length, keepDays: config.archive.keepDays }, output: { removed } };
      },
    };
  },
});
