// nats:// and tls:// on the official NATS client (npm `nats` 2.x): one JetStream object store per
// bucket, remote paths are object names. Writes are atomic there (the chunks go first, the object
// appears when its metadata message lands), so the transport declares `atomicPut` and core writes
// sale and price files directly under their names.
//
// Listings come from a local index of the bucket, kept by one ordered consumer on the bucket's
// metadata subjects: the object store names objects by base64 in its subjects, so the server cannot
// list by prefix, and a full `list()` of the bucket per poll would cost every terminal the whole
// bucket each second. The same consumer feeds `watch(dir)`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  connect,
  consumerOpts,
  credsAuthenticator,
  JSONCodec,
  nuid as nuids,
  nkeyAuthenticator,
  type ConnectionOptions,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  type NatsConnection,
  type ObjectStore,
  type ObjectInfo,
  StorageType,
} from 'nats';
import { TransportError, type CallOptions, type Logger, type RemoteEntry, type Transport, type TransportChange, type TransportCreateContext, type WatchOptions } from '@cfx/core/api';
import { toTransportError } from './errors.js';

export interface NatsTransportOptions {
  /** more seed servers (host:port) beside the URL's: the client also learns the cluster from the server */
  servers?: string[];
  /** login password; overrides the URL's */
  password?: string;
  /** a .creds file (user JWT + NKEY seed, as `nsc` writes it) */
  credsFile?: string;
  /** a file holding an NKEY user seed (SU…) */
  nkeyFile?: string;
  /** TLS files for tls:// (a private CA, a client certificate) */
  tls?: { ca?: string; cert?: string; key?: string };
  /** replicas of a bucket this transport creates (1–5; a cluster of 3 → 3). An existing bucket keeps its own. */
  replicas?: number;
  /** storage of a bucket this transport creates: file (survives a restart) or memory */
  storage?: 'file' | 'memory';
  /** the JetStream domain that holds the bucket (a leaf node reaching the hub's, see docs/scale.md) */
  domain?: string;
}

interface IndexEntry {
  size: number;
  mtime: Date;
  /** sequence of its metadata message in the bucket's stream: a later one wins */
  revision: number;
  deleted: boolean;
}

type Listener = (name: string, deleted: boolean) => void;

/** One bucket: its object store handle and the live index of its objects. */
interface Bucket {
  name: string;
  os: ObjectStore;
  index: Map<string, IndexEntry>;
  /**
   * resolves once the index holds the bucket as it was when the consumer started; started by the
   * first call that needs the index (list, watch), never by writes: a connection that only writes
   * into a bucket (a till's status file and sales, into dirs every terminal shares) must not be sent
   * every other writer's changes — with N terminals that is N² messages
   */
  ready?: Promise<void>;
  js: JetStreamClient;
  listeners: Set<Listener>;
  sub?: { stop(): void };
  /** the ordered consumer's name: another one means it was recreated after a gap */
  consumer?: string;
  /** its last delivery sequence: the next message must be the one after */
  delivered?: number;
  /** stream sequence of the newest metadata message the consumer delivered */
  followed: number;
  jsm: JetStreamManager;
  /** why the index stopped following the bucket (then it is rebuilt on the next call) */
  broken?: Error;
}

/** JetStreamManager's direct-get API (in nats.js 2.29's implementation, not yet in its interface) */
interface DirectGet {
  direct: { getMessage(stream: string, query: { seq: number; next_by_subj: string } | { last_by_subj: string }): Promise<StoredMsg> };
}

/** the metadata subject of an object, as nats.js names it: base64url (padded) of the name */
function metaSubject(bucket: string, storeName: string): string {
  return `$O.${bucket}.M.${Buffer.from(storeName, 'latin1').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

const BUCKET_RE = /^[A-Za-z0-9_-]+$/;
const nuidNext = (): string => nuids.next();
const jc = JSONCodec<{ name: string; size: number; mtime: string; deleted?: boolean }>();

function parseServers(url: URL, extra: string[] = []): string[] {
  const hostPort = `${url.hostname}:${url.port || '4222'}`;
  return [hostPort, ...extra];
}

/** The bucket named by the URL's path (`/<bucket>`), or undefined: then a path's first segment names it. */
function urlBucket(url: URL): string | undefined {
  const p = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  if (p === '') return undefined;
  if (!BUCKET_RE.test(p)) throw new TransportError('Protocol', `nats: the URL's path names the bucket: ${JSON.stringify(p)} is not a bucket name (letters, digits, - and _)`);
  return p;
}

