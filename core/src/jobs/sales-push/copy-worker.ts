// The worker thread of CopyWriter (copy-writer.ts): writes groups of local copies with plain
// synchronous calls, off the main thread. One message per group in, one answer per group out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

interface Group {
  id: number;
  files: { dir: string; file: string; bytes: Uint8Array }[];
}

const made = new Set<string>();

parentPort!.on('message', ({ id, files }: Group) => {
  let done = 0;
  try {
    for (const f of files) {
      try {
        writeFileSync(f.file, f.bytes);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || made.has(f.dir)) throw e;
        mkdirSync(f.dir, { recursive: true });
        made.add(f.dir);
        writeFileSync(f.file, f.bytes);
      }
      done++;
    }
    parentPort!.postMessage({ id, done });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id, done, error: { message: err.message, ...(err.code ? { code: err.code } : {}) } });
  }
});
