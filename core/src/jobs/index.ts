import type { JobContribution } from '../api/index.js';

/** core's own jobs, one folder each (core/src/jobs/<id>/index.ts): the one list the executor reads */
export const CORE_JOB_CONTRIBUTIONS: readonly JobContribution[] = [];
