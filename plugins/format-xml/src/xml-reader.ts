// A SAX reader that is safe to point at files from anywhere: bytes in, element events out, with
// the encoding taken from the BOM / XML declaration, no DTDs (so no external or expanding
// entities: XXE and "billion laughs" are impossible), and limits on size, depth and every piece
// of text the parser must hold. Every failure is a FormatError with line and column.
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { ByteDecoder, type TextSite } from '@cfx/core/text';
import { CfxError, ErrorCodes, FormatError, type ErrorCode } from '@cfx/core/api';
import type { XmlEncoding } from './options.js';

/** CommerceML 2's namespace; site platforms often leave it out, some write other versions' urns */
export const CML_NS = 'urn:1C.ru:commerceml_2';
const isCmlNs = (uri: string) => uri === '' || uri.startsWith('urn:1C.ru:commerceml');

export interface XmlElement {
  /** local name, without any prefix */
  local: string;
  /** namespace URI ('' for none) */
  uri: string;
  /** in no namespace or a CommerceML one: the elements the decoders look at */
  cml: boolean;
  /** unprefixed attributes by name */
  attrs: Record<string, string>;
  line: number;
  column: number;
}

export interface XmlHandlers {
  /** depth: the root element is 1 */
  open(el: XmlElement, depth: number): void;
  close(depth: number): void;
  /** character data (text and CDATA), entities resolved */
  text(t: string): void;
}

export interface ReaderLimits {
  encoding: XmlEncoding;
  maxBytes: number;
  maxDepth: number;
  maxTextLength: number;
}

interface Decoder {
  write(b: Buffer): string;
  end(): string;
}

/** the declaration, if any, must fit in this many bytes (it is about 40) */
const DECL_MAX = 512;
/** more attributes than this on one element is not CommerceML */
const MAX_ATTRIBUTES = 1000;

/**
 * Any other encoding TextDecoder knows (UTF-16, koi8-r, ...), fatal like ByteDecoder but without
 * its exact position: `bad(at, n)` makes the error for the n bytes from offset `at`.
 */
function textDecoder(label: string, bad: (at: number, n: number) => unknown): Decoder | undefined {
  let td: InstanceType<typeof TextDecoder>;
  try {
    td = new TextDecoder(label, { fatal: true });
  } catch {
    return undefined;
  }
  let at = 0;
  return {
    write: (b) => {
      try {
        const s = td.decode(b, { stream: true });
        at += b.length;
        return s;
      } catch {
        throw bad(at, b.length);
      }
    },
    end: () => {
      try {
        return td.decode();
      } catch {
        throw bad(at, 0);
      }
    },
  };
}

/** `windows-1251`, `cp1251`, `utf-8`, ... -> a decoder; undefined when this Node cannot decode it */
function decoderFor(label: string, site: TextSite, bad: (at: number, n: number) => unknown): Decoder | undefined {
  const l = label.toLowerCase();
  if (l === 'utf-8' || l === 'utf8') return new ByteDecoder('utf-8', site);
  if (['windows-1251', 'cp1251', 'win-1251', 'x-cp1251', 'cp-1251'].includes(l)) return new ByteDecoder('cp1251', site);
  return textDecoder(l, bad);
}

export class SafeXmlReader {
  private readonly parser: SaxesParser<{ xmlns: true; position: true }>;
  private decoder: Decoder | undefined;
  private head: Buffer | undefined;
  private bytes = 0;
  private depth = 0;
  private rootSeen = false;
  /** the last characters written before the root element: `<!DOCTYPE` may straddle two chunks */
  private carry = '';
  private startLine = 1;
  private startColumn = 1;
  private failed: unknown;
  /** an invalid byte is reported at the line the parser has reached */
  private readonly site: TextSite;

  constructor(
    readonly file: string,
    private readonly limits: ReaderLimits,
    h: XmlHandlers,
  ) {
    const p = (this.parser = new SaxesParser({ xmlns: true, position: true }));
    this.site = { file, line: () => p.line };
    p.on('opentagstart', (t) => {
      this.startLine = p.line;
      this.startColumn = Math.max(1, p.column - t.name.length);
    });
    p.on('opentag', (t: SaxesTagNS) => {
      this.rootSeen = true;
      if (++this.depth > limits.maxDepth) throw this.error(`elements nest deeper than ${limits.maxDepth} levels`, undefined, ErrorCodes.FORMAT_LIMIT);
      const attrs: Record<string, string> = {};
      for (const a of Object.values(t.attributes)) if (a.prefix === '' && a.name !== 'xmlns') attrs[a.local] = a.value;
      h.open({ local: t.local, uri: t.uri, cml: isCmlNs(t.uri), attrs, line: this.startLine, column: this.startColumn }, this.depth);
    });
    p.on('closetag', () => h.close(this.depth--));
    p.on('text', (t) => h.text(t));
    p.on('cdata', (t) => h.text(t));
    p.on('doctype', () => {
      throw this.doctypeError();
    });
  }

