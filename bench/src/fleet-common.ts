// What the fleet bench (fleet.ts) and its child (fleet-child.ts) share: the IPC messages and names.
import { performance } from 'node:perf_hooks';

export interface FleetChildSpec {
  /** server URL of every terminal (ftp://… or nats://…) */
  server: string;
  /** prices.dir (`{terminal}` in it: each terminal's inbox) and sales.dir */
  inboxDir: string;
  salesDir: string;
  /** where the terminals' deployments (cfx.yaml + dataDir) go */
  scratch: string;
  /** prices.poll, ms; each terminal starts at a random moment within one (a fleet does not poll in step) */
  pollMs: number;
  /** prices.watchPoll, ms (the poll while the watch is live); absent: cfx's default */
  watchPollMs?: number;
  /** one log file for the whole fleet (warnings and errors only) */
  logFile: string;
  /** more YAML for every terminal's cfx.yaml (plugins, transport options) */
  extra?: string;
  /** this process runs the terminals whose index % shards === shard (default one process: 0 of 1) */
  shard?: number;
  shards?: number;
}

/** a child's answer to `await`: its terminals' applied times by fleet index */
export interface AwaitAnswer {
  appliedAt: [number, number | null][];
  /** when its watch reported the new file (null: no watch event before the apply, e.g. a poll found it) */
  wokenAt: [number, number | null][];
  missing: string[];
  wrong: string[];
  late: { terminal: string; appliedAt: number; listErrors: number; lastError?: string }[];
}

export type FleetRequest =
  | { op: 'grow'; n: number }
  | { op: 'counts' }
  | { op: 'await'; since: number; n: number; expect: { code: string; price: number }; timeoutMs: number }
  | { op: 'close' };

export const terminalName = (i: number): string => `t${String(i + 1).padStart(5, '0')}`;

/** wall-clock ms with sub-ms precision, comparable across processes */
export const epochMs = (): number => performance.timeOrigin + performance.now();
