import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix, join, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import {
  CfxError, ErrorCodes, TransportError,
  type CallOptions, type Logger, type RemoteEntry, type Transport, type TransportCreateContext,
} from '@cfx/core/api';
import { classify, scrub, toTransportError } from './errors.js';
import { HostKeyVerifier, hostKeyPolicy, type Verdict } from './hostkey.js';
import { STATUS, SftpClientClass, ssh2, type ConnectConfig, type SftpChannel, type SftpClient, type SftpStats } from './ssh2-types.js';

/** `serverOptions` for sftp:// (schema in package.json). */
export interface SftpTransportOptions {
  /** path of the private key file (OpenSSH, PEM or PuTTY format) */
  privateKey?: string;
  /** the private key's passphrase; a secret */
  passphrase?: string;
  /** login password (overrides the one in the URL); a secret */
  password?: string;
  /** `SHA256:…` pin, a list of pins, a known_hosts file path, or `tofu` */
  hostKey?: string | string[];
  /** ms to wait for the SSH handshake and login; default: the call deadline */
  readyTimeout?: number;
  /** ms between SSH keepalives on an idle connection (3 unanswered = dead); 0 = off; default 10000 */
  keepaliveInterval?: number;
  /** download tuning: bytes per read request and requests in flight (uploads use the same) */
  fastGet?: { chunkSize?: number; concurrency?: number };
}

/** What the plugin's activate() hands on: its storage dir (the tofu store lives there). */
export interface SftpTransportExtras {
  storageDir?: string;
}

/** What a running call can tell run(): progress, and "the slow side is the caller, not the server". */
interface Call {
  touch(): void;
  waitingOnCaller?: () => boolean;
  /** aborted when run() gives the call up (deadline, caller's signal): the work stops and cleans up */
  readonly signal: AbortSignal;
}

/** A source stream failed during an upload: that is the caller's error, passed through as it is. */
class SourceFailed {
  constructor(readonly error: unknown) {}
}

interface Conn {
  readonly id: number;
  readonly sc: SftpClient;
  readonly sftp: SftpChannel;
  dead: boolean;
  readonly keyType: string;
  readonly fingerprint: string;
  readonly verifiedBy: string;
}

type Reason = 'timeout' | 'abort';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** OpenSSH's sftp-server answers at most 256 KiB − 1024 per read/write (limits@openssh.com) */
export const DEFAULT_CHUNK = 261_120;
export const DEFAULT_CONCURRENCY = 16;
const DEFAULT_KEEPALIVE_MS = 10_000;

function cb<T = void>(fn: (done: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value as T)));
    } catch (e) {
      reject(e); // ssh2 throws synchronously on a channel that is gone
    }
  });
}

/**
 * Grants the server more of the channel window when less than half of `target` is left.
 *
 * ssh2 opens the SFTP channel with a 2 MiB window and adds to it only once half is used, so with
 * 16 reads of 255 KiB (4 MiB) asked for, the server stops every 1 MiB until our side has parsed
 * what came and sent the adjust: on a 2-vCPU loopback a 100 MiB read() ran at ~0.45x curl's speed,
 * with a 16 MiB window at ~1.0x. The window costs no memory: SFTP sends data only as replies to
 * the reads asked for, so what may arrive stays bounded by chunkSize x concurrency.
 * Done from the read callbacks (ssh2 runs them while it handles the data, before its own check), so
 * ssh2's own adjust, which tops up to 2 MiB only, never fires on a channel we keep above that.
 */
/** room for twice the reads in flight, with a margin for the check running once per reply; never below ssh2's 2 MiB */
export const channelWindow = (chunk: number, concurrency: number): number => Math.min(2 ** 31, Math.max(2 * 2 ** 20, 4 * chunk * concurrency));

