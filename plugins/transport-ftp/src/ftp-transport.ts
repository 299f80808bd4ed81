import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Readable, Transform, Writable, pipeline } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { Client, FTPError, enterPassiveModeIPv6, type FTPContext, type FTPResponse } from 'basic-ftp';
import { enterPassiveModeIPv4_forceControlHostIP } from 'basic-ftp/dist/transfer.js';
import {
  CfxError, ErrorCodes, TransportError,
  type CallOptions, type Logger, type RemoteEntry, type Transport, type TransportCreateContext,
} from '@cfx/core/api';
import { isSessionEnded, scrub, toTransportError } from './errors.js';
import { parseListing, parseListingLines, toRemoteEntry } from './listing.js';
import { echoesNonce, newNonce, statExchange, StatDesync } from './stat.js';
import { nameCodec, type NameCodec, type NameEncoding } from './names.js';

/** `serverOptions` for ftp:// and ftps:// (schema in package.json). */
export interface FtpTransportOptions {
  /** overrides the user in the URL */
  user?: string;
  /** overrides the password in the URL; a secret */
  password?: string;
  /** how the server encodes file names; default utf8 */
  encoding?: NameEncoding;
  /** only passive mode is supported (active mode needs inbound connections to the client) */
  passive?: boolean;
  /** send NOOP after this much idle time, for firewalls/NAT that drop idle connections silently; 0 = off */
  keepAliveMs?: number;
  /**
   * how directories are listed: `stat` = `STAT <dir>` on the control connection (no data
   * connection), `list` = LIST/MLSD over a data connection, `auto` (default) = STAT where the
   * connection's first answer shows it works and the server has no MLSD, LIST otherwise
   */
  listing?: ListingMode;
  /** ftps:// only (explicit TLS, AUTH TLS) */
  tls?: { rejectUnauthorized?: boolean; ca?: string; servername?: string };
}

export type ListingMode = 'auto' | 'stat' | 'list';

type Reason = 'timeout' | 'abort';

/** basic-ftp's cap on a LIST transfer (Client option maxListingBytes), the same for a STAT reply */
const MAX_LISTING_BYTES = 40 * 1024 * 1024;

/**
 * STAT is used only for paths it reads as one plain path: pure-ftpd answers `STAT <a dir with a
 * space>` with an empty listing (the words are taken as separate arguments) and both servers glob
 * `*?[`, a leading `-` may be read as ls options. Such a path is listed with LIST (per call).
 */
const STAT_UNSAFE_PATH = /[\s*?[\]{}~]|(^|\/)-/;

type TransferStrategy = (ftp: FTPContext) => Promise<FTPResponse>;

/** What a running call can tell run(): progress, and "the slow side is the caller, not the server". */
interface Call {
  touch(): void;
  waitingOnCaller?: () => boolean;
  /** the passive reply the previous call got for this one (see Spare); taken by the first lean STOR */
  spare?: Spare | undefined;
}

/**
 * A passive reply asked for in the same write as a rename, because the caller said another upload
 * follows at once (CallOptions.more): the next lean STOR on that connection connects to its port
 * instead of sending EPSV and waiting — one round trip fewer per file of a backlog. Only the call
 * right after the rename may take it (run() hands it to that call and forgets it, so a LIST, a
 * NOOP or anything else in between, which may make the server drop the listener, voids it), and
 * only while it is fresh.
 */
interface Spare {
  c: Client;
  port: number;
  at: number;
}

/** a spare passive port older than this is not used: a new EPSV replaces it on the server */
const SPARE_MAX_AGE_MS = 5_000;

/** The call holding the connection, as the watchdog sees it. */
interface ActiveCall extends Call {
  /** Date.now() of the last progress */
  last: number;
  kill(reason: Reason): void;
}

/** A source stream failed during an upload: that is the caller's error, passed through as it is. */
class SourceFailed {
  constructor(readonly error: unknown) {}
}

/** The data port of a 229 (EPSV) or 227 (PASV) reply; undefined when it names none. */
function passivePort(stage: 'EPSV' | 'PASV', message: string): number | undefined {
  let port: number | undefined;
  if (stage === 'EPSV') {
    const m = /\(([^\d\s])\1\1(\d+)\1\)/.exec(message);
    port = m ? Number(m[2]) : undefined;
  } else {
    const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(message);
    port = m ? Number(m[5]) * 256 + Number(m[6]) : undefined;
  }
  return port !== undefined && port > 0 && port < 65536 ? port : undefined;
}

