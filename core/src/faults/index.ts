import type { FaultHook } from '../api/faults.js';

/**
 * Every named fault point, with its job. A test fails when the code reaches a point that is not
 * listed here, and the exhaustive crash test runs a scenario for each one listed
 * (docs/reliability.md says what a crash at each leaves behind and how the next run completes it).
 */
export const FAULT_POINTS: Readonly<Record<string, { job: string; after: string }>> = Object.freeze({
  // price pull (terminal): see core/src/jobs/price-pull.ts
  'prices.pull:staged': { job: 'prices.pull', after: 'the file is downloaded to staging, fsynced and hashed; nothing applied' },
  // a full file that starts with its clear is built into a fresh catalog file and swapped in (core/src/store/catalog-build.ts)
  'prices.pull:building': { job: 'prices.pull', after: 'a full file: its rows are in the new catalog file (no indexes, nothing synced, not named); the old catalog in use' },
  'prices.pull:built': { job: 'prices.pull', after: 'a full file: the new catalog file is complete (indexes, inbox log) and fsynced; the pointer still names the old one' },
  'prices.pull:swapped': { job: 'prices.pull', after: 'a full file: the pointer names the new catalog file (its inbox-log row open); the old file not yet removed' },
  'prices.pull:applied': { job: 'prices.pull', after: 'the catalog and the inbox-log row are committed; the staged copy is not archived yet' },
  'prices.pull:archived': { job: 'prices.pull', after: 'the copy is in archive/; the remote file and its flag are still on the server' },
  'prices.pull:flag-deleted': { job: 'prices.pull', after: 'the flag file is deleted on the server; the data file is still there' },
  'prices.pull:deleted': { job: 'prices.pull', after: 'the remote file is deleted; the inbox-log row is not yet confirmed' },
  // publish (office): see core/src/jobs/publish.ts
  'office.publish:recorded': { job: 'office.publish', after: 'the publish (sequence number, remote name, source sha256) is recorded in the store; nothing is uploaded' },
  'office.publish:uploaded-temp': { job: 'office.publish', after: 'the file is on the server under its temp name; terminals do not take it yet' },
  'office.publish:renamed': { job: 'office.publish', after: 'the file is in the terminal\'s inbox under its name; the back office is not acknowledged' },
  'office.publish:acked': { job: 'office.publish', after: 'the back office is acknowledged; the publish record is not closed yet' },
  // sales push and resend (terminal): see core/src/jobs/sales-push.ts
  'sales.push:local-copy': { job: 'sales.push', after: "a sale's local copy is written under archive/sales/; the sale is still pending" },
  'sales.push:uploaded-temp': { job: 'sales.push', after: 'the sale file is complete on the server under its temp name (.<name>.part); not renamed' },
  'sales.push:renamed': { job: 'sales.push', after: 'the sale file is on the server under its name; the journal still has the sale pending' },
  'sales.push:recorded': { job: 'sales.push', after: 'a batch of sent marks is committed to the journal' },
  'sales.resend:local-copy': { job: 'sales.resend', after: "a resent sale's local copy is written again (the same bytes)" },
  'sales.resend:uploaded-temp': { job: 'sales.resend', after: 'a resent sale file is complete on the server under its temp name; not renamed' },
  'sales.resend:renamed': { job: 'sales.resend', after: 'a resent sale file replaced the one under its name (or is there again)' },
  'sales.resend:recorded': { job: 'sales.resend', after: 'a batch of sent marks of the resend is committed (a sale that was still pending is settled)' },
  // shift closes, pushed after the sales by the same jobs: see core/src/jobs/sales-push/shift-push.ts
  'sales.push:shift-local-copy': { job: 'sales.push', after: "a shift close's local copy is written under archive/sales/; it is still pending" },
  'sales.push:shift-uploaded-temp': { job: 'sales.push', after: 'the shift close file is complete on the server under its temp name; not renamed' },
  'sales.push:shift-renamed': { job: 'sales.push', after: 'the shift close file is on the server under its name; the journal still has it pending' },
  'sales.push:shift-recorded': { job: 'sales.push', after: 'the shift close is marked sent' },
  'sales.resend:shift-local-copy': { job: 'sales.resend', after: "a resent shift close's local copy is written again (the same bytes)" },
  'sales.resend:shift-uploaded-temp': { job: 'sales.resend', after: 'a resent shift close file is complete under its temp name; not renamed' },
  'sales.resend:shift-renamed': { job: 'sales.resend', after: 'a resent shift close file replaced the one under its name (or is there again)' },
  'sales.resend:shift-recorded': { job: 'sales.resend', after: 'the resent shift close is marked sent (one still pending is settled)' },
  'sales.resend:request-served': { job: 'sales.resend', after: "the period of an office's resend request is resent; the request file is still in the inbox" },
  // sales collect and delivery (office): see core/src/jobs/sales-collect.ts
  'sales.collect:downloaded': { job: 'sales.collect', after: 'a sale file is downloaded to staging, fsynced and hashed; nothing stored' },
  'sales.collect:stored': { job: 'sales.collect', after: "the file's sales are committed to the office inbox (collected); the staged copy is not archived yet" },
  'sales.collect:archived': { job: 'sales.collect', after: 'the staged copy is in archive/sales-in/; the file is still on the server' },
  'sales.collect:deleted': { job: 'sales.collect', after: 'the sale file is deleted on the server' },
  // the fleet step of sales.collect (office): see core/src/jobs/sales-collect/fleet.ts; proven by test/src/fleet.test.ts
  'sales.collect:fleet-shift-stored': { job: 'sales.collect', after: "a shift close file's close is committed to the fleet store; the staged copy is not archived, the file is still on the server" },
  'sales.collect:fleet-gap-requested': { job: 'sales.collect', after: "a resend request for receipt gaps is in the terminal's inbox; the gaps are not yet marked requested" },
  'delivery:batch-assigned': { job: 'delivery', after: 'delivery batches are created and their sales assigned (one transaction); the back office has not been called' },
  'delivery:adapter-done': { job: 'delivery', after: 'the back office has the batch; cfx has not marked it delivered' },
  'delivery:marked': { job: 'delivery', after: 'the batch and its sales are marked delivered' },
});

