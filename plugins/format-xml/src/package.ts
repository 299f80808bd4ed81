// What the office needs to take a 1C CommerceML export apart before it is one price file: the
// head of each document (which package it belongs to), a package joined by offer Ид, and a check
// whether a document alone is broken XML (so the broken file itself can be quarantined).
import type { Readable } from 'node:stream';
import { FormatError, type PriceDecoding } from '@cfx/core/api';
import { resolveOptions, type XmlFormatOptions } from './options.js';
import { decodePriceParts, limitsFor, type PricePart } from './prices.js';
import { checkRoot, pump, SafeXmlReader } from './xml-reader.js';

export type { PricePart } from './prices.js';

/**
 * Joins the documents of one package by offer Ид (see prices.ts, decodePriceParts): pass the
 * catalogs first, then the offers, the rests and the prices. The records go out once every part
 * has been read; an input whose offers give no record is a FormatError, never "0 records".
 */
export function joinCommerceML(parts: PricePart[], options: XmlFormatOptions = {}, ctx: { fileName?: string; signal?: AbortSignal } = {}): Promise<PriceDecoding> {
  const o = resolveOptions(options);
  return decodePriceParts(parts, { fileName: ctx.fileName ?? parts.map((p) => p.fileName).join('+'), options: {}, ...(ctx.signal ? { signal: ctx.signal } : {}) }, o);
}

/** The start of a CommerceML document: enough to tell which export and which part it is. */
export interface CommerceMLHead {
  /** ВерсияСхемы as written */
  version: string | undefined;
  /** ДатаФормирования as written */
  formedAt: string | undefined;
  /** the root's sections in order (Классификатор, Каталог, ПакетПредложений, ...) */
  sections: string[];
  /** Ид of the Классификатор / Каталог, or ИдКлассификатора / ИдКаталога of an offers package: the same for every part of one catalog's export */
  classifierId: string | undefined;
  catalogId: string | undefined;
}

const SECTION_IDS: Record<string, 'classifierId' | 'catalogId'> = { Ид: 'catalogId', ИдКаталога: 'catalogId', ИдКлассификатора: 'classifierId' };

/** Reads a document up to its first product or offer (the ids come before them): no more than that. */
export async function readCommerceMLHead(input: Readable, fileName: string, options: XmlFormatOptions = {}): Promise<CommerceMLHead> {
  const o = resolveOptions(options);
  const head: CommerceMLHead = { version: undefined, formedAt: undefined, sections: [], classifierId: undefined, catalogId: undefined };
  let section = '';
  let field: string | undefined;
  let text = '';
  let done = false;
  const reader: SafeXmlReader = new SafeXmlReader(fileName, limitsFor(o, { fileName, options: {} }), {
    open: (e, depth) => {
      if (done) return;
      if (depth === 1) {
        checkRoot(e, reader);
        head.version = e.attrs['ВерсияСхемы'];
        head.formedAt = e.attrs['ДатаФормирования'];
      } else if (depth === 2) {
        section = e.cml ? e.local : '';
        if (section) head.sections.push(section);
      } else if (depth === 3 && e.cml && e.local in SECTION_IDS && !(e.local === 'Ид' && section !== 'Классификатор' && section !== 'Каталог')) {
        // an offers package's own Ид is not its catalog's
        field = e.local;
        text = '';
      } else if (e.local === 'Товар' || e.local === 'Предложение') done = true;
    },
    close: (depth) => {
      if (depth === 3 && field !== undefined) {
        const id = text.trim();
        const key = section === 'Классификатор' && field === 'Ид' ? 'classifierId' : SECTION_IDS[field]!;
        if (id && head[key] === undefined) head[key] = id;
        field = undefined;
      }
    },
    text: (t) => {
      if (field !== undefined) text += t;
    },
  });
  const it = input[Symbol.asyncIterator]();
  let more = true;
  try {
    while (more && !done) more = await pump(it, reader, undefined);
  } finally {
    if (more) {
      input.destroy();
      await it.return?.();
    }
  }
  return head;
}

/** The document's own XML problem (malformed, bad bytes, DOCTYPE, not CommerceML 2), or undefined. */
export async function checkCommerceMLSyntax(input: Readable, fileName: string, options: XmlFormatOptions = {}): Promise<FormatError | undefined> {
  const o = resolveOptions(options);
  const reader: SafeXmlReader = new SafeXmlReader(fileName, limitsFor(o, { fileName, options: {} }), {
    open: (e, depth) => {
      if (depth === 1) checkRoot(e, reader);
    },
    close: () => undefined,
    text: () => undefined,
  });
  const it = input[Symbol.asyncIterator]();
  let more = true;
  try {
    while (more) more = await pump(it, reader, undefined);
    return undefined;
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  } finally {
    if (more) {
      input.destroy();
      await it.return?.();
    }
  }
}
