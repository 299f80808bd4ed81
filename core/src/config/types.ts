import type { LogRotation } from '../util/log-file.js';
/** The validated, env-expanded, defaults-applied config (`cfx.yaml`). Keys are a user contract. */
export type Role = 'terminal' | 'office';

export interface PricesConfig {
  /** remote inbox dir; `{terminal}` expands to the terminal id */
  dir: string;
  /** format id, e.g. csv, atol, xml */
  format: string;
  /** poll interval in ms (config accepts "1s", "500ms", "2m" or a number of ms) */
  pollMs: number;
  /** poll interval while the transport's watch is live (prices.watchPoll, default 30 s; never below pollMs) */
  watchPollMs: number;
  /** options handed to the format */
  options: Record<string, unknown>;
  /** largest price file accepted, bytes */
  maxFileBytes: number;
  /** longest line accepted, bytes */
  maxLineBytes: number;
  /** a file is complete when its size is unchanged across two listings this far apart (ms) */
  stableMs: number;
  /** order of the complete files of one listing (docs: README "What happens to a price file") */
  order: PriceOrder;
  /** a full file with no products may empty the catalog */
  allowEmptyFull: boolean;
  /** quarantine a full file removing more than this share of the catalog; undefined: off */
  maxRemovedShare?: number;
}

export type PriceOrder = 'natural' | 'name' | 'mtime';

export interface SalesConfig {
  /** remote sales dir; `{terminal}` expands to the terminal id (on the office: one dir per terminal) */
  dir: string;
  format: string;
  options: Record<string, unknown>;
  /** parallel upload connections for a backlog */
  connections: number;
  /** a dir the till drops sale JSON files into; optional */
  spool?: string;
  /** office: largest sale file accepted, bytes (a sale file holds one sale) */
  maxFileBytes: number;
}

/** terminal: the status file (docs/fleet.md) */
export interface StatusConfig {
  /** remote dir of `<terminal>.status.json`; `{terminal}` expands */
  dir: string;
  /** written at least this often, ms (and soon after every change) */
  everyMs: number;
}

export interface BackOfficeConfig {
  use: string;
  options: Record<string, unknown>;
}

export interface ScheduleEntry {
  job: string;
  /** node-cron expression */
  cron: string;
}

/** the local admin page and HTTP API (`admin:` in cfx.yaml); absent: `cfx run` serves none */
export interface AdminConfig {
  /** as written (or the default), `host:port` */
  listen: string;
  /** the host part, without brackets for IPv6 */
  host: string;
  port: number;
  /** true for 127.0.0.0/8, ::1 and localhost */
  loopback: boolean;
  /** bearer token required for state-changing calls (and for any non-loopback listen) */
  token?: string;
}

export interface CfxConfig {
  /** absolute path of the file the config came from (undefined for an in-memory config) */
  file?: string;
  role: Role;
  terminal?: string;
  /** office role: the terminals it serves */
  terminals: string[];
  /** absolute */
  dataDir: string;
  /** the server URL; its scheme picks the transport plugin */
  server: string;
  serverOptions: Record<string, unknown>;
  /** deadline for one remote call, ms */
  timeoutMs: number;
  prices: PricesConfig;
  sales: SalesConfig;
  backoffice: BackOfficeConfig;
  /** extra plugins: npm package names or paths (relative to the config file) */
  plugins: string[];
  /** options per plugin id, handed to activate() as ctx.config */
  pluginOptions: Record<string, Record<string, unknown>>;
  schedule: ScheduleEntry[];
  archive: { keepDays: number };
  /** terminal: the status file the office reads (docs/fleet.md) */
  status: StatusConfig;
  /** office: staleness and the receipt-gap back-off, ms */
  fleet: { staleAfterMs: number; gapRetryMs: number; gapRetryMaxMs: number };
  /** `rotate` is set (the defaults, or false) whenever `file` is */
  log: { level: string; file?: string; rotate?: LogRotation | false };
  /** the admin page and HTTP API; undefined when the key is absent */
  admin?: AdminConfig;
}