export type FaultPoint = keyof typeof FAULT_POINTS;

/** does nothing: production */
export const noFaults: FaultHook = Object.freeze({ at: () => undefined });

/** what a point named in CFX_FAULT does: a crash, or (`<point>@SIGTERM`) a signal to stop */
const ACTIONS = { SIGKILL: 'SIGKILL', SIGTERM: 'SIGTERM', SIGINT: 'SIGINT' } as const;

/**
 * The hook of `CFX_FAULT=<point>[,<point>…]`: SIGKILL (no cleanup, no flush: a real crash) the first
 * time the process reaches one of the points. `<point>@SIGTERM` (or `@SIGINT`) sends that signal
 * instead, so a test of the graceful stop gets its signal exactly at a step boundary rather than
 * whenever a timer fires. Unknown names fail at once, so a typo in a test cannot pass as "no crash
 * happened".
 */
export function faultsFromEnv(value: string | undefined = process.env['CFX_FAULT']): FaultHook {
  const wanted = new Map<string, NodeJS.Signals>();
  for (const item of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [p = '', action = 'SIGKILL'] = item.split('@');
    if (!(p in FAULT_POINTS)) throw new Error(`CFX_FAULT: unknown fault point "${p}" (cfx debug fault-points lists them)`);
    if (!(action in ACTIONS)) throw new Error(`CFX_FAULT: "${item}": after @ comes ${Object.keys(ACTIONS).join(', ')}`);
    if (wanted.has(p)) throw new Error(`CFX_FAULT: "${p}" is named twice`);
    wanted.set(p, action as NodeJS.Signals);
  }
  if (wanted.size === 0) return noFaults;
  return {
    at(point: string): void {
      const sig = wanted.get(point);
      if (!sig) return;
      wanted.delete(point);
      if (sig !== 'SIGKILL' && process.listenerCount(sig) > 0) pendingSignal = handled(sig);
      process.kill(process.pid, sig);
    },
  };
}

/** a signal sent by a fault point and not yet handled by the process (see signalHandled) */
let pendingSignal: Promise<void> | undefined;
/** a signal handed to the process stays unhandled until the event loop polls again; no wait is longer than this */
const SIGNAL_DEADLINE_MS = 10_000;

function handled(sig: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, SIGNAL_DEADLINE_MS);
    // added after the process's own handlers, so it runs once they have
    process.once(sig, done);
    function done() {
      clearTimeout(timer);
      process.removeListener(sig, done);
      resolve();
    }
  });
}

/**
 * After a `<point>@SIGTERM`/`@SIGINT` point: a promise of the moment the process has handled that
 * signal, else undefined (production: always undefined). A step that awaits it right after its
 * point is observed in the state the signal put it in ("stopping"), however short the step's
 * I/O is: libuv dispatches a signal only after the I/O callbacks of the poll it arrives in, so a
 * one-round-trip step could otherwise finish before its signal is seen.
 */
export function signalHandled(): Promise<void> | undefined {
  const p = pendingSignal;
  pendingSignal = undefined;
  return p;
}

let current: FaultHook | undefined;
/** points reached in this process (for the test that every listed point is reachable) */
const reached = new Set<string>();

/**
 * The process-wide hook until the DI catalogue carries it as a ref (issue #14): jobs call
 * `fault('sales.push:renamed')` at each step boundary.
 */
export function fault(point: string): void {
  if (!(point in FAULT_POINTS)) throw new Error(`fault point "${point}" is not in FAULT_POINTS (core/src/faults/index.ts)`);
  reached.add(point);
  (current ??= faultsFromEnv()).at(point);
}

/** replaces the hook (tests); `undefined` goes back to CFX_FAULT */
export function setFaultHook(hook: FaultHook | undefined): void {
  current = hook;
}

export function reachedFaultPoints(): ReadonlySet<string> {
  return reached;
}