/**
 * Object names as the store gets them. nats.js builds a metadata subject with btoa(), which takes
 * only Latin-1: a name with other characters is passed as its UTF-8 bytes, one char per byte, so
 * the subject holds base64 of the UTF-8 name (what other NATS clients write). `fromStore` undoes
 * it; a name with chars above U+00FF (from another client) is taken as it is.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });
export function toStore(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u007f]*$/.test(name) ? name : Buffer.from(name, 'utf8').toString('latin1');
}
export function fromStore(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(name) || /[^\u0000-\u00ff]/.test(name)) return name;
  try {
    return utf8.decode(Buffer.from(name, 'latin1'));
  } catch {
    return name;
  }
}

function abortError(what: string, path?: string): TransportError {
  return new TransportError('Aborted', `${what}: aborted`, path !== undefined ? { path } : {});
}

/**
 * `p` with a deadline and the caller's signal: a TransportError Timeout/Aborted when either comes
 * first. The work itself may go on in the client (it has its own timeouts); nothing waits for it.
 */
function bounded<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal, path?: string): Promise<T> {
  if (signal?.aborted) {
    p.catch(() => undefined);
    return Promise.reject(abortError(what, path));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new TransportError('Timeout', `${what}: no answer within ${ms} ms`, path !== undefined ? { path } : {}))), ms);
    const onAbort = () => finish(() => reject(abortError(what, path)));
    signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    function finish(f: () => void) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      f();
    }
    p.then(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
  });
}

