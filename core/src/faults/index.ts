import type { FaultHook } from '../api/faults.js';

/**
 * Every named fault point, with its job. A test fails when the code reaches a point that is not
 * listed here, and the exhaustive crash test runs a scenario for each one listed
 * (docs/reliability.md says what a crash at each leaves behind and how the next run completes it).
 */
export const FAULT_POINTS: Readonly<Record<string, { job: string; after: string }>> = Object.freeze({
  // price pull (terminal): see core/src/jobs/price-pull.ts
  'prices.pull:staged': { job: 'prices.pull', after: 'the file is downloaded to staging, fsynced and hashed; nothing applied' },
  'prices.pull:applied': { job: 'prices.pull', after: 'the catalog and the inbox-log row are committed; the staged copy is not archived yet' },
  'prices.pull:archived': { job: 'prices.pull', after: 'the copy is in archive/; the remote file and its flag are still on the server' },
  'prices.pull:flag-deleted': { job: 'prices.pull', after: 'the flag file is deleted on the server; the data file is still there' },
  'prices.pull:deleted': { job: 'prices.pull', after: 'the remote file is deleted; the inbox-log row is not yet confirmed' },
  // publish (office): see core/src/jobs/publish.ts
  'office.publish:recorded': { job: 'office.publish', after: 'the publish (sequence number, remote name, source sha256) is recorded in the store; nothing is uploaded' },
  'office.publish:uploaded-temp': { job: 'office.publish', after: 'the file is on the server under its temp name; terminals do not take it yet' },
  'office.publish:renamed': { job: 'office.publish', after: 'the file is in the terminal\'s inbox under its name; the back office is not acknowledged' },
  'office.publish:acked': { job: 'office.publish', after: 'the back office is acknowledged; the publish record is not closed yet' },
});

export type FaultPoint = keyof typeof FAULT_POINTS;

/** does nothing: production */
export const noFaults: FaultHook = Object.freeze({ at: () => undefined });

/**
 * The hook of `CFX_FAULT=<point>[,<point>…]`: SIGKILL (no cleanup, no flush: a real crash) the first
 * time the process reaches one of the points. Unknown names fail at once, so a typo in a test
 * cannot pass as "no crash happened".
 */
export function faultsFromEnv(value: string | undefined = process.env['CFX_FAULT']): FaultHook {
  const wanted = new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (wanted.size === 0) return noFaults;
  for (const p of wanted) if (!(p in FAULT_POINTS)) throw new Error(`CFX_FAULT: unknown fault point "${p}" (cfx debug fault-points lists them)`);
  return {
    at(point: string): void {
      if (!wanted.has(point)) return;
      wanted.delete(point);
      process.kill(process.pid, 'SIGKILL');
    },
  };
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
