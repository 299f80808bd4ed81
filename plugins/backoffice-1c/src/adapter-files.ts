import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CfxError, ErrorCodes } from '@cfx/core/api';

/*
 * Small, durable file steps of the `1c` adapter: whole-file reads that tell "absent" from an
 * error, writes under a temp name + fsync + rename + folder fsync, an in-place one-byte write
 * (the `@` acknowledgement), and a lock file so two cfx processes never write one exchange dir
 * at once.
 */

/** the file's bytes, or undefined when it does not exist */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some platforms (Windows) cannot fsync a folder */
  }
}

/** writes `data` to `path` so that a reader (1C) sees the old file or the whole new one, and the new one survives a power cut */
export function writeDurably(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.part`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** overwrites bytes of an existing file in place (what a register does to line 2 of a goods file), fsynced */
export function writeInPlace(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** deletes a file; an absent one is fine. True when something was deleted. */
export function removeIfExists(path: string): boolean {
  try {
    unlinkSync(path);
    fsyncDir(dirname(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export function readJson<T>(path: string): T | undefined {
  const b = readIfExists(path);
  if (b === undefined) return undefined;
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch (e) {
    throw new CfxError(ErrorCodes.STORE_IO, `${path} is not valid JSON (${(e as Error).message}); repair or remove it`, { details: { file: path } });
  }
}

export function writeJson(path: string, v: unknown): void {
  writeDurably(path, JSON.stringify(v, null, 2) + '\n');
}

/** a lock older than this is taken over even when its pid seems alive (the pid was reused after a crash) */
const STALE_LOCK_MS = 10 * 60_000;

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the lock of `dir`: one at a time in this process (a queue), and across
 * processes by a lock file holding the pid (`wx`). A lock left by a dead process is taken over;
 * one held by a live process is a retryable error (the next run tries again).
 */
export async function withDirLock<T>(lockFile: string, what: string, fn: () => T | Promise<T>): Promise<T> {
  const prev = inProcess.get(lockFile) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = prev.then(() => mine);
  inProcess.set(lockFile, chained);
  await prev.catch(() => undefined);
  try {
    acquire(lockFile, what);
    try {
      return await fn();
    } finally {
      rmSync(lockFile, { force: true });
    }
  } finally {
    release();
    if (inProcess.get(lockFile) === chained) inProcess.delete(lockFile);
  }
}

function acquire(lockFile: string, what: string): void {
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    let age = 0;
    try {
      pid = Number(readFileSync(lockFile, 'utf8').trim());
      age = Date.now() - statSync(lockFile).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    if (pid !== process.pid && alive(pid) && age < STALE_LOCK_MS) {
      throw new CfxError(ErrorCodes.JOB_FAILED, `${what} is locked by another cfx process (pid ${pid}, ${lockFile}); it is tried again on the next run`, { details: { lockFile, pid, retryable: true } });
    }
    rmSync(lockFile, { force: true }); // left by a process that died
  }
  throw new CfxError(ErrorCodes.JOB_FAILED, `could not take the lock ${lockFile}; it is tried again on the next run`, { details: { lockFile, retryable: true } });
}