  get line(): number {
    return this.parser.line;
  }

  /** a FormatError at the parser's position */
  error(message: string, field?: string, code?: ErrorCode, line = this.parser.line, column: number | undefined = this.parser.column + 1): FormatError {
    return new FormatError(message, { file: this.file, line, ...(column !== undefined ? { column } : {}), ...(field !== undefined ? { field } : {}) }, code ? { code } : undefined);
  }

  private doctypeError(): FormatError {
    return this.error('a DOCTYPE (DTD) is not accepted: CommerceML needs none, and DTDs are how external entities (XXE) get in', 'DOCTYPE', ErrorCodes.FORMAT_UNSUPPORTED);
  }

  write(chunk: Buffer): void {
    if (this.failed !== undefined) throw this.failed;
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxBytes) throw this.fail(this.error(`the input is larger than ${this.limits.maxBytes} bytes`, undefined, ErrorCodes.FORMAT_LIMIT));
    if (!this.decoder) {
      this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      if (!this.chooseDecoder(false)) return;
      chunk = this.head;
      this.head = undefined;
    }
    this.feed(this.decode(chunk));
  }

  end(): void {
    if (this.failed !== undefined) throw this.failed;
    if (!this.decoder) {
      this.head ??= Buffer.alloc(0);
      this.chooseDecoder(true);
      const h = this.head;
      this.head = undefined;
      this.feed(this.decode(h));
    }
    this.feed(this.decode(undefined));
    try {
      this.parser.close();
    } catch (e) {
      throw this.fail(this.wrap(e));
    }
  }

  /** bytes -> text; undefined: the end. A byte the encoding has no character for ends the input */
  private decode(b: Buffer | undefined): string {
    try {
      return b ? this.decoder!.write(b) : this.decoder!.end();
    } catch (e) {
      throw this.fail(e);
    }
  }

  private badBytes(label: string): (at: number, n: number) => unknown {
    return (at, n) => this.fail(this.error(n ? `invalid ${label} text in the ${n} bytes from byte offset ${at}` : `incomplete ${label} text at the end of the file`, undefined, ErrorCodes.FORMAT_INVALID, this.parser.line, undefined));
  }

  private fail(e: unknown): unknown {
    this.failed = e;
    return e;
  }

  /** picks the decoder from the first bytes; false: need more bytes */
  private chooseDecoder(final: boolean): boolean {
    const h = this.head!;
    const forced = this.limits.encoding;
    if (h.length >= 2 && ((h[0] === 0xff && h[1] === 0xfe) || (h[0] === 0xfe && h[1] === 0xff))) {
      const label = h[0] === 0xff ? 'utf-16le' : 'utf-16be';
      this.decoder = textDecoder(label, this.badBytes(label));
      if (!this.decoder) throw this.fail(this.error('UTF-16 input cannot be decoded by this Node build', 'encoding', ErrorCodes.FORMAT_UNSUPPORTED, 1, 1));
      return true;
    }
    if (forced !== 'auto') {
      this.decoder = new ByteDecoder(forced, this.site);
      return true;
    }
    const bom = h[0] === 0xef && h[1] === 0xbb && h[2] === 0xbf;
    const start = bom ? 3 : 0;
    const prefix = '<?xml';
    // not (yet) known whether a declaration follows
    const seen = h.length - start;
    if (seen < prefix.length && !final && h.toString('latin1', start) === prefix.slice(0, seen)) return false;
    if (h.toString('latin1', start, start + prefix.length) !== prefix) {
      if (h.length >= 4 && ((h[0] === 0x3c && h[1] === 0 && h[2] === 0x3f) || (h[0] === 0 && h[1] === 0x3c && h[2] === 0))) {
        const label = h[0] === 0 ? 'utf-16be' : 'utf-16le';
        this.decoder = textDecoder(label, this.badBytes(label));
        return true;
      }
      // no declaration: XML says UTF-8; a file that is not valid UTF-8 is taken as cp1251, as 1C's tools do
      this.decoder = new ByteDecoder(bom ? 'utf-8' : 'auto', this.site);
      return true;
    }
    const end = h.indexOf('?>', start);
    if (end < 0) {
      if (!final && h.length < DECL_MAX) return false;
      throw this.fail(this.error('the XML declaration is not closed with "?>"', 'encoding', ErrorCodes.FORMAT_INVALID, 1, 1));
    }
    const decl = h.toString('latin1', start, end);
    const m = /\sencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/.exec(decl);
    if (!m) {
      this.decoder = new ByteDecoder('utf-8', this.site);
      return true;
    }
    const label = m[2]!;
    if (bom && !/^utf-?8$/i.test(label)) throw this.fail(this.error(`a UTF-8 byte order mark, but the declaration says encoding="${label}"`, 'encoding', ErrorCodes.FORMAT_INVALID, 1, 1));
    const d = decoderFor(label, this.site, this.badBytes(label));
    if (!d) throw this.fail(this.error(`encoding "${label}" is not supported (UTF-8 and windows-1251 are)`, 'encoding', ErrorCodes.FORMAT_UNSUPPORTED, 1, 1));
    this.decoder = d;
    return true;
  }

  private feed(s: string): void {
    if (s === '') return;
    if (!this.rootSeen) {
      // refuse a DTD before the parser buffers it (saxes reports a DOCTYPE only once it is complete)
      const scan = this.carry + s;
      const at = scan.indexOf('<!DOCTYPE');
      if (at >= 0) {
        const before = at - this.carry.length;
        if (before > 0) this.write1(s.slice(0, before));
        throw this.fail(this.doctypeError());
      }
      this.carry = scan.slice(-8);
    }
    this.write1(s);
  }

  private write1(s: string): void {
    try {
      this.parser.write(s);
    } catch (e) {
      throw this.fail(this.wrap(e));
    }
    // what the parser holds between events: a text node, a name, an attribute value, a comment...
    const p = this.parser as unknown as { text?: string; name?: string; entity?: string; piTarget?: string; attribList?: unknown[] };
    const max = this.limits.maxTextLength;
    if ((p.text?.length ?? 0) > max || (p.name?.length ?? 0) > max || (p.entity?.length ?? 0) > max || (p.piTarget?.length ?? 0) > max) {
      throw this.fail(this.error(`a text, name or markup piece is longer than ${max} characters`, undefined, ErrorCodes.FORMAT_LIMIT));
    }
    if ((p.attribList?.length ?? 0) > MAX_ATTRIBUTES) throw this.fail(this.error(`an element has more than ${MAX_ATTRIBUTES} attributes`, undefined, ErrorCodes.FORMAT_LIMIT));
  }

  private wrap(e: unknown): unknown {
    if (e instanceof CfxError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    // saxes prefixes "line:column: "
    return this.error(`malformed XML: ${msg.replace(/^\d+:\d+: /, '')}`, undefined, ErrorCodes.FORMAT_INVALID, this.parser.line, this.parser.column + 1);
  }
}

