import type { JobContribution } from '../api/index.js';
import { archivePruneJob } from './archive-prune/index.js';
import { officePublishJob } from './office-publish/index.js';
import { pricesPullJob } from './prices-pull/index.js';
import { salesCollectJob } from './sales-collect/index.js';
import { salesPushJob } from './sales-push/index.js';
import { salesResendJob } from './sales-resend/index.js';
import { statusPublishJob } from './status-publish/index.js';

/**
 * core's own jobs, one folder each (core/src/jobs/<id>/index.ts): the one list the executor reads.
 * A new core job is a new folder and one line here; a plugin's job needs neither (contributes.jobs).
 */
export const CORE_JOB_CONTRIBUTIONS: readonly JobContribution[] = [pricesPullJob, salesPushJob, salesResendJob, salesCollectJob, officePublishJob, archivePruneJob, statusPublishJob] as readonly JobContribution[];
