import { open, mkdir, readdir, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { TransportError, type CallOptions, type RemoteEntry, type Transport, type TransportCreateContext, type TransportErrorKind } from '@cfx/core/api';

export interface FileTransportOptions {
  /** flush each written file to the disk before `write` resolves (default true) */
  fsync?: boolean;
  /** permissions of created files, before the umask (default 0o644) */
  fileMode?: number;
}

type Op = 'list' | 'read' | 'write' | 'rename' | 'delete' | 'mkdir';

/** errno codes that mean "the folder is not reachable right now" (an unmounted or flaky network share, a full disk): retry later */
const UNAVAILABLE = new Set(['EIO', 'ENOTCONN', 'ESTALE', 'EHOSTDOWN', 'EHOSTUNREACH', 'ENETDOWN', 'ENETUNREACH', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EAGAIN', 'EBUSY', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']);

/** Node's fs errors → the closed set of TransportError kinds the jobs react to. */
export function toTransportError(e: unknown, op: Op, path: string): TransportError {
  if (e instanceof TransportError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  const why = err?.message ?? String(e);
  let kind: TransportErrorKind;
  if (err?.name === 'AbortError' || code === 'ABORT_ERR') kind = 'Aborted';
  else if (code === 'ENOENT' || code === 'ENOTDIR') kind = 'NotFound';
  // a directory where a file was expected: reading or deleting it finds no file; writing over it is blocked by it
  else if (code === 'EISDIR') kind = op === 'read' || op === 'delete' ? 'NotFound' : 'AlreadyExists';
  else if (code === 'EEXIST' || code === 'ENOTEMPTY') kind = 'AlreadyExists';
  else if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') kind = 'PermissionDenied';
  else if (code === 'ETIMEDOUT') kind = 'Timeout';
  else if (code !== undefined && UNAVAILABLE.has(code)) kind = 'Unavailable';
  else kind = 'Protocol';
  return new TransportError(kind, `file ${op} ${path}: ${kind === 'Aborted' ? 'aborted' : why}`, { path, cause: e, ...(code ? { details: { errno: code } } : {}) });
}

function aborted(op: Op, path: string): TransportError {
  return new TransportError('Aborted', `file ${op} ${path}: aborted`, { path });
}

function within(child: string, root: string): boolean {
  const r = relative(root, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/**
 * A folder as the exchange "server": `file:///srv/exchange` (or `file:///C:/exchange`, or a mounted
 * network share). Remote paths are POSIX paths under the URL's path, which is the root: `..` cannot
 * climb out of it and a symbolic link leading out of it is refused (PermissionDenied). There is no
 * connection: `close()` has nothing to close and the transport is always usable.
 *
 * A missing root is `Unavailable`, not `NotFound`: it is what an unmounted network share looks like,
 * and creating folders in the mount point's place would hide the exchange from the other side.
 */
export class FileTransport implements Transport {
  readonly root: string;
  private readonly fsync: boolean;
  private readonly fileMode: number;
  private realRoot: string | undefined;

  constructor(url: URL, options: FileTransportOptions = {}) {
    if (url.protocol !== 'file:') throw new TransportError('Protocol', `file transport: not a file:// URL: ${url.protocol}`);
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (e) {
      throw new TransportError('Protocol', `file transport: ${url.href} is not a local path (${(e as Error).message}); mount the share and use file:///<mount point>`, { cause: e });
    }
    this.root = root.length > 1 && (root.endsWith('/') || root.endsWith(sep)) ? root.slice(0, -1) : root;
    this.fsync = options.fsync ?? true;
    this.fileMode = options.fileMode ?? 0o644;
  }

  /** remote POSIX path → local path under the root; refuses to leave it */
  private localPath(op: Op, path: string): string {
    if (path.includes('\0')) throw new TransportError('Protocol', `file ${op}: the path contains a NUL byte`, { path });
    const parts: string[] = [];
    for (const seg of path.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (parts.length === 0) throw new TransportError('PermissionDenied', `file ${op} ${path}: the path leads out of the root folder`, { path });
        parts.pop();
        continue;
      }
      // on Windows "\" separates too: a segment like "a\..\.." must not climb
      if (sep === '\\' && /[\\:]/.test(seg)) throw new TransportError('PermissionDenied', `file ${op} ${path}: "\\" and ":" are not allowed in names`, { path });
      parts.push(seg);
    }
    return parts.length ? join(this.root, ...parts) : this.root;
  }

  /** the root must exist (an unmounted share is Unavailable); the real location of `local` must be inside it */
  private async resolve(op: Op, path: string, opts: CallOptions | undefined): Promise<string> {
    if (opts?.signal?.aborted) throw aborted(op, path);
    const local = this.localPath(op, path);
    try {
      const rootNow = await realpath(this.root);
      this.realRoot = rootNow;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new TransportError('Unavailable', `file ${op} ${path}: the root folder ${this.root} is not there (a network share not mounted?)`, { path, cause: e });
      throw toTransportError(e, op, path);
    }
    // the deepest existing ancestor (or the path itself) must really be inside the root: no symlink out
    let p = local;
    for (;;) {
      try {
        const real = await realpath(p);
        if (!within(real, this.realRoot)) throw new TransportError('PermissionDenied', `file ${op} ${path}: leads out of the root folder (a symbolic link)`, { path });
        break;
      } catch (e) {
        if (e instanceof TransportError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toTransportError(e, op, path);
        const up = dirname(p);
        if (up === p || !within(up, this.root)) break;
        p = up;
      }
    }
    return local;
  }

  async list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    try {
      const local = await this.resolve('list', dir, opts);
      const dirents = await readdir(local, { withFileTypes: true });
      if (opts?.signal?.aborted) throw aborted('list', dir);
      return await Promise.all(
        dirents.map(async (d): Promise<RemoteEntry> => {
          // stat follows links: a link to a file lists as a file (reading it is still confined)
          const st = await stat(join(local, d.name)).catch(() => undefined);
          const type = st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : 'other';
          return { name: d.name, size: type === 'file' ? st!.size : 0, type, ...(st ? { mtime: st.mtime } : {}) };
        }),
      );
    } catch (e) {
      throw toTransportError(e, 'list', dir);
    }
  }

  read(path: string, opts?: CallOptions): Readable {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    const signal = opts?.signal;
    let fh: FileHandle | undefined;
    const fail = (e: unknown) => {
      if (!out.destroyed) out.destroy(signal?.aborted ? aborted('read', path) : toTransportError(e, 'read', path));
    };
    const onAbort = () => fail(aborted('read', path));
    signal?.addEventListener('abort', onAbort, { once: true });
    out.once('close', () => signal?.removeEventListener('abort', onAbort));
    (async () => {
      const local = await this.resolve('read', path, opts);
      fh = await open(local, 'r');
      if (!(await fh.stat()).isFile()) throw new TransportError('NotFound', `file read ${path}: not a file`, { path });
      if (out.destroyed) return;
      const rs = fh.createReadStream({ highWaterMark: 256 * 1024, autoClose: true });
      fh = undefined; // the stream owns (and closes) it now
      out.once('close', () => rs.destroy());
      await pipeline(rs, out);
    })().catch((e) => {
      void fh?.close().catch(() => undefined);
      fail(e);
    });
    return out;
  }

  async write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    const signal = opts?.signal;
    let fh: FileHandle | undefined;
    try {
      const local = await this.resolve('write', path, opts);
      fh = await open(local, 'w', this.fileMode);
      const handle = fh;
      let n = 0;
      const writeAll = async (buf: Uint8Array) => {
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await handle.write(buf, off, buf.length - off);
          off += bytesWritten;
        }
        n += buf.length;
      };
      if (data instanceof Uint8Array) await writeAll(data);
      else {
        const sink = new Writable({
          highWaterMark: 256 * 1024,
          write(chunk: Buffer | string, _enc, cb) {
            writeAll(typeof chunk === 'string' ? Buffer.from(chunk) : chunk).then(() => cb(), cb);
          },
        });
        await pipeline(data, sink, ...((signal ? [{ signal }] : []) as []));
      }
      if (signal?.aborted) throw aborted('write', path);
      if (this.fsync) await fh.sync();
      return n;
    } catch (e) {
      throw signal?.aborted ? aborted('write', path) : toTransportError(e, 'write', path);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  async rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    try {
      const src = await this.resolve('rename', from, opts);
      const dst = await this.resolve('rename', to, opts);
      if (src === this.root || dst === this.root) throw new TransportError('PermissionDenied', `file rename ${from} → ${to}: the root folder cannot be renamed`, { path: from });
      await rename(src, dst); // replaces an existing file (POSIX rename; MoveFileEx with REPLACE_EXISTING on Windows)
    } catch (e) {
      throw toTransportError(e, 'rename', from);
    }
  }

  async delete(path: string, opts?: CallOptions): Promise<void> {
    try {
      const local = await this.resolve('delete', path, opts);
      const st = await stat(local);
      if (!st.isFile()) throw new TransportError('NotFound', `file delete ${path}: not a file`, { path });
      await unlink(local);
    } catch (e) {
      throw toTransportError(e, 'delete', path);
    }
  }

  async mkdir(path: string, opts?: CallOptions): Promise<void> {
    try {
      const local = await this.resolve('mkdir', path, opts);
      await mkdir(local, { recursive: true });
    } catch (e) {
      // a file where one of the folders should be: the same answer as for a file at the leaf
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new TransportError('AlreadyExists', `file mkdir ${path}: a file is in the way`, { path, cause: e });
      throw toTransportError(e, 'mkdir', path);
    }
  }

  async close(): Promise<void> {
    // nothing is held open between calls
  }
}

export function createFileTransport(ctx: Pick<TransportCreateContext, 'url' | 'options'>): FileTransport {
  return new FileTransport(ctx.url, ctx.options as FileTransportOptions);
}
