import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { FormatError } from '../api/index.js';

export type TextEncoding = 'auto' | 'utf-8' | 'cp1251';

/**
 * Where decoded text goes, so an invalid byte can be reported the way every other bad input is:
 * file and line. The decoder never counts lines itself (a scan of every chunk on the happy path);
 * it asks the reader it feeds, and counts line breaks only in the bytes of the failing chunk.
 */
export interface TextSite {
  /** named in the FormatError */
  file?: string;
  /**
   * The 1-based line the reader is on after all text handed to it so far (where the next text
   * starts). Without it the error names the byte offset only.
   */
  line?: () => number;
}

/** bytes of undecided text to look at before choosing; a few characters could pass for either */
const SNIFF = 1024;
/**
 * Bytes decoded at a time. A string over ~128 KiB goes to V8's large-object space; 64 KiB pieces
 * of Cyrillic (two-byte strings) measured 5-10x slower to make than 32 KiB ones.
 */
const PIECE = 32 * 1024;
/** the one byte windows-1251 leaves unassigned (WHATWG maps it to the C1 control U+0098) */
const CP1251_HOLE = 0x98;

interface Decoder {
  write(b: Buffer): string;
  end(): string;
}

/** tests flip this to run the iconv-lite path a Node build without full ICU takes */
export const decoderChoice = { iconvOnly: false };

/**
 * WHATWG TextDecoder measured ~5x faster than iconv-lite for windows-1251 and 2x for UTF-8; fatal
 * costs nothing measurable. iconv-lite stays for Node builds without full ICU, which have no
 * windows-1251 TextDecoder; UTF-8 never takes it (every build has a UTF-8 TextDecoder, and
 * iconv-lite's UTF-8 would turn bad bytes into U+FFFD). Neither is asked to reject anything in
 * cp1251: the only byte without a character, 0x98, is looked for before either sees the bytes,
 * so both paths fail alike.
 */
function decoder(encoding: 'utf-8' | 'cp1251', stripBOM: boolean): Decoder {
  const fatal = (label: string): Decoder => {
    const td = new TextDecoder(label, { fatal: true, ignoreBOM: !stripBOM });
    return { write: (b) => td.decode(b, { stream: true }), end: () => td.decode() };
  };
  if (encoding === 'utf-8') return fatal('utf-8');
  if (!decoderChoice.iconvOnly) {
    try {
      return fatal('windows-1251');
    } catch {
      /* no windows-1251 in this build */
    }
  }
  const d = iconv.getDecoder('cp1251', { stripBOM });
  return { write: (b) => d.write(b), end: () => d.end() ?? '' };
}

/**
 * Bytes -> text by chunks, never splitting a character, failing on a byte the encoding has no
 * character for (a FormatError naming file, line and byte offset: a `�` in a product name is
 * data loss nobody sees). `auto`: a BOM means UTF-8; otherwise the first non-ASCII bytes decide.
 * ASCII before that point reads the same in both, so it is passed on without waiting. Once
 * chosen, the encoding stays: UTF-8 that turns invalid later is an error, not cp1251.
 */
export class ByteDecoder {
  private dec: Decoder | undefined;
  private kind: 'utf-8' | 'cp1251' | undefined;
  private pending: Buffer | undefined;
  private atStart = true;
  /** offset of the first byte not yet handed to `dec` (nor passed on as ASCII) */
  private at = 0;
  /** ends with the last (up to 3) bytes handed to `dec`: a UTF-8 sequence cut there is still open */
  private last: Buffer | undefined;

  constructor(
    encoding: TextEncoding,
    private readonly site: TextSite = {},
  ) {
    if (encoding !== 'auto') this.use(encoding, true);
  }

  write(b: Buffer): string {
    if (this.dec) return this.put(b, '');
    const p = this.pending ? Buffer.concat([this.pending, b]) : b;
    this.pending = undefined;
    return this.sniff(p, false);
  }

  end(): string {
    const p = this.pending;
    this.pending = undefined;
    const s = p ? this.sniff(p, true) : '';
    if (!this.dec) return s;
    try {
      return s + this.dec.end();
    } catch {
      const open = this.openTail();
      throw this.invalid(`incomplete UTF-8 sequence at the end of the file: byte 0x${hex(open[0] ?? 0)} at byte offset ${this.at - open.length}`, s, undefined);
    }
  }

  private use(kind: 'utf-8' | 'cp1251', stripBOM: boolean): void {
    this.kind = kind;
    this.dec = decoder(kind, stripBOM);
  }

  /** `before`: text of this call not handed out yet, ahead of `b` */
  private put(b: Buffer, before: string): string {
    if (this.kind === 'cp1251') {
      const k = b.indexOf(CP1251_HOLE);
      if (k >= 0) throw this.invalid(`invalid cp1251 byte 0x98 at byte offset ${this.at + k} (no character has it: is the file cp1251 at all?)`, before, b.subarray(0, k));
    }
    let s: string;
    try {
      s = this.dec!.write(b);
    } catch {
      // the sequence that broke may have begun in the previous chunk
      const open = this.openTail();
      const scan = open.length ? Buffer.concat([open, b]) : b;
      let j = firstInvalidUtf8(scan);
      if (j < 0) j = 0;
      throw this.invalid(`invalid UTF-8 byte 0x${hex(scan[j]!)} at byte offset ${this.at - open.length + j}`, before, scan.subarray(0, j));
    }
    this.at += b.length;
    this.last = b.length >= 3 || !this.last ? b : Buffer.concat([this.last.subarray(-3), b]);
    return s;
  }

