import { FileType, type FileInfo } from 'basic-ftp';
import type { RemoteEntry } from '@cfx/core/api';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The date of a Unix LIST line, which is all vsftpd offers (no MLSD): "Nov 24 16:27" for the last
 * six months (no year, no seconds) or "Nov 24  2023". Read as UTC, vsftpd's default
 * (use_localtime=NO). A yearless date in the future belongs to last year. Undefined when unsure.
 */
export function parseListDate(raw: string, now = new Date()): Date | undefined {
  const m = /^([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{1,2}):(\d{2})|(\d{4}))$/.exec(raw.trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  if (month < 0) return undefined;
  const day = Number(m[2]);
  if (m[5] !== undefined) return new Date(Date.UTC(Number(m[5]), month, day));
  let year = now.getUTCFullYear();
  let d = new Date(Date.UTC(year, month, day, Number(m[3]), Number(m[4])));
  // a day of slack for clock skew between us and the server
  if (d.getTime() > now.getTime() + 86_400_000) d = new Date(Date.UTC(--year, month, day, Number(m[3]), Number(m[4])));
  return d;
}

export function toRemoteEntry(f: FileInfo, decode: (wire: string) => string, now?: Date): RemoteEntry {
  const type = f.type === FileType.File ? 'file' : f.type === FileType.Directory ? 'dir' : 'other';
  const mtime = f.modifiedAt ?? parseListDate(f.rawModifiedAt, now);
  return { name: decode(f.name), size: f.size, type, ...(mtime ? { mtime } : {}) };
}
