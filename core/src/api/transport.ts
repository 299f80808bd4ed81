import type { Readable } from 'node:stream';
import type { Logger } from './logger.js';

export interface RemoteEntry {
  /** base name, decoded to a JS string (the transport handles wire encodings) */
  name: string;
  size: number;
  /** modification time when the server tells it; FTP LIST may lack seconds */
  mtime?: Date;
  type: 'file' | 'dir' | 'other';
}

export interface CallOptions {
  /** Abort the call; the transport rejects with TransportError('Aborted') and leaves no half-open state behind. */
  signal?: AbortSignal;
  /**
   * API 1.5, a hint only: another upload on this transport follows this one at once (a backlog).
   * A transport may get ready for it inside this call: FTP asks for the next file's data port in
   * the same write as this file's rename, one round trip fewer per file. Ignoring it is correct.
   */
  more?: boolean;
}

/**
 * What a transport declares about itself (API 1.2). Absent = none of them: the safe defaults.
 */
export interface TransportCapabilities {
  /**
   * A `write` is all-or-nothing: until it resolves, readers and listings see the old object (or
   * none), never a part of the new one, and a write cut off midway (crash, abort, lost connection)
   * leaves nothing under the name. Core then uploads under the final name directly instead of
   * temp name + rename (one call instead of two; an object store has no cheap rename). FTP and
   * SFTP must not declare it: a file being written is visible there.
   */
  atomicPut?: boolean;
  /**
   * One instance carries concurrent calls without one waiting behind another (a multiplexed
   * connection, as NATS has): core then gives every job of a process the app's one instance (its
   * `close()` left to the app) instead of a connection each — and a watch shares what the listing
   * of the same directory knows. FTP and SFTP must not declare it: their calls queue on a connection
   * (that is why sales have their own).
   */
  multiplexed?: boolean;
}

/** One change in a watched directory (API 1.2). */
export interface TransportChange {
  /** base name of the entry in the watched directory; "" when the watch re-synchronised and anything may have changed */
  name: string;
  kind: 'put' | 'delete';
}

export interface WatchOptions {
  /** ends the watch: the iterable then finishes without an error */
  signal: AbortSignal;
  /**
   * (API 1.3) The transport says when the watch is live — every change from now on will be
   * yielded (`true`, again after a re-synchronisation) — and when it no longer is (`false`: a
   * lost connection, a stream being rebuilt) while the iterable goes on. Core polls less often only
   * while a watch is live (`prices.watchPoll`); a transport that never calls it keeps the full poll.
   */
  onLive?: (live: boolean) => void;
}

/**
 * Bytes in and out of remote directories. Paths are POSIX, absolute from the server root
 * (`/ftpbox/box-1/prices.csv`). A transport reports failures only as TransportError with one of
 * the closed kinds. It never does temp-name + rename on its own: the core does that (or, for a
 * transport declaring `capabilities.atomicPut`, writes directly), so every transport gets the same
 * reliability rules.
 */
export interface Transport {
  /** what this transport guarantees beyond the contract below (API 1.2) */
  readonly capabilities?: TransportCapabilities;
  /**
   * Optional (API 1.2): changes to the files of `dir` as they happen, so a poll loop can wake at
   * once instead of waiting for its next tick. A hint, not a log: core lists the directory after
   * a change and keeps polling as the fallback, so a missed or repeated event costs only latency.
   * The iterable throws a TransportError when the watch breaks (core falls back to polling and
   * says so once) and ends when `signal` aborts.
   */
  watch?(dir: string, opts: WatchOptions): AsyncIterable<TransportChange>;
  /** Entries of a directory; a missing directory is NotFound. */
  list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]>;
  /** Streams a file's bytes. Errors (NotFound included) surface on the stream. */
  read(path: string, opts?: CallOptions): Readable;
  /** Writes (creates or truncates) a file; resolves with the byte count once the server has it all. */
  write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number>;
  /** Renames, replacing an existing target (FTP RNFR/RNTO, SFTP posix-rename). */
  rename(from: string, to: string, opts?: CallOptions): Promise<void>;
  /**
   * Optional (API 1.4): the temp-name upload of a small buffer as one call — write `data` to
   * `tmp` (created or truncated), then `await between()`, then rename `tmp` to `target`
   * (replacing it), exactly as `write` + `rename` would, in this order. Core calls it instead of
   * those two when present (`putFile`); a transport offers it when one call is cheaper than two
   * (FTP: one lock and deadline, the rename pipelined). `between` is core's step (a fault point,
   * the local copy that must be durable before the file appears): its time does not count against
   * the transport's deadline, and when it throws nothing is renamed (the bytes stay under `tmp`)
   * and its error is rethrown as it is; it must not call this transport (the call may hold its
   * connection). Write/rename failures are TransportErrors as for those calls.
   */
  writeThenRename?(tmp: string, target: string, data: Uint8Array, between: () => Promise<void> | void, opts?: CallOptions): Promise<void>;
  /** Deletes a file; a missing file is NotFound. */
  delete(path: string, opts?: CallOptions): Promise<void>;
  /** Creates a directory and its parents; an existing one is fine. */
  mkdir(path: string, opts?: CallOptions): Promise<void>;
  /** Closes connections; the transport may be used again afterwards (it reconnects). */
  close(): Promise<void>;
}

export interface TransportCreateContext {
  /** the server URL from the config, e.g. ftp://user:pass@host:21 */
  url: URL;
  /** `serverOptions`, validated by the contribution's schema */
  options: Record<string, unknown>;
  logger: Logger;
  /** per-call deadline the transport should honour for each network step */
  timeoutMs: number;
}

export interface TransportProvider {
  /** URL schemes without the colon, e.g. ['ftp', 'ftps'] */
  schemes: string[];
  create(ctx: TransportCreateContext): Transport | Promise<Transport>;
}
