import { PassThrough, Readable } from 'node:stream';
import { posix } from 'node:path';
import { TransportError, type CallOptions, type RemoteEntry, type Transport, type TransportProvider } from '../api/index.js';

interface Node {
  type: 'file' | 'dir';
  data?: Buffer;
  mtime: Date;
}

/** Shared "servers": every memory:// URL with the same host sees the same files, like two clients of one FTP box. */
const volumes = new Map<string, Map<string, Node>>();

function volume(name: string): Map<string, Node> {
  let v = volumes.get(name);
  if (!v) {
    v = new Map([['/', { type: 'dir', mtime: new Date() }]]);
    volumes.set(name, v);
  }
  return v;
}

function norm(p: string): string {
  const n = posix.normalize('/' + p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function checkAbort(signal: AbortSignal | undefined, path: string): void {
  if (signal?.aborted) throw new TransportError('Aborted', `aborted: ${path}`, { path });
}

/**
 * The reference transport: in-process, no network. It is what the conformance suite is measured
 * against first, and what tests and `createTestHost` use when the network is not the point.
 */
export class MemoryTransport implements Transport {
  private readonly files: Map<string, Node>;
  constructor(volumeName = 'default') {
    this.files = volume(volumeName);
  }

  static reset(volumeName?: string): void {
    if (volumeName === undefined) volumes.clear();
    else volumes.delete(volumeName);
  }

  private parentMustExist(path: string): void {
    const parent = this.files.get(posix.dirname(path));
    if (!parent || parent.type !== 'dir') throw new TransportError('NotFound', `no such directory: ${posix.dirname(path)}`, { path });
  }

  async list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    const d = norm(dir);
    checkAbort(opts?.signal, d);
    const node = this.files.get(d);
    if (!node || node.type !== 'dir') throw new TransportError('NotFound', `no such directory: ${d}`, { path: d });
    const out: RemoteEntry[] = [];
    for (const [p, n] of this.files) {
      if (p !== d && posix.dirname(p) === d) out.push({ name: posix.basename(p), size: n.data?.length ?? 0, mtime: n.mtime, type: n.type });
    }
    return out;
  }

  read(path: string, opts?: CallOptions): Readable {
    const p = norm(path);
    const out = new PassThrough();
    queueMicrotask(() => {
      try {
        checkAbort(opts?.signal, p);
        const n = this.files.get(p);
        if (!n || n.type !== 'file') throw new TransportError('NotFound', `no such file: ${p}`, { path: p });
        const data = n.data ?? Buffer.alloc(0);
        // chunked, so consumers see a stream and aborts can land mid-transfer
        let off = 0;
        const onAbort = () => out.destroy(new TransportError('Aborted', `aborted: ${p}`, { path: p }));
        opts?.signal?.addEventListener('abort', onAbort, { once: true });
        const pump = () => {
          while (off < data.length) {
            const chunk = data.subarray(off, off + 65536);
            off += chunk.length;
            if (!out.write(chunk)) return void out.once('drain', pump);
          }
          opts?.signal?.removeEventListener('abort', onAbort);
          out.end();
        };
        pump();
      } catch (e) {
        out.destroy(e as Error);
      }
    });
    return out;
  }

  async write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    const p = norm(path);
    checkAbort(opts?.signal, p);
    this.parentMustExist(p);
    let buf: Buffer;
    if (data instanceof Uint8Array) buf = Buffer.from(data);
    else {
      const chunks: Buffer[] = [];
      for await (const c of data) {
        checkAbort(opts?.signal, p);
        chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
      }
      buf = Buffer.concat(chunks);
    }
    checkAbort(opts?.signal, p);
    this.files.set(p, { type: 'file', data: buf, mtime: new Date() });
    return buf.length;
  }

  async rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    const f = norm(from);
    const t = norm(to);
    checkAbort(opts?.signal, f);
    const n = this.files.get(f);
    if (!n || n.type !== 'file') throw new TransportError('NotFound', `no such file: ${f}`, { path: f });
    this.parentMustExist(t);
    this.files.delete(f);
    this.files.set(t, n);
  }

  async delete(path: string, opts?: CallOptions): Promise<void> {
    const p = norm(path);
    checkAbort(opts?.signal, p);
    const n = this.files.get(p);
    if (!n || n.type !== 'file') throw new TransportError('NotFound', `no such file: ${p}`, { path: p });
    this.files.delete(p);
  }

  async mkdir(path: string, opts?: CallOptions): Promise<void> {
    const p = norm(path);
    checkAbort(opts?.signal, p);
    let cur = '/';
    for (const part of p.split('/').filter(Boolean)) {
      cur = posix.join(cur, part);
      const n = this.files.get(cur);
      if (n && n.type !== 'dir') throw new TransportError('AlreadyExists', `a file is in the way: ${cur}`, { path: cur });
      if (!n) this.files.set(cur, { type: 'dir', mtime: new Date() });
    }
  }

  async close(): Promise<void> {}
}

export const memoryTransportProvider: TransportProvider = {
  schemes: ['memory'],
  create: ({ url }) => new MemoryTransport(url.hostname || 'default'),
};
