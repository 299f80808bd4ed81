import { ErrorCodes, FormatError } from '@cfx/core/api';

/** one physical line: s.slice(start, end), without its line break */
export type LineSink = (s: string, start: number, end: number, line: number) => void;

/** no limit configured anywhere still needs one: a file without line breaks must not fill the heap */
export const DEFAULT_MAX_LINE = 1 << 20;

export function lineLimit(option: number | undefined, ctxLimit: number | undefined): number {
  const m = Math.min(option ?? Infinity, ctxLimit ?? Infinity);
  return m === Infinity ? DEFAULT_MAX_LINE : m;
}

/**
 * Lines of decoded text pushed in arbitrary pieces; CRLF or LF. The ATOL format has no quoting, so
 * a line is simply what lies between two `\n`. Empty lines are handed on too: in a report a blank
 * line ends the transactions. The sink gets positions instead of a sliced line, so a parser can
 * cut only the fields it needs.
 */
export class LineReader {
  private rest = '';
  /** physical line number of rest[0] */
  private line = 1;

  constructor(
    /** bound on one line, so a file without line breaks cannot eat the heap */
    private readonly maxLine: number,
    private readonly file: string | undefined,
  ) {}

  push(text: string, final: boolean, sink: LineSink): void {
    const s = this.rest.length ? this.rest + text : text;
    const n = s.length, max = this.maxLine;
    let pos = 0, line = this.line;
    while (pos < n) {
      let nl = s.indexOf('\n', pos);
      if (nl < 0) {
        if (!final) break;
        nl = n;
      }
      const end = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end - pos > max) throw this.tooLong(line);
      // the sink may throw: rest/line then stay as they were, and the caller gives up on the input
      sink(s, pos, end, line);
      pos = nl + 1;
      line++;
    }
    this.rest = pos < n ? s.slice(pos) : '';
    if (this.rest.length > max) throw this.tooLong(line);
    this.line = line;
  }

  /** the line text not pushed yet starts on (`rest` never holds a line break) */
  nextLine(): number {
    return this.line;
  }

  private tooLong(line: number): FormatError {
    return new FormatError(`line is longer than ${this.maxLine} characters`, { file: this.file, line }, { code: ErrorCodes.FORMAT_LIMIT });
  }
}

/**
 * Field boundaries of one `;`-separated line, found once; fields are cut only when asked for.
 * Reused from line to line (no allocation per line).
 */
export class Fields {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** number of fields found (a trailing `;` makes a last, empty one) */
  count = 0;
  s = '';

  constructor(readonly max: number) {
    this.starts = new Int32Array(max);
    this.ends = new Int32Array(max);
  }

  /** false: more than `max` fields */
  split(s: string, start: number, end: number): boolean {
    const st = this.starts, en = this.ends, max = this.max;
    this.s = s;
    // 1C's 33-field lines are mostly empty fields: those cost one charCodeAt; a field with text
    // one indexOf (measured faster than an indexOf per field, and than a charCodeAt loop over all)
    let n = 0, p = start;
    for (;;) {
      st[n] = p;
      let e: number;
      if (p < end && s.charCodeAt(p) === 59) e = p;
      else {
        e = s.indexOf(';', p);
        if (e < 0 || e >= end) break;
      }
      en[n++] = e;
      if (n === max) return false;
      p = e + 1;
    }
    en[n++] = end;
    this.count = n;
    return true;
  }

  /** field k, 1-based; '' when absent */
  get(k: number): string {
    return k <= this.count ? this.s.slice(this.starts[k - 1]!, this.ends[k - 1]!) : '';
  }

  empty(k: number): boolean {
    return k > this.count || this.starts[k - 1] === this.ends[k - 1];
  }

  /** field k is exactly the one character c */
  is(k: number, c: number): boolean {
    return k <= this.count && this.ends[k - 1]! - this.starts[k - 1]! === 1 && this.s.charCodeAt(this.starts[k - 1]!) === c;
  }
}
