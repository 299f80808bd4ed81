/**
 * Where "now" comes from (service ref `coreServices.clock`). Every job, the store and the scheduler
 * read time through it, so a test can fix "today" for resend periods, day boundaries and pruning.
 */
export interface Clock {
  now(): Date;
}
