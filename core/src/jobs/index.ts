import type { JobContribution } from '../api/index.js';

/**
 * core's own jobs, one folder each (core/src/jobs/<id>/index.ts): the one list the executor reads.
 * A new core job is a new folder and one line here (and its id and roles in the host's manifest,
 * CORE_JOBS: a test keeps the two one); a plugin's job needs neither (contributes.jobs).
 *
 * Each module loads when its job first runs: `cfx push` imports the sales push, not the price
 * pull's catalog build nor the office's collect and publish (issue 20, start-up).
 */
export const CORE_JOB_LOADERS: Readonly<Record<string, () => Promise<JobContribution>>> = {
  'prices.pull': async () => (await import('./prices-pull/index.js')).pricesPullJob as JobContribution,
  'sales.push': async () => (await import('./sales-push/index.js')).salesPushJob as JobContribution,
  'sales.resend': async () => (await import('./sales-resend/index.js')).salesResendJob as JobContribution,
  'sales.collect': async () => (await import('./sales-collect/index.js')).salesCollectJob as JobContribution,
  'office.publish': async () => (await import('./office-publish/index.js')).officePublishJob as JobContribution,
  'archive.prune': async () => (await import('./archive-prune/index.js')).archivePruneJob as JobContribution,
  'status.publish': async () => (await import('./status-publish/index.js')).statusPublishJob as JobContribution,
};