  /** the bytes of a UTF-8 sequence left open at the end of what `dec` was given */
  private openTail(): Buffer {
    const l = this.last;
    if (!l || this.kind !== 'utf-8') return Buffer.alloc(0);
    return l.subarray(completeUtf8(l).length);
  }

  /** the line: the reader's, plus the line breaks in what it has not seen up to the bad byte */
  private invalid(message: string, text: string, bytes: Buffer | undefined): FormatError {
    let line = this.site.line?.();
    if (line !== undefined) {
      for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) line++;
      if (bytes) for (let k = bytes.indexOf(10); k >= 0; k = bytes.indexOf(10, k + 1)) line++;
    }
    return new FormatError(message, line === undefined ? { file: this.site.file } : { file: this.site.file, line });
  }

  private sniff(p: Buffer, final: boolean): string {
    if (this.atStart) {
      if (!final && p.length < 3 && p.every((x, k) => x === BOM[k])) {
        this.pending = p;
        return '';
      }
      this.atStart = false;
      if (p[0] === 0xef && p[1] === 0xbb && p[2] === 0xbf) {
        this.use('utf-8', true);
        return this.put(p, '');
      }
    }
    let i = 0;
    while (i < p.length && p[i]! < 0x80) i++;
    this.at += i;
    if (i === p.length) return p.toString('latin1');
    const ascii = p.toString('latin1', 0, i);
    if (!final && p.length - i < SNIFF) {
      this.pending = p.subarray(i);
      return ascii;
    }
    const w = p.subarray(i, i + 64 * 1024);
    this.use(mostlyUtf8(final && w.length === p.length - i ? w : completeUtf8(w)) ? 'utf-8' : 'cp1251', false);
    return ascii + this.put(p.subarray(i), ascii);
  }
}

const BOM = [0xef, 0xbb, 0xbf];
const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/** drops a UTF-8 sequence cut off at the end of the window */
function completeUtf8(b: Buffer): Buffer {
  for (let k = b.length - 1; k >= 0 && k >= b.length - 4; k--) {
    const c = b[k]!;
    if (c < 0x80) return b;
    if (c >= 0xc0) return b.length - k < (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) ? b.subarray(0, k) : b;
  }
  return b;
}

/** length of the well-formed UTF-8 sequence at b[i] (WHATWG's rules), 0 if it is not one */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number, lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k < n; k++) {
    const d = b[i + k];
    if (d === undefined || d < lo || d > hi) return 0;
    lo = 0x80;
    hi = 0xbf;
  }
  return n;
}

/** where the first byte that does not start a well-formed sequence is; -1 when all are fine */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const n = utf8Length(b, i);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

/**
 * UTF-8, possibly with a few bad bytes (then it fails on them rather than turning into cp1251
 * mojibake)? cp1251 Cyrillic almost never forms a UTF-8 sequence — two lowercase letters never
 * do; an uppercase one followed by `І`, `Ё`, `»` may — so its bad bytes far outnumber its good
 * sequences, while UTF-8 with a stray byte is the other way round.
 */
function mostlyUtf8(w: Buffer): boolean {
  if (isUtf8(w)) return true;
  let good = 0, bad = 0;
  for (let i = 0; i < w.length; ) {
    if (w[i]! < 0x80) {
      i++;
      continue;
    }
    const n = utf8Length(w, i);
    if (n === 0) {
      bad++;
      i++;
    } else {
      good++;
      i += n;
    }
  }
  return good >= 2 * bad;
}

/** decoded text of a byte stream, chunk by chunk; the last item is the decoder's tail ('' if none) */
export async function* decodeText(input: Readable, encoding: TextEncoding, signal?: AbortSignal, site?: TextSite): AsyncGenerator<string> {
  const d = new ByteDecoder(encoding, site);
  for await (const chunk of input) {
    signal?.throwIfAborted();
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    for (let i = 0; i < b.length; i += PIECE) {
      const s = d.write(i === 0 && b.length <= PIECE ? b : b.subarray(i, i + PIECE));
      if (s) yield s;
    }
  }
  yield d.end();
}

/** text -> bytes; cp1251 cannot hold every character, and a silent `?` in a name would be data loss */
export function encodeText(s: string, encoding: TextEncoding): Buffer {
  if (encoding !== 'cp1251') return Buffer.from(s, 'utf8');
  const b = iconv.encode(s, 'cp1251');
  for (let k = b.indexOf(63); k >= 0; k = b.indexOf(63, k + 1)) {
    if (s.charCodeAt(k) !== 63) throw new FormatError(`character "${s[k]}" cannot be written in cp1251`);
  }
  return b;
}