/** The caller's step inside a call (writeThenRename's `between`) failed: passed through as it is, the connection kept. */
class CallerFailed {
  constructor(readonly error: unknown) {}
}

const CHUNK = 64 * 1024;

/**
 * Calls into basic-ftp that start a task: every task records `new Error().stack` (only to explain
 * "a task while another one is still running", which the mutex rules out), and formatting that
 * stack was ~10 % of the CPU of a small upload. The limit is set around the synchronous start of
 * the call only, and put back before anything else runs.
 */
function task<T>(start: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** see write(): 5 ms was enough in 60 of 60 tries on loopback, 2 ms was not; 25 ms leaves room for a busy event loop */
const EMPTY_TLS_UPLOAD_HOLD_MS = 25;

/** A Buffer as a stream of 64 KiB chunks, so upload progress (and the inactivity deadline) moves per chunk. */
function chunked(buf: Uint8Array, onChunk?: () => void): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= buf.length) return void this.push(null);
      const end = Math.min(off + CHUNK, buf.length);
      onChunk?.();
      this.push(Buffer.from(buf.buffer, buf.byteOffset + off, end - off));
      off = end;
    },
  });
}

/**
 * ftp:// and ftps:// (explicit TLS) over one basic-ftp connection.
 *
 * basic-ftp closes the client when two commands overlap, so every call queues on one mutex.
 * The connection opens on first use and stays open (a vsftpd login costs ~34 ms); a call that finds
 * it dead reconnects. Every call has a deadline (inactivity-based for transfers, so a big file on a
 * slow line is fine while a hang is not) and honours an AbortSignal; both close the connection,
 * because closing it is the only way to stop an FTP command, and the next call reconnects.
 */
export class FtpTransport implements Transport {
  private client: Client | undefined;
  private tail: Promise<void> = Promise.resolve();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** the call holding the connection, and the one timer that keeps its deadline */
  private active: ActiveCall | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly codec: NameCodec;
  private readonly host: string;
  private readonly port: number;
  private readonly user: string | undefined;
  private readonly password: string | undefined;
  private readonly secure: boolean;
  private readonly tls: ConnectionOptions;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly listingMode: ListingMode;
  /** this connection answered EPSV with an error: storeLean asks PASV (reset on every new connection) */
  private epsvRefused = false;
  /** the passive reply that came with the last rename, for the next call (see Spare) */
  private spare: Spare | undefined;
  /** how this connection lists, once its first STAT answered (reset on every new connection) */
  private listingBy: 'stat' | 'list' | undefined;
  private readonly log: Logger;
  private readonly trace: (msg: string) => void;
  /** for messages: scheme://user@host:port, never the password */
  readonly where: string;