const ROOT = 'КоммерческаяИнформация';
/** the CommerceML versions read: 2.03 (the oldest 1C still writes) to 2.10 */
const VERSION = /^2\.(0[3-9]|10)$/;

/**
 * The root of a CommerceML 2 document, or a FormatError naming what is wrong with it. CommerceML
 * 3 (`urn:1C.ru:commerceml_3`, ВерсияСхемы 3.x) moved and renamed elements: read as 2.x it would
 * give wrong prices or none, quietly, so it is refused. No namespace (site platforms) and no
 * ВерсияСхемы are taken as 2.x.
 */
export function checkRoot(e: XmlElement, reader: SafeXmlReader): void {
  if (!(e.cml && e.local === ROOT)) throw reader.error(`not a CommerceML document: the root element is <${e.local}>, not <${ROOT}>`, ROOT, undefined, e.line, e.column);
  if (e.uri !== '' && e.uri !== CML_NS) {
    throw reader.error(`namespace "${e.uri}" is not CommerceML 2 (${CML_NS}): versions 2.03–2.10 are read`, 'namespace', ErrorCodes.FORMAT_UNSUPPORTED, e.line, e.column);
  }
  const v = e.attrs['ВерсияСхемы']?.trim();
  if (v !== undefined && v !== '' && !VERSION.test(v)) {
    throw reader.error(`ВерсияСхемы="${v}" is not read: CommerceML 2.03–2.10 is`, 'ВерсияСхемы', ErrorCodes.FORMAT_UNSUPPORTED, e.line, e.column);
  }
}

/** Feeds the next chunk of `it` to `reader` (or ends it); false once the input is exhausted. */
export async function pump(it: AsyncIterator<unknown>, reader: SafeXmlReader, signal: AbortSignal | undefined): Promise<boolean> {
  signal?.throwIfAborted();
  const r = await it.next();
  if (r.done) {
    reader.end();
    return false;
  }
  const c = r.value;
  reader.write(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return true;
}
