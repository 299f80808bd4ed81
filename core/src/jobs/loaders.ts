import type { JobContribution } from '../api/index.js';

/**
 * core's jobs by id, each module loaded when its job first runs: `cfx push` imports the sales push,
 * not the price pull's catalog build, the office's collect and publish (issue 20, start-up). The
 * same jobs as CORE_JOB_CONTRIBUTIONS (./index.ts), which loads them all; a test keeps the two one.
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
