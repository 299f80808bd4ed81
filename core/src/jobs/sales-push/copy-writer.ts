import { Worker } from 'node:worker_threads';

/** one local copy to write: its day dir (made when missing), its path, its bytes */
export interface CopyFile {
  dir: string;
  file: string;
  bytes: Uint8Array;
}

interface Waiting {
  files: number;
  settle: (done: number, error?: Error) => void;
}

/**
 * Writes the local copies of a sale backlog in groups on a worker thread (copy-worker.ts). On ext4
 * a file create blocks its thread for 0.1–0.6 ms; 1,000 of them on the main thread were a fifth of
 * a `cfx push` of 1,000 sales, the thread that also talks to the server. Here the main thread only
 * posts each group (one message) and learns which of its files are written (one answer).
 *
 * Same rule as the synchronous path: a copy is written (write(2) returned: in the page cache, not
 * fsynced — the journal holds the sale durably and the copy can be written again from it) before
 * its file is renamed into place on the server.
 */
export class CopyWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private failed: Error | undefined;

  /** starts the thread now (~20–40 ms, on another core), so it is ready when the first group comes */
  start(): void {
    if (this.worker || this.failed) return;
    const w = new Worker(new URL('./copy-worker.js', import.meta.url));
    w.unref(); // an idle writer never keeps a process alive
    w.on('message', (m: { id: number; done: number; error?: { message: string; code?: string } }) => {
      const entry = this.waiting.get(m.id);
      if (!entry) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) w.unref();
      const error = m.error ? Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}) : undefined;
      entry.settle(m.done, error);
    });
    const fail = (e: Error) => {
      this.failed = e;
      this.worker = undefined;
      for (const [, entry] of this.waiting) entry.settle(0, e);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w) fail(new Error(`the local-copy writer stopped (exit ${code})`));
    });
    this.worker = w;
  }

  /** writes `files` in order; one promise per file, settled when the group's answer comes */
  write(files: CopyFile[]): Promise<void>[] {
    const settlers: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const promises = files.map((): Promise<void> => new Promise((resolve, reject) => settlers.push({ resolve, reject })));
    this.start();
    const w = this.worker;
    if (!w) {
      const e = this.failed ?? new Error('the local-copy writer is not running');
      for (const s of settlers) s.reject(e);
      return promises;
    }
    const id = this.nextId++;
    this.waiting.set(id, {
      files: files.length,
      settle: (done, error) => {
        settlers.forEach((s, k) => (k < done ? s.resolve() : s.reject(error ?? new Error('local copy not written'))));
      },
    });
    w.ref(); // answers are awaited: keep the process alive until they come
    w.postMessage({ id, files });
    return promises;
  }

  /** ends the thread (the groups still waiting fail) */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failed = undefined;
    const closed = new Error('the local-copy writer was closed');
    for (const [, entry] of this.waiting) entry.settle(0, closed);
    this.waiting.clear();
    if (w) await w.terminate();
  }
}
