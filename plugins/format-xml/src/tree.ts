// One item (a Товар, a Предложение, a Документ) at a time as a small tree: items are small, the
// file is not. Elements outside CommerceML's namespace are left out with their content.
import { ErrorCodes } from '@cfx/core/api';
import type { SafeXmlReader, XmlElement } from './xml-reader.js';

export interface XNode {
  name: string;
  attrs: Record<string, string>;
  kids: XNode[];
  /** the element's own character data, untrimmed */
  text: string;
  line: number;
  column: number;
}

/** more elements than this in one item is not a product or a document */
const MAX_NODES = 100_000;

export class Collector {
  private stack: XNode[] = [];
  /** depth inside a left-out (foreign) element */
  private skip = 0;
  private nodes = 0;
  private textLen = 0;

  constructor(private readonly reader: SafeXmlReader, private readonly maxText: number) {}

  get active(): boolean {
    return this.stack.length > 0;
  }

  start(el: XmlElement): void {
    this.nodes = 0;
    this.textLen = 0;
    this.stack.push(node(el));
  }

  open(el: XmlElement): void {
    if (this.skip > 0 || !el.cml) {
      this.skip++;
      return;
    }
    if (++this.nodes > MAX_NODES) throw this.reader.error(`an item has more than ${MAX_NODES} elements`, undefined, ErrorCodes.FORMAT_LIMIT);
    const n = node(el);
    this.stack[this.stack.length - 1]!.kids.push(n);
    this.stack.push(n);
  }

  text(t: string): void {
    if (this.skip > 0) return;
    this.textLen += t.length;
    if (this.textLen > this.maxText) throw this.reader.error(`an item holds more than ${this.maxText} characters of text`, undefined, ErrorCodes.FORMAT_LIMIT);
    this.stack[this.stack.length - 1]!.text += t;
  }

  /** the finished item when its own element closes */
  close(): XNode | undefined {
    if (this.skip > 0) {
      this.skip--;
      return undefined;
    }
    const n = this.stack.pop()!;
    return this.stack.length === 0 ? n : undefined;
  }
}

function node(el: XmlElement): XNode {
  return { name: el.local, attrs: el.attrs, kids: [], text: '', line: el.line, column: el.column };
}

export function kid(n: XNode | undefined, name: string): XNode | undefined {
  if (!n) return undefined;
  for (const k of n.kids) if (k.name === name) return k;
  return undefined;
}

export function kids(n: XNode | undefined, name: string): XNode[] {
  return n ? n.kids.filter((k) => k.name === name) : [];
}

/** trimmed text of a child; undefined when absent or empty */
export function textOf(n: XNode | undefined, name?: string): string | undefined {
  const k = name === undefined ? n : kid(n, name);
  if (!k) return undefined;
  const t = k.text.trim();
  return t === '' ? undefined : t;
}

/** CommerceML's ПереключательТип: true/false (1C also writes 1/0, site platforms "да") */
export function bool(s: string | undefined): boolean {
  if (s === undefined) return false;
  const v = s.trim().toLowerCase();
  return v === 'true' || v === '1' || v === 'да' || v === 'yes';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** the item as XML again (what was read of it: CommerceML elements, attributes, text), e.g. to keep a bad one aside */
export function nodeXml(n: XNode): string {
  const attrs = Object.entries(n.attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
  const inner = esc(n.text.trim() === '' ? '' : n.text) + n.kids.map(nodeXml).join('');
  return inner === '' ? `<${n.name}${attrs}/>` : `<${n.name}${attrs}>${inner}</${n.name}>`;
}
