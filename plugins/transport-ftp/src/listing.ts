import { FileInfo, FileType } from 'basic-ftp';
import * as dos from 'basic-ftp/dist/parseListDOS.js';
import * as mlsd from 'basic-ftp/dist/parseListMLSD.js';
import * as unix from 'basic-ftp/dist/parseListUnix.js';
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

interface LineParser {
  testLine(line: string): boolean;
  parseLine(line: string): FileInfo | undefined;
  transformList(files: FileInfo[]): FileInfo[];
}
// basic-ftp's own line parsers (its parseList, line by line), in its order: MLSD last, it accepts almost anything
const PARSERS: LineParser[] = [dos, unix, mlsd];

/**
 * A listing's text → FileInfo, for LIST/MLSD (set as the client's `parseList`) and STAT alike.
 * basic-ftp's parseList splits at every line break and drops a line it cannot parse, so a name
 * holding a line break lost its end silently ("a\nb.csv" was listed as "a"). Here a line that is
 * not a listing line belongs to the line before it: it is joined back with "\n", and the name,
 * no longer plain, is refused and counted by core (UnsafeNames) instead of vanishing or being
 * mistaken for another file. (A continuation that is itself a well-formed listing line cannot be
 * told apart from a real entry by any listing parser; plugins/transport-ftp/README.md says so.)
 */
export function parseListingLines(raw: readonly string[]): { files: FileInfo[]; lines: number } {
  // a CR inside a name ("cr\rz") is a line terminator to the parsers' regular expressions, so the
  // line would not parse: it is carried as NUL (which no Unix name can hold) and put back after
  const lines = raw.filter((l) => l.trim() !== '' && !/^total\b/.test(l)).map((l) => l.replaceAll('\r', '\0'));
  let parser: LineParser | undefined;
  for (let i = 0; i < lines.length && !parser; i++) parser = PARSERS.find((p) => p.testLine(lines[i]!));
  if (!parser) {
    if (lines.length === 0) return { files: [], lines: 0 };
    throw new Error(`not a directory listing (neither Unix, DOS nor MLSD lines): ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  }
  const files: FileInfo[] = [];
  /** the entry the last listing line made, null when that line was "." or ".." (skipped) */
  let last: FileInfo | null = null;
  let seen = 0;
  for (const l of lines) {
    // parseLine first (one regular expression for the usual line), testLine only for what it
    // refused; MLSD's parseLine takes any line with a space, so there testLine decides first
    const info = parser !== mlsd || parser.testLine(l) ? parser.parseLine(l) : undefined;
    if (info) {
      seen++;
      files.push((last = info));
    } else if (parser.testLine(l)) {
      seen++; // "." or ".."
      last = null;
    } else if (last) {
      last.name += '\n' + l;
    } else {
      // the rest of "." / ".." / nothing: a name with a line break all the same, never dropped
      last = new FileInfo('\n' + l);
      files.push(last);
    }
  }
  for (const f of files) if (f.name.includes('\0')) f.name = f.name.replaceAll('\0', '\r');
  return { files: parser.transformList(files), lines: seen };
}

/** `Client.parseList` replacement: the text of a LIST/MLSD data connection. */
export function parseListing(text: string): FileInfo[] {
  return parseListingLines(text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))).files;
}