export class NatsTransport implements Transport {
  // one connection carries concurrent calls: core shares it between a terminal's jobs and its watch
  readonly capabilities = Object.freeze({ atomicPut: true, multiplexed: true });
  private nc: NatsConnection | undefined;
  private connecting: Promise<NatsConnection> | undefined;
  /** between a disconnect and the reconnect: listings would come from a stale index */
  private away = false;
  private js: JetStreamClient | undefined;
  private readonly buckets = new Map<string, Promise<Bucket>>();
  private readonly fixedBucket: string | undefined;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: URL,
    private readonly opts: NatsTransportOptions,
    logger: Logger,
    timeoutMs: number,
  ) {
    this.fixedBucket = urlBucket(url);
    this.log = logger;
    this.timeoutMs = timeoutMs;
    this.secrets = [decodeURIComponent(url.password), opts.password ?? ''].filter(Boolean);
  }

  private err(e: unknown, what: string, path?: string): TransportError {
    return toTransportError(e, `nats ${what}`, this.secrets, path);
  }

  private connectOptions(): ConnectionOptions {
    const o = this.opts;
    const co: ConnectionOptions = {
      servers: parseServers(this.url, o.servers),
      name: 'cfx',
      timeout: this.timeoutMs,
      // reconnect for ever: a shop's link comes back; calls meanwhile fail with their own deadline
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
    };
    const user = decodeURIComponent(this.url.username);
    const pass = o.password ?? decodeURIComponent(this.url.password);
    if (user) {
      co.user = user;
      co.pass = pass;
    }
    if (o.credsFile) co.authenticator = credsAuthenticator(readFileSync(o.credsFile));
    else if (o.nkeyFile) co.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(o.nkeyFile, 'utf8').trim()));
    if (this.url.protocol === 'tls:' || o.tls) {
      co.tls = {
        // nats.js connects TLS without a host name when the server is given by IP address, and
        // Node then checks the certificate against "localhost": check it against the URL's address
        ...(isIP(this.url.hostname) ? { host: this.url.hostname } : {}),
        ...(o.tls?.ca ? { caFile: o.tls.ca } : {}),
        ...(o.tls?.cert ? { certFile: o.tls.cert } : {}),
        ...(o.tls?.key ? { keyFile: o.tls.key } : {}),
      };
    }
    return co;
  }

  private connection(signal?: AbortSignal): Promise<NatsConnection> {
    if (this.nc && !this.nc.isClosed()) return Promise.resolve(this.nc);
    this.connecting ??= (async () => {
      try {
        const nc = await connect(this.connectOptions());
        this.nc = nc;
        this.away = false;
        this.js = nc.jetstream({ timeout: this.timeoutMs, ...(this.opts.domain ? { domain: this.opts.domain } : {}) });
        void this.followStatus(nc);
        void nc.closed().then(() => {
          if (this.nc === nc) this.forget();
        });
        return nc;
      } finally {
        this.connecting = undefined;
      }
    })();
    return bounded(this.connecting, this.timeoutMs + 1000, `nats connect ${this.url.host}`, signal).catch((e: unknown) => {
      throw this.err(e, `connect ${this.url.host}`);
    });
  }

  private forget(): void {
    for (const b of this.buckets.values()) b.then((x) => x.sub?.stop(), () => undefined);
    this.buckets.clear();
    this.nc = undefined;
    this.js = undefined;
  }

  /** After a reconnect the indexes are rebuilt: what changed while away is read again from the stream. */
  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.away = true;
        // the watches wake and say they are not live (the poll is back at its pace at once)
        for (const b of this.buckets.values()) b.then((x) => x.listeners.forEach((l) => l('', false)), () => undefined);
      }
      if (s.type === 'reconnect') this.away = false;
      if (s.type === 'disconnect') this.log.warn({ server: String(s.data) }, 'nats: disconnected; reconnecting');
      if (s.type === 'reconnect') {
        this.log.info({ server: String(s.data) }, 'nats: reconnected');
        // what changed while away is read again from the stream: every index is rebuilt (its
        // watchers rebuild it at once, the next call otherwise)
        for (const b of this.buckets.values()) b.then((x) => this.drop(x, new Error('reconnected')), () => undefined);
      }
    }
  }

  /** bucket name and object name of a remote path */
  private locate(path: string): { bucket: string; name: string } {
    const norm = posix.normalize('/' + path).replace(/\/+$/, '');
    const parts = norm.split('/').filter(Boolean);
    if (this.fixedBucket !== undefined) return { bucket: this.fixedBucket, name: parts.join('/') };
    const bucket = parts.shift();
    if (bucket === undefined || !BUCKET_RE.test(bucket)) {
      throw new TransportError('Protocol', `nats: without a bucket in the URL the first segment of a path names the bucket; ${JSON.stringify(path)} has ${bucket === undefined ? 'none' : 'an invalid one'}`, { path });
    }
    return { bucket, name: parts.join('/') };
  }

  private bucket(name: string, signal?: AbortSignal): Promise<Bucket> {
    let b = this.buckets.get(name);
    if (b) {
      return b.then((x) => {
        if (!x.broken) return x;
        if (this.buckets.get(name) === b) this.buckets.delete(name);
        return this.bucket(name, signal);
      });
    }
    b = this.openBucket(name, signal);
    this.buckets.set(name, b);
    b.catch(() => {
      if (this.buckets.get(name) === b) this.buckets.delete(name);
    });
    return b;
  }

  private async openBucket(name: string, signal?: AbortSignal): Promise<Bucket> {
    await this.connection(signal);
    const js = this.js!;
    const os = await bounded(
      js.views.os(name, { storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File, replicas: this.opts.replicas ?? 1 }),
      this.timeoutMs,
      `nats bucket ${name}`,
      signal,
    ).catch((e: unknown) => {
      throw this.err(e, `open bucket ${name}`);
    });
    const jsm = await this.nc!.jetstreamManager({ timeout: this.timeoutMs, ...(this.opts.domain ? { domain: this.opts.domain } : {}) }).catch((e: unknown) => {
      throw this.err(e, `open bucket ${name}`);
    });
    return { name, os, jsm, js, index: new Map(), listeners: new Set(), followed: 0 };
  }

  /** Starts the ordered consumer that keeps `b.index`; resolves when the history is read. */
  private async follow(b: Bucket, js: JetStreamClient): Promise<void> {
    let initialized!: () => void;
    let failed!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      initialized = res;
      failed = rej;
    });
    // an empty bucket has no metadata yet: the consumer would never report "caught up"
    let empty = false;
    try {
      const si = await b.jsm.streams.info(`OBJ_${b.name}`, { subjects_filter: `$O.${b.name}.M.>` });
      empty = !si.state.subjects || Object.keys(si.state.subjects).length === 0;
    } catch (e) {
      throw this.err(e, `read bucket ${b.name}`);
    }
    const co = consumerOpts();
    co.orderedConsumer();
    co.deliverLastPerSubject();
    co.callback((err, m) => {
      if (err) {
        b.broken ??= err;
        failed(err);
        return;
      }
      if (!m || b.broken) return;
      // The ordered consumer recreates itself after a gap (a reconnect, a cut leaf link), from the
      // last message it saw: a newer object could then be indexed before an older one it missed,
      // and a listing would show a later price file without the earlier one. So a new consumer
      // name ends this index; the next call builds a fresh one from the stream, complete before use.
      // The same holds for a gap in the delivery sequence that the client did not notice (seen on a
      // leaf link cut while the hub delivered: the message went nowhere, the next one came).
      b.consumer ??= m.info.consumer;
      const gap = b.delivered !== undefined && m.info.deliverySequence !== b.delivered + 1;
      b.delivered = m.info.deliverySequence;
      if (m.info.consumer !== b.consumer || gap) return this.drop(b, new Error(gap ? 'the bucket consumer skipped messages' : 'the bucket consumer was recreated after a gap'));
      b.followed = Math.max(b.followed, m.seq);
      let meta: { name: string; size: number; mtime: string; deleted?: boolean };
      try {
        meta = jc.decode(m.data);
      } catch {
        return; // not object metadata: nothing to index
      }
      this.apply(b, fromStore(meta.name), { size: meta.size, mtime: new Date(meta.mtime), revision: m.seq, deleted: meta.deleted === true });
      if (m.info.pending === 0) initialized();
    });
    const sub = await js.subscribe(`$O.${b.name}.M.>`, co).catch((e: unknown) => {
      throw this.err(e, `follow bucket ${b.name}`);
    });
    b.sub = { stop: () => sub.unsubscribe() };
    void sub.closed.then(
      () => {
        b.broken ??= new Error('the bucket consumer stopped');
        failed(b.broken);
      },
      (e: unknown) => {
        b.broken ??= e as Error;
        failed(e as Error);
      },
    );
    if (empty) initialized();
    return ready;
  }

  /** a later revision wins; deletes stay as tombstones so an older event cannot bring a name back */
  private apply(b: Bucket, name: string, e: IndexEntry): void {
    const old = b.index.get(name);
    if (old && old.revision >= e.revision) return;
    b.index.set(name, e);
    if (old?.deleted && e.deleted) return;
    for (const l of b.listeners) l(name, e.deleted);
  }

  private async ready(bucket: string, what: string, signal?: AbortSignal): Promise<Bucket> {
    const b = await this.bucket(bucket, signal);
    if (!b.ready) {
      b.ready = this.follow(b, b.js);
      b.ready.catch(() => undefined);
    }
    await bounded(b.ready, this.timeoutMs, `nats ${what}`, signal).catch((e: unknown) => {
      throw this.err(e, what);
    });
    // a stale index answers nothing while the connection is away: the caller retries later
    if (this.nc === undefined || this.nc.isClosed() || this.away) {
      throw new TransportError('Unavailable', `nats ${what}: not connected to ${this.url.host} (reconnecting)`);
    }
    await this.fresh(b, what, signal);
    return b;
  }

  /**
   * The index is as new as the bucket: the newest metadata message (one request, no consumer) must
   * have reached it. That request failing means JetStream is out of reach (the server, its cluster,
   * a shop's leaf link): the consumer may have lost deliveries meanwhile without a visible gap, so
   * the index is dropped and rebuilt from the stream on the next call. A listing is never older
   * than the moment it was asked for.
   */
  private async fresh(b: Bucket, what: string, signal?: AbortSignal): Promise<void> {
    let newest = 0;
    try {
      const m = await bounded(b.jsm.streams.getMessage(`OBJ_${b.name}`, { last_by_subj: `$O.${b.name}.M.>` }), this.timeoutMs, `nats ${what}`, signal);
      newest = m.seq;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (!(code === '404' || /no message found/i.test(String((e as Error).message)))) {
        if (!(e instanceof TransportError && e.kind === 'Aborted')) this.drop(b, e);
        throw this.err(e, what);
      }
    }
    const deadline = Date.now() + this.timeoutMs;
    while (b.followed < newest) {
      if (b.broken) throw this.err(b.broken, what);
      if (signal?.aborted) throw abortError(`nats ${what}`);
      if (Date.now() > deadline) {
        this.drop(b, new Error(`the index did not reach message ${newest} within ${this.timeoutMs} ms`));
        throw new TransportError('Timeout', `nats ${what}: the bucket's changes did not arrive within ${this.timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** ends an index: the next call builds a fresh one */
  private drop(b: Bucket, why: unknown): void {
    if (!b.broken) this.log.info({ bucket: b.name, why: why instanceof Error ? why.message : String(why) }, 'nats: the bucket index is rebuilt from the stream');
    b.broken ??= why instanceof Error ? why : new Error(String(why));
    b.sub?.stop();
    b.listeners.forEach((l) => l('', false));
  }

  async list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    if (opts?.signal?.aborted) throw abortError('nats list', dir);
    if (this.fixedBucket === undefined && posix.normalize('/' + dir).replace(/\/+$/, '') === '') return this.listBuckets(opts?.signal);
    const { bucket, name } = this.locate(dir);
    const b = await this.ready(bucket, `list ${dir}`, opts?.signal);
    const prefix = name === '' ? '' : `${name}/`;
    let exists = prefix === '';
    const files: RemoteEntry[] = [];
    const dirs = new Set<string>();
    for (const [n, e] of b.index) {
      if (e.deleted || !n.startsWith(prefix)) continue;
      exists = true;
      const rest = n.slice(prefix.length);
      if (rest === '') continue; // the directory's own marker
      const slash = rest.indexOf('/');
      if (slash >= 0) dirs.add(rest.slice(0, slash));
      else files.push({ name: rest, size: e.size, mtime: e.mtime, type: 'file' });
    }
    if (!exists) throw new TransportError('NotFound', `nats list ${dir}: no such directory`, { path: dir });
    return [...files, ...[...dirs].map((d): RemoteEntry => ({ name: d, size: 0, type: 'dir' }))];
  }

  /**
   * Reads an object chunk by chunk with JetStream's direct get (any replica answers; no consumer):
   * a read needs no consumer on the server, so a cluster that lost the node an ephemeral consumer
   * would be placed on still serves it, and 1,000 terminals reading cost no consumer churn. The
   * SHA-256 the writer recorded is checked at the end: a mismatch is an error, never a short file.
   */
  /** the root without a bucket in the URL: the object store buckets, as directories */
  private async listBuckets(signal?: AbortSignal): Promise<RemoteEntry[]> {
    const nc = await this.connection(signal);
    try {
      const jsm = await nc.jetstreamManager({ timeout: this.timeoutMs, ...(this.opts.domain ? { domain: this.opts.domain } : {}) });
      const out: RemoteEntry[] = [];
      for await (const name of jsm.streams.names()) {
        if (name.startsWith('OBJ_')) out.push({ name: name.slice(4), size: 0, type: 'dir' });
      }
      return out;
    } catch (e) {
      throw this.err(e, 'list /');
    }
  }

  read(path: string, opts?: CallOptions): Readable {
    const signal = opts?.signal;
    const what = `nats read ${path}`;
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      const { bucket, name } = self.locate(path);
      const b = await self.bucket(bucket, signal);
      const info = await bounded(self.objectInfo(b, toStore(name)), self.timeoutMs, what, signal, path);
      if (info === null || info.deleted) throw new TransportError('NotFound', `${what}: no such object`, { path });
      if (info.options?.link) throw new TransportError('Protocol', `${what}: a link to another object (not written by cfx)`, { path });
      const subject = `$O.${b.name}.C.${info.nuid}`;
      const hash = createHash('sha256');
      let seq = 0;
      let size = 0;
      for (let i = 0; i < info.chunks; i++) {
        const m = await bounded((b.jsm as unknown as DirectGet).direct.getMessage(`OBJ_${b.name}`, { seq: seq + 1, next_by_subj: subject }), self.timeoutMs, what, signal, path);
        if (m.subject !== subject) throw new TransportError('Protocol', `${what}: chunk ${i + 1} of ${info.chunks} is missing`, { path });
        seq = m.seq;
        const data = Buffer.from(m.data);
        size += data.length;
        hash.update(data);
        yield data;
      }
      const digest = `SHA-256=${hash.digest('base64url')}`;
      const want = info.digest.replace(/=+$/, '');
      if (size !== info.size || digest.replace(/=+$/, '') !== want) {
        throw new TransportError('Protocol', `${what}: the bytes read (${size}, ${digest}) are not the object written (${info.size}, ${info.digest})`, { path });
      }
    }
    const out = Readable.from(chunks(), { objectMode: false });
    const onAbort = () => out.destroy(abortError('nats read', path));
    signal?.addEventListener('abort', onAbort, { once: true });
    out.once('close', () => signal?.removeEventListener('abort', onAbort));
    // every failure surfaces as a TransportError on the stream
    const wrapped = new PassThrough();
    out.once('error', (e) => wrapped.destroy(this.err(e, `read ${path}`, path)));
    wrapped.once('close', () => out.destroy());
    out.pipe(wrapped);
    return wrapped;
  }

  async write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    const signal = opts?.signal;
    if (signal?.aborted) throw abortError('nats write', path);
    const { bucket, name } = this.locate(path);
    if (name === '') throw new TransportError('Protocol', `nats write ${path}: not an object name`, { path });
    const b = await this.bucket(bucket, signal);
    const source: AsyncIterable<unknown> | Iterable<unknown> = data instanceof Uint8Array ? [data] : data;
    try {
      // no overall deadline (a large file takes its time): each publish has the client's timeout
      const put = this.putObject(b, name, source, signal, path);
      const r = await bounded(put, 2 ** 31 - 1, `nats write ${path}`, signal, path);
      return r.size;
    } catch (e) {
      if (!(data instanceof Uint8Array)) data.destroy();
      throw this.err(e, `write ${path}`, path);
    }
  }

  /**
   * The object store's put, without what nats-server 2.9 gets wrong: nats.js publishes the metadata
   * with a roll-up header and purges the old chunks by subject, and 2.9.10 moves every consumer of
   * the stream past a purged subject's messages — a watcher one message behind then skips the
   * other objects written meanwhile (seen: a price file never listed). So the chunks and the
   * metadata are published plainly (same subjects and JSON as nats.js, readable by any client),
   * and what the new object replaces is removed message by message (a deleted message moves no
   * consumer). Chunks go out 8 at a time, each acknowledged.
   */
  private async putObject(b: Bucket, name: string, source: AsyncIterable<unknown> | Iterable<unknown>, signal: AbortSignal | undefined, path: string): Promise<{ size: number; revision: number }> {
    const storeName = toStore(name);
    const old = await bounded(this.objectInfo(b, storeName), this.timeoutMs, `nats write ${path}`, signal, path);
    const js = this.js!;
    const nuid = nuidNext();
    const chunkSubject = `$O.${b.name}.C.${nuid}`;
    const maxChunk = Math.min(128 * 1024, this.nc?.info?.max_payload ?? 1024 * 1024);
    const hash = createHash('sha256');
    const inFlight: Promise<{ seq: number }>[] = [];
    const published: number[] = [];
    let size = 0;
    let chunks = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const send = async (payload: Buffer) => {
      hash.update(payload);
      size += payload.length;
      chunks++;
      const ack = js.publish(chunkSubject, payload, { timeout: this.timeoutMs });
      ack.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      inFlight.push(ack);
      if (inFlight.length >= 8) published.push((await inFlight.shift()!).seq);
    };
    try {
      for await (const c of source) {
        if (signal?.aborted) throw abortError('nats write', path);
        const buf = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array);
        pending.push(buf);
        pendingBytes += buf.length;
        while (pendingBytes >= maxChunk) {
          const all = Buffer.concat(pending);
          await send(all.subarray(0, maxChunk));
          pending = [all.subarray(maxChunk)];
          pendingBytes = all.length - maxChunk;
        }
      }
      if (pendingBytes > 0) await send(Buffer.concat(pending));
      for (const p of inFlight.splice(0)) published.push((await p).seq);
      if (signal?.aborted) throw abortError('nats write', path);
      const meta = {
        name: storeName,
        description: '',
        options: { max_chunk_size: maxChunk },
        bucket: b.name,
        nuid,
        size,
        chunks,
        mtime: new Date().toISOString(),
        digest: `SHA-256=${hash.digest('base64').replace(/\+/g, '-').replace(/\//g, '_')}`,
        deleted: false,
      };
      const pa = await js.publish(metaSubject(b.name, storeName), jc.encode(meta), { timeout: this.timeoutMs });
      this.apply(b, name, { size, mtime: new Date(meta.mtime), revision: pa.seq, deleted: false });
      if (old) void this.removeObject(b, old);
      return { size, revision: pa.seq };
    } catch (e) {
      // what was published of this object goes again (best effort: unreachable chunks are orphans no listing shows)
      for (const p of inFlight.splice(0)) await p.then((a) => published.push(a.seq), () => undefined);
      void Promise.all(published.map((seq) => b.jsm.streams.deleteMessage(`OBJ_${b.name}`, seq, false).catch(() => undefined)));
      throw e;
    }
  }

  /**
   * An object's metadata (null: none) by a direct get of its metadata subject: served by the
   * stream itself, not through the server's JetStream API queue that every stream info, message
   * get and delete of every client waits in (nats.js's `info()` asks the API). A bucket without
   * direct gets (made by another client with allow_direct off) is asked through the API.
   */
  private async objectInfo(b: Bucket, storeName: string): Promise<ObjectInfo | null> {
    let m: StoredMsg;
    try {
      m = await (b.jsm as unknown as DirectGet).direct.getMessage(`OBJ_${b.name}`, { last_by_subj: metaSubject(b.name, storeName) });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === '404') return null;
      if (code === '503') return b.os.info(storeName);
      throw e;
    }
    const info = jc.decode(m.data) as unknown as ObjectInfo & { revision: number };
    info.revision = m.seq;
    return info;
  }

  /** Removes an object's chunks and its (superseded) metadata message, one message at a time. */
  private async removeObject(b: Bucket, info: ObjectInfo): Promise<void> {
    const stream = `OBJ_${b.name}`;
    const subject = `$O.${b.name}.C.${info.nuid}`;
    try {
      let seq = 0;
      for (let i = 0; i < info.chunks; i++) {
        const m = await (b.jsm as unknown as DirectGet).direct.getMessage(stream, { seq: seq + 1, next_by_subj: subject });
        if (m.subject !== subject) break;
        seq = m.seq;
        await b.jsm.streams.deleteMessage(stream, m.seq, false);
      }
      if (info.revision) await b.jsm.streams.deleteMessage(stream, info.revision, false);
    } catch (e) {
      this.log.debug({ bucket: b.name, object: info.name, err: String(e) }, 'nats: leftovers of a replaced object stay (no listing shows them)');
    }
  }

  /** Object stores have no rename: copy, then delete. Core never needs it to be atomic (see atomicPut). */
  async rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    const src = this.read(from, opts);
    const chunks: Buffer[] = [];
    try {
      for await (const c of src) chunks.push(c as Buffer);
    } catch (e) {
      throw e instanceof TransportError ? new TransportError(e.kind, e.message.replace('read', 'rename'), { cause: e, path: from }) : this.err(e, `rename ${from}`, from);
    }
    await this.write(to, Buffer.concat(chunks), opts);
    await this.delete(from, opts);
  }

  async delete(path: string, opts?: CallOptions): Promise<void> {
    const { bucket, name } = this.locate(path);
    const b = await this.bucket(bucket, opts?.signal);
    const what = `nats delete ${path}`;
    const storeName = toStore(name);
    const info = await bounded(this.objectInfo(b, storeName), this.timeoutMs, what, opts?.signal, path).catch((e: unknown) => {
      throw this.err(e, `delete ${path}`, path);
    });
    if (info === null || info.deleted) throw new TransportError('NotFound', `${what}: no such object`, { path });
    // a tombstone as nats.js writes it, without the roll-up (see putObject); then the old messages go
    const tomb = { name: storeName, description: info.description ?? '', options: info.options ?? {}, bucket: b.name, nuid: info.nuid, size: 0, chunks: 0, mtime: new Date().toISOString(), digest: '', deleted: true };
    const pa = await bounded(this.js!.publish(metaSubject(b.name, storeName), jc.encode(tomb), { timeout: this.timeoutMs }), this.timeoutMs, what, opts?.signal, path).catch((e: unknown) => {
      throw this.err(e, `delete ${path}`, path);
    });
    this.apply(b, name, { size: 0, mtime: new Date(tomb.mtime), revision: pa.seq, deleted: true });
    void this.removeObject(b, info);
  }

  /** Directories are name prefixes; an empty one is a zero-byte marker object `<dir>/`. */
  async mkdir(path: string, opts?: CallOptions): Promise<void> {
    const { bucket, name } = this.locate(path);
    const what = `mkdir ${path}`;
    // the bucket is made (or found) here; its markers are asked for one by one unless this
    // connection follows the bucket anyway (a writer must not start following: see Bucket.ready)
    const b = await this.bucket(bucket, opts?.signal).catch((e: unknown) => {
      throw this.err(e, what);
    });
    if (name === '') return;
    const indexed = b.ready !== undefined;
    if (indexed) await this.ready(bucket, what, opts?.signal);
    const parts = name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const marker = `${parts.slice(0, i).join('/')}/`;
      if (indexed) {
        const known = b.index.get(marker);
        if (known && !known.deleted) continue;
      } else {
        const info = await bounded(this.objectInfo(b, toStore(marker)), this.timeoutMs, `nats ${what}`, opts?.signal, path).catch((e: unknown) => {
          throw this.err(e, what, path);
        });
        if (info && !info.deleted) continue;
      }
      await bounded(this.putObject(b, marker, [], opts?.signal, path), this.timeoutMs, `nats mkdir ${path}`, opts?.signal, path).catch((e: unknown) => {
        throw this.err(e, `mkdir ${path}`, path);
      });
    }
  }

  async *watch(dir: string, opts: WatchOptions): AsyncIterable<TransportChange> {
    const { bucket, name } = this.locate(dir);
    const prefix = name === '' ? '' : `${name}/`;
    const queue: TransportChange[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (n, deleted) => {
      if (n === '') return wake?.(); // the index broke: the loop below rebuilds it
      if (!n.startsWith(prefix)) return;
      const rest = n.slice(prefix.length);
      if (rest === '' || rest.includes('/')) return;
      queue.push({ name: rest, kind: deleted ? 'delete' : 'put' });
      wake?.();
    };
    const onAbort = () => wake?.();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    // live: the index follows the bucket on a connection that is up, so every change is yielded
    let liveSaid = false;
    const say = (on: boolean) => {
      if (on === liveSaid) return;
      liveSaid = on;
      opts.onLive?.(on);
    };
    let b: Bucket | undefined;
    try {
      b = await this.ready(bucket, `watch ${dir}`, opts.signal);
      b.listeners.add(listener);
      while (!opts.signal.aborted) {
        say(!b.broken && !this.away);
        if (queue.length) {
          yield queue.shift()!;
          continue;
        }
        if (b.broken) {
          // a fresh index (complete from the stream); what changed meanwhile is one wake-up. While
          // JetStream is out of reach (a cut leaf link) the watch waits here: it is meant to last
          b.listeners.delete(listener);
          const next = await this.ready(bucket, `watch ${dir}`, opts.signal).catch((e: unknown) => {
            if (e instanceof TransportError && e.retryable) return undefined;
            throw e;
          });
          if (!next) {
            await new Promise<void>((res) => {
              wake = res;
              setTimeout(res, 1000).unref();
            });
            wake = undefined;
            continue;
          }
          b = next;
          b.listeners.add(listener);
          say(!this.away);
          yield { name: '', kind: 'put' };
          continue;
        }
        if (this.nc === undefined || this.nc.isClosed()) throw new TransportError('Unavailable', `nats watch ${dir}: the connection closed`, { path: dir });
        // a change, a broken index (drop() calls every listener) or the abort wakes this
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 1000).unref();
        });
        wake = undefined;
      }
    } catch (e) {
      if (opts.signal.aborted) return;
      throw this.err(e, `watch ${dir}`, dir);
    } finally {
      say(false);
      opts.signal.removeEventListener('abort', onAbort);
      b?.listeners.delete(listener);
    }
  }

  async close(): Promise<void> {
    const nc = this.nc;
    const pending = this.connecting;
    this.forget();
    const c = nc ?? (await pending?.catch(() => undefined));
    if (c && !c.isClosed()) await c.close().catch(() => undefined);
  }
}

export function createNatsTransport(ctx: TransportCreateContext): NatsTransport {
  return new NatsTransport(ctx.url, ctx.options as NatsTransportOptions, ctx.logger, ctx.timeoutMs);
}