export function keepWindowOpen(sftp: Pick<SftpChannel, 'incoming' | 'outgoing' | '_client'>, target: number): void {
  const inc = sftp.incoming;
  if (!inc || typeof inc.window !== 'number' || inc.window >= target / 2 || sftp.outgoing.state !== 'open') return;
  const add = target - inc.window;
  try {
    sftp._client._protocol.channelWindowAdjust(sftp.outgoing.id, add);
    inc.window += add;
  } catch {
    /* the connection is going away: the read fails on its own */
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * One READ whose reply is handed over as ssh2 parsed it instead of copied into a buffer of ours.
 *
 * ssh2's read() copies every reply into the caller's buffer; ssh2 has already assembled the reply in
 * a buffer of its own (one per reply, never reused), so that copy and our allocation are pure cost:
 * ~100 ms of CPU per 100 MiB (-14 % of a download's CPU, measured). ssh2 has no public call without
 * a target buffer, but its DATA handler has the path: a request registered without `buffer` gets the
 * reply slice. So the READ is sent by read() (into `scratch`, never written) and its entry in ssh2's
 * request table is then given no buffer and our callback. An ssh2 without those internals (another
 * version: the plugin's range allows any 1.x) gets ssh2's public read() with a buffer per read; one
 * whose request table looks different only after the READ was sent fails that download (its reply
 * lands in `scratch`) and switches every later read to the public path, rather than guess.
 */
export function readDirect(sftp: SftpChannel, handle: Buffer, at: number, len: number, scratch: Buffer, cb: (err: unknown, data?: Buffer) => void): void {
  if (!directReads || typeof sftp._writeReqid !== 'number' || typeof sftp._requests !== 'object' || sftp._requests === null) return readCopy(sftp, handle, at, len, cb);
  sftp.read(handle, scratch, 0, len, at, () => {});
  const req = sftp._requests[sftp._writeReqid];
  if (!req || typeof req.cb !== 'function' || !req.buffer) {
    directReads = false;
    throw new Error('transport-sftp: ssh2 did not register the READ as expected (another ssh2 version?): this download fails, the next ones use ssh2\'s public read()');
  }
  req.buffer = undefined;
  req.cb = (err, data) => {
    if (err) return err.code === STATUS.EOF ? cb(undefined, EMPTY) : cb(err);
    if (!Buffer.isBuffer(data) || data.length > len) return cb(new Error(`sftp read: ${data?.length} bytes for a read of ${len}`));
    cb(undefined, data);
  };
}

/** false once ssh2's request table did not look as readDirect expects */
let directReads = true;

/** ssh2's public read(): the reply copied into a buffer of ours */
function readCopy(sftp: SftpChannel, handle: Buffer, at: number, len: number, cb: (err: unknown, data?: Buffer) => void): void {
  const buf = Buffer.allocUnsafe(len);
  sftp.read(handle, buf, 0, len, at, (err: (Error & { code?: number }) | null | undefined, n: number) => {
    if (err) return err.code === STATUS.EOF ? cb(undefined, EMPTY) : cb(err);
    cb(undefined, buf.subarray(0, n));
  });
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function entryType(mode: number): RemoteEntry['type'] {
  const t = mode & S_IFMT;
  return t === S_IFREG ? 'file' : t === S_IFDIR ? 'dir' : 'other';
}

let connIds = 0;

/**
 * sftp:// over one SSH connection (ssh2 through ssh2-sftp-client).
 *
 * No mutex: SFTP numbers its requests and ssh2 matches the replies, so calls on one transport run
 * concurrently on one channel (a listing does not wait behind a download). ssh2-sftp-client opens and
 * ends the connection; the calls go straight to its ssh2 SFTP channel, because its per-call wrappers
 * add round trips (exists/stat checks) and three temporary listeners per call on the shared client,
 * which overflows the default MaxListeners (a console warning) under concurrency.
 *
 * The host key is checked before authentication (see hostkey.ts). Every call has an inactivity
 * deadline: ssh2 does not notice a peer that went silent, so a deadline drops the connection and the
 * next call reconnects. Transfers are pipelined: reads and writes keep up to `concurrency` requests of
 * `chunkSize` in flight (what makes fastGet fast), while read() still streams in order with backpressure.
 */
export class SftpTransport implements Transport {
  private conn: Conn | undefined;
  private connecting: Promise<Conn> | undefined;
  /** the client of a connection being opened (so a deadline can tear it down) */
  private pending: SftpClient | undefined;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private warnedNoPosixRename = false;
  private readonly verifier: HostKeyVerifier;
  private readonly host: string;
  private readonly port: number;
  private readonly user: string;
  private readonly password: string | undefined;
  private readonly passphrase: string | undefined;
  private readonly privateKey: Buffer | undefined;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly readyTimeout: number;
  private readonly keepaliveInterval: number;
  private readonly chunkSize: number;
  private readonly concurrency: number;
  private readonly log: Logger;
  private readonly traceOn: boolean;
  /** for messages: sftp://user@host:port, never a secret */
  readonly where: string;

  constructor(ctx: TransportCreateContext, extras: SftpTransportExtras = {}) {
    const o = ctx.options as SftpTransportOptions;
    const url = ctx.url;
    const scheme = url.protocol.replace(/:$/, '');
    if (scheme !== 'sftp') throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-sftp: unsupported scheme ${scheme}:`);
    this.log = ctx.logger;
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port ? Number(url.port) : 22;
    this.user = url.username ? decodeURIComponent(url.username) : '';
    if (!this.user) throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-sftp: the server URL names no user (sftp://user@host:port)');
    this.password = o.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.passphrase = o.passphrase;
    this.secrets = [this.password, this.passphrase].filter((s): s is string => typeof s === 'string' && s.length > 0);
    this.where = `sftp://${url.username}@${url.host}`;

    if (o.privateKey) {
      const file = resolvePath(expandHome(o.privateKey));
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch (e) {
        throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-sftp: serverOptions.privateKey ${file}: ${(e as Error).message}`, { cause: e });
      }
      // parse now: a wrong passphrase or an unsupported key is a configuration error, not a network one
      const parsed = ssh2.utils.parseKey(data, this.passphrase);
      if (parsed instanceof Error) {
        const hint = /passphrase|encrypt|decrypt/i.test(parsed.message) ? (this.passphrase ? ' (wrong serverOptions.passphrase?)' : ' (the key is encrypted: set serverOptions.passphrase)') : '';
        throw new CfxError(ErrorCodes.CONFIG_INVALID, scrub(`transport-sftp: serverOptions.privateKey ${file}: cannot use the key: ${parsed.message}${hint}`, this.secrets));
      }
      this.privateKey = data;
    }
    if (!this.privateKey && !this.password) {
      throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-sftp: no credentials: set serverOptions.privateKey (a key file) or a password (in the URL or serverOptions.password)');
    }

    this.verifier = new HostKeyVerifier(hostKeyPolicy(o.hostKey, extras.storageDir), this.host, this.port, this.where);
    this.timeoutMs = ctx.timeoutMs > 0 ? ctx.timeoutMs : 30_000;
    this.readyTimeout = o.readyTimeout ?? this.timeoutMs;
    this.keepaliveInterval = o.keepaliveInterval ?? DEFAULT_KEEPALIVE_MS;
    this.chunkSize = o.fastGet?.chunkSize ?? DEFAULT_CHUNK;
    this.concurrency = o.fastGet?.concurrency ?? DEFAULT_CONCURRENCY;
    if (!(this.chunkSize >= 1024) || !(this.concurrency >= 1)) throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-sftp: fastGet.chunkSize must be ≥ 1024 and fastGet.concurrency ≥ 1');
    this.traceOn = typeof this.log.isLevelEnabled === 'function' && this.log.isLevelEnabled('trace');
  }

  // ---------- the Transport contract ----------

  list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    return this.run('list', dir, opts, () => true, async (c) => {
      const items = await cb<{ filename: string; attrs: SftpStats }[]>((k) => c.sftp.readdir(dir, k));
      return Promise.all(
        items.map(async (it): Promise<RemoteEntry> => {
          let a = it.attrs;
          // OpenSSH lists symlinks as themselves: follow them, so a linked price file counts as a file
          if ((a.mode & S_IFMT) === S_IFLNK) a = await cb<SftpStats>((k) => c.sftp.stat(posix.join(dir, it.filename), k)).catch(() => a);
          return { name: it.filename, size: a.size ?? 0, ...(a.mtime ? { mtime: new Date(a.mtime * 1000) } : {}), type: entryType(a.mode) };
        }),
      );
    });
  }

  read(path: string, opts?: CallOptions): Readable {
    let pump: (() => void) | undefined;
    // room for a whole window of replies: a smaller buffer would stop the requests after every burst
    const out = new Readable({ highWaterMark: this.chunkSize * this.concurrency, read: () => pump?.() });
    let delivered = 0;
    const gone = new AbortController();
    out.once('close', () => gone.abort());
    const signal = opts?.signal ? AbortSignal.any([opts.signal, gone.signal]) : gone.signal;

    this.run('read', path, { signal }, () => delivered === 0, async (c, call) => {
      // our side is the slow one while the reader does not take what we have
      call.waitingOnCaller = () => out.readableLength >= out.readableHighWaterMark;
      const handle = await cb<Buffer>((k) => c.sftp.open(path, 'r', k));
      try {
        await new Promise<void>((resolve, reject) => {
          const chunk = Math.max(1024, Math.min(this.chunkSize, c.sftp._maxReadLen || this.chunkSize));
          const windowBytes = channelWindow(chunk, this.concurrency);
          // the target buffer ssh2's read() wants; replies never land in it (readDirect)
          const scratch = Buffer.allocUnsafe(chunk);
          let next = 0; // next offset to ask for
          let pos = 0; // next offset to hand to the reader
          let eof = Infinity; // lowest offset a read came back empty from
          let inflight = 0;
          let window = Math.min(2, this.concurrency); // grows while reads come back full
          let wanted = true;
          let done = false;
          const ready = new Map<number, Buffer>();
          const finish = (err?: unknown) => {
            if (done) return;
            done = true;
            pump = undefined;
            call.signal.removeEventListener('abort', stop);
            if (err !== undefined) reject(err);
            else resolve();
          };
          const stop = () => finish(call.signal.reason ?? new Error('stopped'));
          if (call.signal.aborted) return stop();
          call.signal.addEventListener('abort', stop, { once: true });
          const deliver = () => {
            for (let b = ready.get(pos); b !== undefined; b = ready.get(pos)) {
              ready.delete(pos);
              pos += b.length;
              delivered += b.length;
              if (!out.push(b)) wanted = false;
            }
            if (pos >= eof) finish();
          };
          const request = (at: number, len: number) => {
            inflight++;
            try {
              readDirect(c.sftp, handle, at, len, scratch, (err, data) => {
                inflight--;
                if (done) return;
                if (err) return finish(err);
                call.touch();
                keepWindowOpen(c.sftp, windowBytes);
                const nb = data!.length;
                if (!nb) eof = Math.min(eof, at);
                else {
                  ready.set(at, data!);
                  // a short read: ask for the rest (an empty answer then marks the end of the file)
                  if (nb < len) request(at + nb, len - nb);
                  else if (window < this.concurrency) window = Math.min(this.concurrency, window * 2);
                }
                deliver();
                fill();
              });
            } catch (e) {
              inflight--;
              finish(e);
            }
          };
          const fill = () => {
            while (!done && wanted && inflight < window && next < eof) {
              request(next, chunk);
              next += chunk;
            }
          };
          pump = () => {
            wanted = true;
            fill();
          };
          fill();
        });
      } finally {
        this.closeHandle(c, handle);
      }
    }).then(
      () => out.push(null),
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }

  write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    // never retried: a half-done upload leaves the server in a state only the caller can judge
    return this.run('write', path, opts, () => false, async (c, call) => {
      const handle = await cb<Buffer>((k) => c.sftp.open(path, 'w', k));
      let closed = false;
      try {
        const n = await this.pipelinedWrite(c, handle, data, call);
        closed = true;
        await cb((k) => c.sftp.close(handle, k));
        return n;
      } finally {
        if (!closed) this.closeHandle(c, handle);
      }
    });
  }

  rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    return this.run('rename', from, opts, () => false, async (c) => {
      const fail = (e: unknown) => toTransportError(e, 'rename', from, this.secrets, { target: to });
      if (c.sftp._extensions['posix-rename@openssh.com'] !== undefined) {
        // rename(2) on the server: replaces the target atomically (plain SFTP RENAME refuses an existing one)
        await cb((k) => c.sftp.ext_openssh_rename(from, to, k)).catch((e) => Promise.reject(fail(e)));
        return;
      }
      if (!this.warnedNoPosixRename) {
        this.warnedNoPosixRename = true;
        this.log.warn({ server: this.where }, 'the SFTP server lacks posix-rename@openssh.com: replacing a file is delete + rename, so the name is briefly missing');
      }
      try {
        await cb((k) => c.sftp.rename(from, to, k));
      } catch (e) {
        const kind = classify(e).kind;
        if (kind !== 'Protocol' && kind !== 'AlreadyExists') throw fail(e);
        // most likely the target exists: delete it and try once more
        await cb((k) => c.sftp.unlink(to, k)).catch((u) => {
          if (classify(u).kind !== 'NotFound') return Promise.reject(fail(e));
        });
        await cb((k) => c.sftp.rename(from, to, k)).catch((e2) => Promise.reject(fail(e2)));
      }
    });
  }

  delete(path: string, opts?: CallOptions): Promise<void> {
    return this.run('delete', path, opts, () => false, async (c) => {
      await cb((k) => c.sftp.unlink(path, k));
    });
  }

  mkdir(path: string, opts?: CallOptions): Promise<void> {
    return this.run('mkdir', path, opts, () => true, async (c) => {
      const stat = (p: string) =>
        cb<SftpStats>((k) => c.sftp.stat(p, k)).catch((e) => {
          if (classify(e).kind === 'NotFound') return undefined;
          throw e;
        });
      const make = async (p: string): Promise<void> => {
        const st = await stat(p);
        if (st) {
          if ((st.mode & S_IFMT) === S_IFDIR) return;
          throw new TransportError('AlreadyExists', `sftp mkdir ${path}: ${p} exists and is not a directory`, { path });
        }
        const parent = posix.dirname(p);
        if (parent !== p && parent !== '.' && parent !== '/') await make(parent);
        try {
          await cb((k) => c.sftp.mkdir(p, k));
        } catch (e) {
          // made meanwhile by someone else: fine
          const again = await stat(p);
          if (again && (again.mode & S_IFMT) === S_IFDIR) return;
          throw e;
        }
      };
      await make(posix.normalize(path).replace(/(.)\/+$/, '$1'));
    });
  }

  async close(): Promise<void> {
    // let the running calls finish (SIGTERM: finish the step, then close), but not forever
    await this.withTimeout(this.idle(), this.timeoutMs);
    if (this.connecting) await this.withTimeout(this.connecting.catch(() => undefined), this.timeoutMs);
    const c = this.conn;
    this.conn = undefined;
    this.abandonPending();
    if (!c) return;
    c.dead = true;
    await this.withTimeout(c.sc.end().catch(() => undefined), 2000);
    c.sc.client.destroy();
  }

  // ---------- beyond the contract ----------

  /**
   * Downloads a whole file to a local path with ssh2's fastGet (parallel reads written straight to
   * the local file). For callers that want a file on disk rather than a stream; read() is as fast
   * for streaming. Resolves with the byte count.
   */
  download(path: string, localFile: string, opts?: CallOptions): Promise<number> {
    return this.run('download', path, opts, () => true, async (c, call) => {
      let total = 0;
      const windowBytes = channelWindow(Math.min(this.chunkSize, c.sftp._maxReadLen || this.chunkSize), this.concurrency);
      // fastGet cannot be stopped halfway: giving up the call drops the connection under it
      const onStop = () => this.discard(c);
      call.signal.addEventListener('abort', onStop, { once: true });
      try {
        await cb((k) =>
          c.sftp.fastGet(path, localFile, {
            chunkSize: Math.min(this.chunkSize, c.sftp._maxReadLen || this.chunkSize),
            concurrency: this.concurrency,
            step: (t) => {
              total = t;
              call.touch();
              keepWindowOpen(c.sftp, windowBytes);
            },
          }, k),
        );
      } finally {
        call.signal.removeEventListener('abort', onStop);
      }
      return total;
    });
  }

  /** The open connection, for status pages and tests: whom we talk to and how its key was checked. */
  connectionInfo(): { connected: boolean; keyType?: string; fingerprint?: string; verifiedBy?: string; localPort?: number; posixRename?: boolean } {
    const c = this.conn;
    if (!c || c.dead) return { connected: false };
    const localPort = c.sc.client._sock?.localPort;
    return {
      connected: true,
      keyType: c.keyType,
      fingerprint: c.fingerprint,
      verifiedBy: c.verifiedBy,
      ...(localPort !== undefined ? { localPort } : {}),
      posixRename: c.sftp._extensions['posix-rename@openssh.com'] !== undefined,
    };
  }

  // ---------- machinery ----------

  private async withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  private idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private closeHandle(c: Conn, handle: Buffer): void {
    if (c.dead) return;
    try {
      c.sftp.close(handle, () => {});
    } catch {
      /* channel gone: the server dropped the handle with it */
    }
  }

  private async pipelinedWrite(c: Conn, handle: Buffer, data: Readable | Uint8Array, call: Call): Promise<number> {
    const max = Math.max(1024, Math.min(this.chunkSize, c.sftp._maxWriteLen || this.chunkSize));
    let pos = 0;
    let inflight = 0;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const settle = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const stopped = () => failure !== undefined || call.signal.aborted;
    const onStop = () => {
      // a source that never sends again must not keep this upload (and its handle) alive
      if (!(data instanceof Uint8Array)) data.destroy();
      settle();
    };
    if (call.signal.aborted) onStop();
    else call.signal.addEventListener('abort', onStop, { once: true });
    const wait = async (until: () => boolean) => {
      while (!until() && !stopped()) await new Promise<void>((r) => (wake = r));
    };
    const send = (buf: Buffer) => {
      for (let off = 0; off < buf.length; off += max) {
        const len = Math.min(max, buf.length - off);
        inflight++;
        try {
          c.sftp.write(handle, buf, off, len, pos, (err) => {
            inflight--;
            if (err) failure ??= err;
            else call.touch();
            settle();
          });
        } catch (e) {
          inflight--;
          failure ??= e;
        }
        pos += len;
      }
    };
    try {
      if (data instanceof Uint8Array) {
        const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        for (let off = 0; off < buf.length && !stopped(); off += max) {
          await wait(() => inflight < this.concurrency);
          if (!stopped()) send(buf.subarray(off, Math.min(off + max, buf.length)));
        }
      } else {
        let waitingSource = false;
        call.waitingOnCaller = () => waitingSource;
        const it = data[Symbol.asyncIterator]() as AsyncIterator<unknown>;
        let finished = false;
        try {
          while (!stopped()) {
            await wait(() => inflight < this.concurrency);
            if (stopped()) break;
            waitingSource = true;
            let r: IteratorResult<unknown>;
            try {
              r = await it.next();
            } catch (e) {
              if (call.signal.aborted) break;
              throw new SourceFailed(e);
            } finally {
              waitingSource = false;
            }
            if (r.done) {
              finished = true;
              break;
            }
            if (stopped()) break;
            const v = r.value;
            const chunk = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined;
            if (!chunk) throw new SourceFailed(new TypeError('write(): the source stream must yield bytes (Buffer/Uint8Array/string)'));
            call.touch();
            send(chunk);
          }
        } finally {
          if (!finished) await it.return?.().catch(() => undefined);
        }
      }
      await wait(() => inflight === 0);
      if (failure !== undefined) throw failure;
      if (call.signal.aborted) throw call.signal.reason ?? new Error('stopped');
      return pos;
    } finally {
      call.signal.removeEventListener('abort', onStop);
    }
  }

  private reasonError(reason: Reason, op: string, path: string): TransportError {
    return reason === 'abort'
      ? new TransportError('Aborted', `sftp ${op} ${path}: aborted`, { path })
      : new TransportError('Timeout', `sftp ${op} ${path}: no progress within ${this.timeoutMs} ms (${this.where})`, { path });
  }

  /** Drops a connection at once (no goodbye: it may be hung); the next call opens a new one. */
  private discard(c: Conn | undefined = this.conn): void {
    if (!c) return;
    c.dead = true;
    if (this.conn === c) this.conn = undefined;
    try {
      c.sc.client.destroy();
    } catch {
      /* already gone */
    }
  }

  private abandonPending(): void {
    const p = this.pending;
    this.pending = undefined;
    try {
      p?.client.destroy();
    } catch {
      /* already gone */
    }
  }

  private connection(): Promise<Conn> {
    if (this.conn && !this.conn.dead) return Promise.resolve(this.conn);
    if (this.conn) this.discard(this.conn);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Conn> {
    const log = this.log;
    const secrets = this.secrets;
    const server = this.where;
    // ssh2-sftp-client prints connection events to the console unless given these
    const sc = new SftpClientClass('cfx', {
      error: (e) => log.debug({ server, err: scrub(e.message, secrets) }, 'sftp connection error'),
      end: () => log.debug({ server }, 'sftp connection ended by the server'),
      close: () => log.debug({ server }, 'sftp connection closed'),
    });
    this.pending = sc;
    const ssh = sc.client;
    let firstError: Error | undefined;
    ssh.on('error', (e: Error) => (firstError ??= e));
    // Nagle off from the first byte: SFTP is request/response (open, write, close, rename each wait
    // for their answer), and with Nagle on a small request waits for the server's delayed ACK —
    // ~40 ms per request on Linux (OpenSSH sets TCP_NODELAY only for interactive sessions).
    // Measured on the test sshd: 44 ms → 0.3 ms per request, a 50-sale flush 5 → hundreds of files/s.
    ssh.once('connect', () => ssh.setNoDelay(true));
    let verdict: Verdict | undefined;
    let recording: Promise<void> | undefined;
    // the key is written to the tofu store only once the handshake proved the server holds it
    ssh.once('handshake', () => {
      if (verdict?.ok && verdict.record) recording = verdict.record();
      recording?.catch(() => undefined);
    });
    if (this.password) {
      ssh.on('keyboard-interactive', (_name: string, _instructions: string, _lang: string, prompts: unknown[], finish: (answers: string[]) => void) => finish(prompts.map(() => this.password!)));
    }
    const algorithms = await this.verifier.algorithms();
    const cfg: ConnectConfig = {
      host: this.host,
      port: this.port,
      username: this.user,
      readyTimeout: this.readyTimeout,
      keepaliveInterval: this.keepaliveInterval,
      keepaliveCountMax: 3,
      // runs during key exchange, before any authentication: a refused key sends no credentials
      hostVerifier: (blob, verify) => {
        this.verifier.check(blob).then(
          (v) => {
            verdict = v;
            verify(v.ok);
          },
          (e: unknown) => {
            verdict = { ok: false, error: new TransportError('HostKey', `sftp connect ${server}: host key check failed: ${(e as Error).message}`, { cause: e }) };
            verify(false);
          },
        );
      },
      ...(algorithms ? { algorithms: { serverHostKey: algorithms } } : {}),
      ...(this.privateKey ? { privateKey: this.privateKey } : {}),
      ...(this.passphrase !== undefined ? { passphrase: this.passphrase } : {}),
      ...(this.password !== undefined ? { password: this.password, tryKeyboard: true } : {}),
      ...(this.traceOn ? { debug: (m: string) => log.trace({ server, ssh2: scrub(m, secrets) }, 'ssh2') } : {}),
    };
    let sftp: SftpChannel;
    try {
      sftp = await sc.connect(cfg);
      if (recording) await recording;
    } catch (e) {
      try {
        ssh.destroy();
      } catch {
        /* gone */
      }
      if (verdict && !verdict.ok) {
        log.debug({ server, err: verdict.error.message }, 'sftp host key refused');
        throw verdict.error;
      }
      if (e instanceof TransportError) throw e;
      throw toTransportError(firstError ?? e, 'connect', server, secrets);
    } finally {
      if (this.pending === sc) this.pending = undefined;
    }
    const v = verdict as Extract<Verdict, { ok: true }> | undefined;
    const c: Conn = { id: ++connIds, sc, sftp, dead: false, keyType: v?.keyType ?? 'unknown', fingerprint: v?.fingerprint ?? 'unknown', verifiedBy: v?.how ?? 'unknown' };
    // the channel can close without the connection (and the other way round): drop both together
    const dead = () => this.discard(c);
    ssh.on('close', dead);
    ssh.on('end', dead);
    sftp.on('close', dead);
    this.conn = c;
    log.debug({ server, hostKey: `${c.keyType} ${c.fingerprint}`, verifiedBy: c.verifiedBy, posixRename: sftp._extensions['posix-rename@openssh.com'] !== undefined }, 'sftp connected');
    return c;
  }

  /**
   * One call: (re)connect, run `work` under an inactivity deadline and the caller's signal, map every
   * failure to a TransportError. A reused connection that turns out dead (the server closed it while
   * idle) is reopened and the work retried once, only where `retryable()` says so.
   */
  private async run<T>(op: string, path: string, opts: CallOptions | undefined, retryable: () => boolean, work: (c: Conn, call: Call) => Promise<T>): Promise<T> {
    const signal = opts?.signal;
    if (signal?.aborted) throw this.reasonError('abort', op, path);
    this.active++;
    const stop = new AbortController();
    let reason: Reason | undefined;
    let current: Conn | undefined;
    let killed!: (e: TransportError) => void;
    const killedP = new Promise<never>((_, reject) => (killed = reject));
    killedP.catch(() => {});
    const kill = (r: Reason) => {
      if (reason) return;
      reason = r;
      const err = this.reasonError(r, op, path);
      stop.abort(err);
      // ssh2 does not notice a silent peer: after a deadline the connection cannot be trusted
      if (r === 'timeout') {
        if (current) this.discard(current);
        else this.abandonPending();
      }
      killed(err);
    };

    // inactivity deadline: progress pushes it back; time the caller makes us wait does not count
    let last = Date.now();
    const call: Call = { touch: () => (last = Date.now()), signal: stop.signal };
    let timer: NodeJS.Timeout;
    const check = () => {
      if (call.waitingOnCaller?.()) last = Date.now();
      const idle = Date.now() - last;
      if (idle >= this.timeoutMs) kill('timeout');
      else timer = setTimeout(check, this.timeoutMs - idle);
    };
    timer = setTimeout(check, this.timeoutMs);
    const onAbort = () => kill('abort');
    signal?.addEventListener('abort', onAbort, { once: true });

    try {
      for (let attempt = 0; ; attempt++) {
        const reused = this.conn !== undefined && !this.conn.dead;
        current = undefined;
        try {
          const c = await Promise.race([this.connection(), killedP]);
          current = c;
          return await Promise.race([work(c, call), killedP]);
        } catch (e) {
          if (reason) throw this.reasonError(reason, op, path);
          if (e instanceof SourceFailed) throw e.error;
          const err = toTransportError(e, op, path, this.secrets);
          // an SFTP status reply leaves the session usable; a network failure leaves it dead
          if (err.retryable && current) this.discard(current);
          if (attempt === 0 && reused && err.kind === 'Unavailable' && retryable()) {
            this.log.debug({ server: this.where, op, path, err: err.message }, 'sftp connection was lost while idle; reconnecting once');
            call.touch();
            continue;
          }
          throw err;
        }
      }
    } finally {
      clearTimeout(timer!);
      signal?.removeEventListener('abort', onAbort);
      if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}

export function createSftpTransport(ctx: TransportCreateContext, extras: SftpTransportExtras = {}): SftpTransport {
  return new SftpTransport(ctx, extras);
}