  constructor(ctx: TransportCreateContext) {
    const o = ctx.options as FtpTransportOptions;
    const url = ctx.url;
    const scheme = url.protocol.replace(/:$/, '');
    if (scheme !== 'ftp' && scheme !== 'ftps') throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-ftp: unsupported scheme ${scheme}:`);
    if (o.passive === false) throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-ftp: only passive mode is supported (serverOptions.passive: false)');
    if (o.encoding !== undefined && o.encoding !== 'utf8' && o.encoding !== 'cp1251') {
      throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-ftp: encoding must be utf8 or cp1251, not ${String(o.encoding)}`);
    }
    if (o.listing !== undefined && o.listing !== 'auto' && o.listing !== 'stat' && o.listing !== 'list') {
      throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-ftp: listing must be auto, stat or list, not ${String(o.listing)}`);
    }
    this.listingMode = o.listing ?? 'auto';
    this.log = ctx.logger;
    this.codec = nameCodec(o.encoding);
    this.secure = scheme === 'ftps';
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port ? Number(url.port) : 21;
    this.user = o.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
    this.password = o.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.secrets = this.password ? [this.password] : [];
    this.timeoutMs = ctx.timeoutMs > 0 ? ctx.timeoutMs : 30_000;
    this.keepAliveMs = o.keepAliveMs ?? 0;
    this.where = `${scheme}://${this.user ? `${this.user}@` : ''}${url.host}`;

    this.tls = {};
    if (this.secure) {
      const t = o.tls ?? {};
      if (t.ca) {
        try {
          this.tls.ca = readFileSync(t.ca);
        } catch (e) {
          throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-ftp: tls.ca ${t.ca}: ${(e as Error).message}`, { cause: e });
        }
      }
      if (t.servername) this.tls.servername = t.servername;
      if (t.rejectUnauthorized === false) {
        this.tls.rejectUnauthorized = false;
        this.log.warn({ server: this.where }, 'FTPS certificate verification is OFF (tls.rejectUnauthorized: false): anyone on the path can read and change the traffic');
      }
    } else if (o.tls) {
      this.log.warn({ server: this.where }, 'tls options are ignored for ftp:// (use ftps:// for explicit TLS)');
    }

    const log = this.log;
    const secrets = this.secrets;
    // basic-ftp logs every command and reply when verbose; route it to trace only (PASS is masked by basic-ftp)
    this.trace = typeof log.isLevelEnabled === 'function' && log.isLevelEnabled('trace') ? (m) => log.trace({ ftp: scrub(m, secrets) }, 'basic-ftp') : () => {};
  }

  // ---------- the Transport contract ----------

  list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    return this.run('list', dir, opts, () => true, async (c) => {
      const wire = this.codec.out(dir);
      if (this.statUsable(c, wire)) {
        const listed = await this.statList(c, dir, wire);
        if (listed) return listed;
      }
      const files = await c.list(wire);
      // vsftpd answers LIST of a missing directory with an empty listing and 226, not 550:
      // an empty answer is checked with CWD (550 → NotFound). Costs a round trip only when empty.
      if (files.length === 0) await c.cd(wire);
      return files.map((f) => toRemoteEntry(f, this.codec.in));
    });
  }

  /** STAT for this call? (the mode, what this connection showed, MLSD, the path's characters) */
  private statUsable(c: Client, wire: string): boolean {
    if (this.listingMode === 'list' || this.listingBy === 'list' || STAT_UNSAFE_PATH.test(wire)) return false;
    // auto: a server with MLSD gives exact facts (seconds, dot files) that STAT's ls lines do not
    return this.listingMode === 'stat' || c.availableListCommands[0] !== 'MLSD';
  }

  /**
   * `STAT <dir>` (see stat.ts): the listing, or undefined when this connection lists with LIST
   * from now on (the server does not do it, or its answer is not a listing; `listing: stat` makes
   * that an error instead).
   */
  private async statList(c: Client, dir: string, wire: string): Promise<RemoteEntry[] | undefined> {
    const ftp = c.ftp;
    if (this.listingBy === undefined) {
      // the end of a STAT reply is proven by REST echoing a nonce: the server must do that
      const nonce = newNonce();
      const probe = await c.sendIgnoringError(`REST ${nonce}`);
      const reset = await c.sendIgnoringError('REST 0');
      if (!echoesNonce(probe.message, nonce)) return this.notStat(dir, `REST does not echo its offset ("${probe.message}")`);
      // a restart offset left at the nonce would make the next STOR write at that offset
      if (reset.code !== 350) throw new StatDesync(`REST 0 answered "${reset.message}"`);
    }
    let reply;
    try {
      reply = await task(() => statExchange(ftp, wire, MAX_LISTING_BYTES));
    } catch (e) {
      if (e instanceof StatDesync) {
        this.discard(); // out of step with the server's replies: this connection is done
        throw new TransportError('Protocol', scrub(`ftp list ${dir}: ${e.message}`, this.secrets), { path: dir, cause: e });
      }
      throw e;
    }
    if (reply.code >= 400) {
      // 500/501/502/504: no STAT with a path here. Other errors are about the path, when STAT is known to work.
      if ([500, 501, 502, 504].includes(reply.code)) return this.notStat(dir, reply.head);
      if (this.listingBy === 'stat') throw new FTPError({ code: reply.code, message: reply.head });
      return undefined; // LIST gives this path's answer; the next STAT decides again
    }
    if (![211, 212, 213].includes(reply.code) || reply.malformed) return this.notStat(dir, `not a listing: "${reply.head}"`);
    let parsed;
    try {
      parsed = parseListingLines(reply.body);
    } catch (e) {
      return this.notStat(dir, (e as Error).message);
    }
    this.listingBy = 'stat';
    // no line at all: vsftpd lists "." in an existing dir, so this is a missing dir (or pure-ftpd's
    // empty one): CWD says which, as after an empty LIST
    if (parsed.lines === 0) await c.cd(wire);
    return parsed.files.map((f) => toRemoteEntry(f, this.codec.in));
  }

  private notStat(dir: string, why: string): undefined {
    if (this.listingMode === 'stat') {
      throw new TransportError('Protocol', scrub(`ftp list ${dir}: the server does not list with STAT (${why}); set serverOptions.listing to auto or list`, this.secrets), { path: dir });
    }
    this.listingBy = 'list';
    this.log.debug({ server: this.where, why }, 'STAT <dir> is not usable on this connection; listing with LIST');
    return undefined;
  }

  read(path: string, opts?: CallOptions): Readable {
    // The bytes go: data socket → sink (per attempt) → out. basic-ftp calls end() on its destination
    // even when the transfer fails, so it never gets `out` itself: a failed download must end in
    // an error, never in a clean (truncated) end.
    let resume: (() => void) | undefined;
    const out = new Readable({ read: () => resume?.() });
    let delivered = 0;
    const gone = new AbortController();
    out.once('close', () => gone.abort());
    const signal = opts?.signal ? AbortSignal.any([opts.signal, gone.signal]) : gone.signal;

    this.run('read', path, { signal }, () => delivered === 0, async (c, call) => {
      // our side is the slow one while the reader does not take what we have
      call.waitingOnCaller = () => out.readableLength >= out.readableHighWaterMark;
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          delivered += chunk.length;
          call.touch();
          if (out.push(chunk)) return cb();
          resume = () => {
            resume = undefined;
            cb();
          };
        },
      });
      await c.downloadTo(sink, this.codec.out(path));
    }).then(
      () => out.push(null),
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }

  write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    // never retried: a half-done STOR leaves the server in a state only the caller can judge
    return this.run('write', path, opts, () => false, async (c, call) => {
      if (data instanceof Uint8Array && (data.length > 0 || !this.secure)) {
        const wire = this.codec.out(path);
        // A small buffer over plain FTP (a sale file, say): see storeLean.
        if (this.leanUsable(wire, data)) await this.storeLean(c, wire, data, call, path);
        // Any other buffer: no source that can fail and nothing to count, so none of the
        // Transform + pipeline below; progress still moves per 64 KiB chunk.
        else await c.uploadFrom(chunked(data, call.touch), wire);
        return data.length;
      }
      let n = 0;
      let sourceError: unknown;
      const src = data instanceof Uint8Array ? chunked(data) : data;
      const secure = this.secure;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          n += chunk.length;
          call.touch();
          cb(null, chunk);
        },
        flush(cb) {
          // Node 20 loses the client's last handshake flight and close_notify when a TLS data
          // connection with a resumed session is ended right after 'secureConnect' with nothing
          // written (vsftpd: "DATA connection terminated without SSL shutdown", 426). Only a
          // zero-byte FTPS upload does that: hold its end a moment after the data starts to flow.
          if (!secure || n > 0) return cb();
          const later = () => setTimeout(cb, EMPTY_TLS_UPLOAD_HOLD_MS);
          if (this.readableFlowing) later();
          else this.once('resume', later);
        },
      });
      // remember a failure of the caller's source (not the teardown that follows our own failure)
      src.once('error', (e) => {
        if (!counter.destroyed) sourceError = e;
      });
      pipeline(src, counter, () => {});
      try {
        await c.uploadFrom(counter, this.codec.out(path));
      } catch (e) {
        if (sourceError !== undefined) throw new SourceFailed(sourceError);
        throw e;
      }
      return n;
    });
  }

  /**
   * Writes a small buffer under `tmp`, awaits the caller's `between` step (core: the fault point
   * and the durable local copy — the rename must not be sent before it), then renames `tmp` to
   * `target`: all in ONE call (one lock, one deadline) instead of a write and a rename. Over plain
   * FTP the STOR goes through storeLean and RNFR+RNTO go out in one write; FTPS, a buffer over one
   * chunk and a name the lean path does not take make the two ordinary calls instead.
   * `between` failing: nothing is renamed (the bytes stay under `tmp`) and its error is passed on as it is.
   */
  async writeThenRename(tmp: string, target: string, data: Uint8Array, between: () => Promise<void> | void, opts?: CallOptions): Promise<void> {
    const src = this.codec.out(tmp);
    const dst = this.codec.out(target);
    if (!this.leanUsable(src, data) || /[\r\n\0]/.test(dst)) {
      await this.write(tmp, data, opts);
      await between();
      await this.rename(tmp, target, opts);
      return;
    }
    return this.run('write', tmp, opts, () => false, async (c, call) => {
      await this.storeLean(c, src, data, call, tmp);
      // time spent in the caller's step is the caller's, not the server's (the deadline waits)
      call.waitingOnCaller = () => true;
      try {
        await between();
      } catch (e) {
        throw new CallerFailed(e);
      }
      call.waitingOnCaller = undefined;
      call.touch();
      // aborted or timed out during the step: the connection is gone, and so is the rename
      if (c.closed) throw new Error('Client is closed: the connection was closed before the rename');
      await this.renameOn(c, tmp, target, src, dst, opts?.more === true);
    });
  }

  /** Does a buffer go through storeLean? Plain FTP, one chunk, a name the control line can carry as it is. */
  private leanUsable(wire: string, data: Uint8Array): boolean {
    return !this.secure && data.length <= CHUNK && !wire.startsWith(' ') && !/[\r\n\0]/.test(wire);
  }

  /**
   * STOR of a buffer of at most one chunk over a plain data connection of our own. One reply
   * handler carries the whole exchange: EPSV (PASV where this connection found EPSV refused) →
   * connect the data socket to the port it names and write the bytes with the FIN at once → STOR →
   * 150 → 226 (sent once the server has read the whole file). No command is sent before the
   * previous reply (EPSV and STOR in one write stalled once in a crash/resend scenario). basic-ftp's
   * transfer helpers (a Socket set up for any transfer, its stream timeouts, per-command tasks,
   * the transfer tracker) cost about twice the CPU per 2 KiB file (bench/README.md, issue 20).
   * The deadline: each reply is progress; a data socket error fails the call (run() then drops
   * the connection, whose state is unknown); a 4xx/5xx reply leaves the session usable.
   */
  private async storeLean(c: Client, wire: string, buf: Uint8Array, call: Call, path: string): Promise<void> {
    const ftp = c.ftp;
    const control = ftp.socket;
    const host = control.remoteAddress;
    let data: Socket | undefined;
    let stage: 'EPSV' | 'PASV' | 'STOR' = this.epsvRefused ? 'PASV' : 'EPSV';
    let started = false;
    const send = (cmd: string) => {
      ftp.log(`> ${cmd}`);
      control.write(cmd + '\r\n', ftp.encoding);
    };
    // the port the rename before this call asked for (see Spare): this connection's, and fresh
    const spare = call.spare;
    call.spare = undefined;
    const sparePort = spare && spare.c === c && host && Date.now() - spare.at < SPARE_MAX_AGE_MS ? spare.port : undefined;
    /** the task's resolver once the first reply came; before it, a failure goes through the context */
    let current: { reject(e: unknown): void } | undefined;
    const fail = (e: Error) => (current ? current.reject(e) : ftp.closeWithError(e));
    const startData = (port: number) => {
      // the control connection's address, as basic-ftp does for PASV too (a NATed server's own idea of its address is often wrong)
      data = connect({ host: host!, port });
      data.once('error', fail);
      // The bytes are queued until connected; then the socket is closed, which sends the FIN
      // after them (the server sends nothing on a STOR's data connection, so no reset): one
      // syscall fewer than end()'s shutdown + close, and none of its stream states.
      // (Destroyed from a microtask: destroyed inside the write's callback, the stream builds
      // an ERR_STREAM_DESTROYED error with its stack for the empty write queue, ~13 µs a file.)
      const d = data;
      const close = () => queueMicrotask(() => d.destroy());
      if (buf.length > 0) d.write(buf, (err) => void (err ? undefined : close()));
      else d.once('connect', close);
      stage = 'STOR';
      send('STOR ' + wire);
    };
    try {
      await task(() => {
        const t = ftp.handle(undefined, (res, tk) => {
          current = tk;
          if (res instanceof Error && !(res instanceof FTPError)) return tk.reject(res); // socket error, closed
          call.touch();
          if (stage !== 'STOR') {
            if (res instanceof FTPError) {
              if (isSessionEnded(res)) return tk.reject(res);
              if (stage === 'EPSV') {
                this.epsvRefused = true;
                stage = 'PASV';
                return send('PASV');
              }
              // basic-ftp's wording, which errors.ts classifies (a blocked data port, usually)
              return tk.reject(new Error(`None of the available transfer strategies work. Last error response was '${res.message}'.`));
            }
            const port = passivePort(stage, res.message);
            if (port === undefined || !host) return tk.reject(new FTPError({ code: res.code, message: `${stage} answered "${res.message}"` }));
            return startData(port);
          }
          if (res instanceof FTPError) return tk.reject(res); // 4xx/5xx on STOR: the session stays usable
          if (res.code === 150 || res.code === 125) started = true;
          else if (res.code >= 200 && res.code < 300) {
            if (started) tk.resolve(res);
            else tk.reject(new Error(`STOR answered "${res.message}" before the data connection was used`));
          } else if (res.code >= 300) tk.reject(new Error(`Unexpected FTP response is requesting an answer: ${res.message}`));
        });
        if (sparePort !== undefined) startData(sparePort);
        else send(stage);
        return t;
      });
    } catch (e) {
      // named as a write of `path` also inside writeThenRename; other errors are left to run(), which drops the connection
      if (e instanceof FTPError) throw toTransportError(e, 'write', path, this.secrets);
      throw e;
    } finally {
      data?.destroy();
    }
  }

  rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    return this.run('rename', from, opts, () => false, async (c) => {
      await this.renameOn(c, from, to, this.codec.out(from), this.codec.out(to));
    });
  }

  /**
   * RNFR and RNTO in one write (one round trip instead of two): the server reads them in order,
   * and answers RNTO with 503 when RNFR failed, so both replies are always read here and the
   * session stays in step. RNFR's error is the one reported. RNFR/RNTO replaces an existing
   * target on vsftpd, pure-ftpd and proftpd (rename(2) underneath).
   */
  private async renameOn(c: Client, from: string, to: string, src: string, dst: string, askNext = false): Promise<void> {
    if (/[\r\n\0]/.test(src + dst)) throw new TransportError('Protocol', `ftp rename ${from} → ${to}: control characters in a name`, { path: from });
    const ftp = c.ftp;
    // askNext: the next file's passive command rides in the same write (see Spare); its reply is
    // always read here, so the session stays in step whatever it says
    const next = askNext ? (this.epsvRefused ? 'PASV' : 'EPSV') : undefined;
    let first: FTPError | undefined;
    let second: FTPError | undefined;
    let spare: Spare | undefined;
    let ended = false;
    let replies = 0;
    try {
      await task(() => {
        const t = ftp.handle(undefined, (res, tk) => {
          if (res instanceof Error && !(res instanceof FTPError)) return tk.reject(res); // socket error
          if (++replies === 1) {
            if (res instanceof FTPError) first = res;
            else if (res.code !== 350) first = new FTPError({ code: res.code, message: `RNFR answered "${res.message}"` });
            return;
          }
          if (replies === 2) {
            if (res instanceof FTPError) second = res;
            if (next) return;
          } else if (res instanceof FTPError) {
            // no spare: the next STOR asks again (and meets whatever this was); a session the
            // server ended is dropped once the rename's own answer is in
            if (isSessionEnded(res)) ended = true;
            else if (next === 'EPSV') this.epsvRefused = true;
          } else {
            const port = next && passivePort(next, res.message);
            if (port && !first && !second) spare = { c, port, at: Date.now() };
          }
          if (first) return tk.reject(first);
          if (second) return tk.reject(second);
          tk.resolve(res);
        });
        ftp.log(`> RNFR ${src}\n> RNTO ${dst}${next ? `\n> ${next}` : ''}`);
        ftp.socket.write(`RNFR ${src}\r\nRNTO ${dst}\r\n${next ? next + '\r\n' : ''}`, ftp.encoding);
        return t;
      });
      if (spare) this.spare = spare;
    } catch (e) {
      // (a 421 or a socket error maps to a retryable kind: run() then drops the connection)
      if (e === first) throw toTransportError(e, 'rename', from, this.secrets);
      throw toTransportError(e, `rename ${from} →`, to, this.secrets);
    } finally {
      // the server ended the session on the passive command: whatever the rename's own answer, the
      // next call logs in again
      if (ended) this.discard();
    }
  }

  delete(path: string, opts?: CallOptions): Promise<void> {
    return this.run('delete', path, opts, () => false, async (c) => {
      await c.remove(this.codec.out(path));
    });
  }

  mkdir(path: string, opts?: CallOptions): Promise<void> {
    // Absolute MKD per level instead of basic-ftp's ensureDir (which walks with relative CWDs and
    // leaves the working directory changed). Existing directory: one round trip.
    return this.run('mkdir', path, opts, () => true, async (c) => {
      const parts = path.split('/').filter((p) => p !== '' && p !== '.');
      const full = '/' + parts.join('/');
      if ((await c.sendIgnoringError('CWD ' + this.codec.out(full))).code < 400) return;
      let failed: string | undefined;
      for (let i = 1; i <= parts.length; i++) {
        const r = await c.sendIgnoringError('MKD ' + this.codec.out('/' + parts.slice(0, i).join('/')));
        if (r.code >= 400) failed = r.message; // "exists" for parents; the CWD below decides
        else failed = undefined;
      }
      const r = await c.sendIgnoringError('CWD ' + this.codec.out(full));
      if (r.code >= 400) {
        throw new TransportError('PermissionDenied', scrub(`ftp mkdir ${path}: ${this.codec.in(failed ?? r.message)}`, this.secrets), { path });
      }
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.keepAliveTimer);
    // let the running call finish (SIGTERM: finish the step, then close), but not forever
    let timer: NodeJS.Timeout | undefined;
    const lock = this.lock();
    const release = await Promise.race([lock, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), this.timeoutMs)))]);
    clearTimeout(timer);
    this.discard();
    clearTimeout(this.keepAliveTimer); // a NOOP that held the lock may have re-armed it
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    if (release) release();
    else void lock.then((r) => r());
  }

  // ---------- machinery ----------

  /** FIFO mutex: resolves with the release function once every earlier holder released. */
  private lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }

  private reasonError(reason: Reason, op: string, path: string): TransportError {
    return reason === 'abort'
      ? new TransportError('Aborted', `ftp ${op} ${path}: aborted`, { path })
      : new TransportError('Timeout', `ftp ${op} ${path}: no progress within ${this.timeoutMs} ms (${this.where})`, { path });
  }

  /** Closes and forgets the connection; the next call opens a new one. */
  private discard(): void {
    const c = this.client;
    this.client = undefined;
    this.spare = undefined;
    try {
      c?.close();
    } catch {
      /* already closed */
    }
  }

  private async connection(): Promise<Client> {
    if (this.client && !this.client.closed) return this.client;
    this.discard();
    const c = new Client(this.timeoutMs);
    this.listingBy = undefined;
    this.epsvRefused = false;
    c.parseList = parseListing;
    c.prepareTransfer = passiveMode();
    c.ftp.log = this.trace;
    c.ftp.encoding = this.codec.socketEncoding;
    this.client = c;
    try {
      await c.access({
        host: this.host,
        port: this.port,
        ...(this.user !== undefined ? { user: this.user } : {}),
        ...(this.password !== undefined ? { password: this.password } : {}),
        secure: this.secure,
        // basic-ftp writes into this object (host for TLS session reuse): a fresh copy per connect
        secureOptions: { ...this.tls },
      });
      // basic-ftp sends OPTS UTF8 ON; a server that can switch (IIS, FileZilla) must stay in its code page
      if (this.codec.socketEncoding === 'latin1') await c.sendIgnoringError('OPTS UTF8 OFF');
    } catch (e) {
      if (this.client === c) this.discard();
      throw toTransportError(e, `connect ${this.where}`, undefined, this.secrets);
    }
    return c;
  }

  /**
   * One call: queue on the mutex, (re)connect, run `work` under a deadline and the caller's signal,
   * map every failure to a TransportError. A reused connection that turns out dead (the server
   * closed it while idle) is reopened and the work retried once, only where `retryable()` says so.
   *
   * The deadline is inactivity-based (progress pushes it back; time the caller makes us wait does
   * not count) and kept by ONE watchdog timer per connection, not a timer per call: calls hold the
   * connection one at a time, so the watchdog only looks at `this.active`.
   */
  private async run<T>(op: string, path: string, opts: CallOptions | undefined, retryable: () => boolean, work: (c: Client, call: Call) => Promise<T>): Promise<T> {
    const signal = opts?.signal;
    if (signal?.aborted) throw this.reasonError('abort', op, path);
    clearTimeout(this.keepAliveTimer);

    let reason: Reason | undefined;
    /** rejects the wait for the mutex, while queued */
    let leaveQueue: ((e: TransportError) => void) | undefined;
    /** rejects the step running now (connect or work) */
    let stopStep: ((e: TransportError) => void) | undefined;
    const kill = (r: Reason) => {
      if (reason) return;
      reason = r;
      const err = this.reasonError(r, op, path);
      if (leaveQueue) return leaveQueue(err);
      this.discard(); // the only way to stop an FTP command; basic-ftp may not even notice during a TLS handshake
      stopStep?.(err);
    };
    // a killed step rejects at once, whether or not basic-ftp notices
    const step = <X>(p: Promise<X>): Promise<X> => {
      if (reason) {
        p.catch(() => undefined);
        return Promise.reject(this.reasonError(reason, op, path));
      }
      return new Promise<X>((resolve, reject) => {
        stopStep = reject;
        p.then(resolve, reject);
      });
    };
    const onAbort = () => kill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });

    let release: (() => void) | undefined;
    let call: ActiveCall | undefined;
    try {
      const lock = this.lock();
      if (signal) {
        release = await new Promise<() => void>((resolve, reject) => {
          leaveQueue = (e) => {
            reject(e);
            void lock.then((r) => r()); // our turn still comes: pass it on
          };
          void lock.then((r) => {
            if (reason) return;
            leaveQueue = undefined;
            resolve(r);
          });
        });
      } else {
        release = await lock;
      }
      const active: ActiveCall = {
        last: Date.now(),
        touch: () => (active.last = Date.now()),
        kill,
        spare: this.spare,
      };
      this.spare = undefined; // this call's, or nobody's
      call = active;
      this.active = active;
      this.armWatchdog();

      for (let attempt = 0; ; attempt++) {
        const reused = this.client !== undefined && !this.client.closed;
        try {
          const c = await step(this.connection());
          return await step(work(c, active));
        } catch (e) {
          if (reason) throw this.reasonError(reason, op, path);
          if (e instanceof SourceFailed) {
            this.discard();
            throw e.error;
          }
          if (e instanceof CallerFailed) throw e.error; // no command is in flight: the session is fine
          const err = toTransportError(e, op, path, this.secrets);
          // an FTP error reply leaves the session usable; anything else leaves it in an unknown state
          if (!(e instanceof FTPError || e instanceof TransportError) || err.retryable) this.discard();
          // a session the server ended (vsftpd's "500 OOPS") is reported at once, not retried:
          // its cause (no passive port, say) is no idle timeout that a new login would cure
          if (attempt === 0 && reused && err.kind === 'Unavailable' && retryable() && !isSessionEnded(e)) {
            this.log.debug({ server: this.where, op, path, err: err.message }, 'ftp connection was closed while idle; reconnecting once');
            active.touch();
            continue;
          }
          throw err;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (call && this.active === call) {
        this.active = undefined;
        this.watchdog?.unref(); // an idle connection must not keep the process alive
      }
      release?.();
      this.scheduleKeepAlive();
    }
  }

  /** Makes sure the watchdog runs (and holds the process) while a call is active. */
  private armWatchdog(): void {
    if (this.watchdog) this.watchdog.ref();
    else this.watchdog = setTimeout(this.onWatchdog, this.timeoutMs);
  }

  /** Kills the active call after timeoutMs without progress; otherwise looks again when it could be due. */
  private readonly onWatchdog = (): void => {
    this.watchdog = undefined;
    const a = this.active;
    if (!a) return; // idle: the next call arms it again
    const now = Date.now();
    if (a.waitingOnCaller?.()) a.last = now;
    const idle = now - a.last;
    if (idle >= this.timeoutMs) a.kill('timeout');
    else this.watchdog = setTimeout(this.onWatchdog, this.timeoutMs - idle);
  };

  private scheduleKeepAlive(): void {
    if (this.keepAliveMs <= 0 || !this.client || this.client.closed) return;
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = setTimeout(() => {
      void this.lock().then(async (release) => {
        try {
          this.spare = undefined; // a NOOP may end a server's wait for the data connection
          if (this.client && !this.client.closed) await this.client.send('NOOP');
        } catch {
          this.discard(); // dead: the next call reconnects
        } finally {
          release();
        }
        this.scheduleKeepAlive();
      });
    }, this.keepAliveMs);
    this.keepAliveTimer.unref();
  }
}

/**
 * basic-ftp's prepareTransfer (EPSV, else PASV; the first that works is kept) with one change: a
 * reply that ends the session stops it. vsftpd answers EPSV with "500 OOPS: vsf_sysutil_bind" when
 * it cannot open a passive port and its session process dies; basic-ftp then sent PASV on that
 * dead session, and when the server's close came late the call waited its whole deadline (the 60 s
 * hang of the fleet bench). Now the call fails at once and run() drops the connection.
 */
function passiveMode(): TransferStrategy {
  let chosen: TransferStrategy | undefined;
  return async (ftp) => {
    if (chosen) return chosen(ftp);
    let last: unknown;
    for (const strategy of [enterPassiveModeIPv6, enterPassiveModeIPv4_forceControlHostIP]) {
      try {
        const res = await strategy(ftp);
        chosen = strategy;
        return res;
      } catch (e) {
        if (isSessionEnded(e) || ftp.closed) throw e;
        last = e;
      }
    }
    // basic-ftp's wording, which errors.ts classifies (a blocked data port, usually)
    throw new Error(`None of the available transfer strategies work. Last error response was '${String(last)}'.`);
  };
}

export function createFtpTransport(ctx: TransportCreateContext): Transport {
  return new FtpTransport(ctx);
}
