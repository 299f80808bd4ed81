import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfxError, ErrorCodes } from '../api/errors.js';

/*
 * The catalog's generations. A full price file is built into a NEW SQLite file and swapped in; the
 * file in use is named by a pointer, `catalog.current` (its whole content: `catalog-<gen>.db`),
 * replaced temp + fsync + rename + dir fsync, so it names the old file or the new one, never
 * neither. Renaming the new file over catalog.db instead would be unsafe with WAL: the -wal/-shm
 * files belong to a name, and open connections keep reading the old inode.
 *
 * No pointer: `catalog.db`, as every cfx before generations wrote it. Nothing is moved to migrate
 * an older install: its first full import writes catalog-1.db and the pointer, and catalog.db
 * becomes an old generation, deleted like any other.
 */

export const CATALOG_POINTER = 'catalog.current';
export const LEGACY_CATALOG = 'catalog.db';
const GEN_RE = /^catalog-(\d{1,15})\.db$/;
/** a catalog file and its SQLite companions: catalog.db, catalog-7.db-wal, … */
const FILE_RE = /^(catalog(?:-\d{1,15})?\.db)(?:-wal|-shm|-journal)?$/;

/** the pointer's identity: it is only ever replaced by a rename, so a new inode (or mtime) means a new pointer */
export interface PointerStamp {
  ino: number;
  mtimeMs: number;
}

/** The catalog file in use (its base name) and the stamp of the pointer it came from (undefined: no pointer). */
export function currentCatalog(dir: string): { name: string; stamp: PointerStamp | undefined } {
  const p = join(dir, CATALOG_POINTER);
  // stat first, then read: if a swap lands in between, the stamp is the older one and the next check reads again
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return { name: LEGACY_CATALOG, stamp: undefined };
  let name: string;
  try {
    name = readFileSync(p, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { name: LEGACY_CATALOG, stamp: undefined };
    throw e;
  }
  // the pointer is only ever written whole (temp + rename): anything else was put there by hand
  if (!GEN_RE.test(name)) throw new CfxError(ErrorCodes.STORE_IO, `${p} names "${name}", not a catalog-<n>.db file: restore it (the newest catalog-<n>.db) or delete it`, { details: { file: p } });
  return { name, stamp: { ino: st.ino, mtimeMs: st.mtimeMs } };
}

/** the pointer's stamp now (undefined: no pointer); one stat, what a reader pays per read */
export function pointerStamp(dir: string): PointerStamp | undefined {
  const st = statSync(join(dir, CATALOG_POINTER), { throwIfNoEntry: false });
  return st ? { ino: st.ino, mtimeMs: st.mtimeMs } : undefined;
}

export const sameStamp = (a: PointerStamp | undefined, b: PointerStamp | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.ino === b.ino && a.mtimeMs === b.mtimeMs);

const genOf = (name: string): number => Number(GEN_RE.exec(name)?.[1] ?? 0);

/** the name of the next generation: above every catalog-<n>.db in the dir (a leftover of a crashed build included) */
export function nextCatalogName(dir: string, current: string): string {
  let max = genOf(current);
  for (const f of readdirSync(dir)) {
    const m = FILE_RE.exec(f);
    if (m) max = Math.max(max, genOf(m[1]!));
  }
  return `catalog-${max + 1}.db`;
}

/** fsync of a directory, so a rename or an unlink in it is durable; not possible on Windows (NTFS journals it) */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    if (process.platform !== 'win32') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * THE commit point of a full import: the pointer names `name` from here on. Temp file, fsync,
 * rename over the pointer, fsync of the dir: a crash leaves the old pointer or the new one.
 */
export function writeCatalogPointer(dir: string, name: string): void {
  const tmp = join(dir, `${CATALOG_POINTER}.tmp`);
  writeFileSync(tmp, name + '\n');
  fsyncFile(tmp);
  renameSync(tmp, join(dir, CATALOG_POINTER));
  fsyncDir(dir);
}

/** the catalog files (and their -wal/-shm) of every generation but `keep`, and a leftover pointer temp file */
export function staleCatalogFiles(dir: string, keep: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f === `${CATALOG_POINTER}.tmp`) out.push(f);
    const m = FILE_RE.exec(f);
    if (m && m[1] !== keep) out.push(f);
  }
  return out.sort();
}

/**
 * Deletes files of old generations. Unlinking a file another process still reads is fine on POSIX
 * (its reader moves to the new generation on its next read); on Windows it fails, and the file is
 * left for the next start-up.
 */
export function removeCatalogFiles(dir: string, files: readonly string[]): string[] {
  const removed: string[] = [];
  for (const f of files) {
    try {
      rmSync(join(dir, f), { force: true });
      removed.push(f);
    } catch {
      /* still open elsewhere (Windows): the next start-up removes it */
    }
  }
  if (removed.length && existsSync(dir)) fsyncDir(dir);
  return removed;
}
