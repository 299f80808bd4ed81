// import.xml + offers.xml -> one CommerceML document, streamed: the way the office hands a 1C
// CommerceML export to the terminals as one price file (README.md, "Joining import.xml and
// offers.xml"). Each part is read with the same safe reader as the decoder (no DTDs, limits, its
// own encoding); the output is UTF-8, in CommerceML's namespace, with the sections of every part
// under one root in the order given — pass the catalog (import.xml) first.
import { Readable } from 'node:stream';
import { ErrorCodes, FormatError } from '@cfx/core/api';
import { resolveOptions, type XmlFormatOptions } from './options.js';
import { checkRoot, CML_NS, pump, SafeXmlReader } from './xml-reader.js';
import { escAttr, escText } from './xml-writer.js';

const ROOT = 'КоммерческаяИнформация';
const FLUSH = 64 * 1024;

export interface CombinePart {
  /** shown in errors */
  fileName: string;
  input: Readable;
}

/**
 * One document with the root children of every part, in order. Root attributes come from the first
 * part (ВерсияСхемы, ДатаФормирования). Comments, processing instructions and elements in other
 * namespaces are left out; names are written without prefixes.
 */
export function combineCommerceML(parts: CombinePart[], options: XmlFormatOptions = {}, signal?: AbortSignal): Readable {
  const o = resolveOptions(options);
  async function* gen(): AsyncGenerator<Buffer> {
    let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
    let rootWritten = false;
    for (const part of parts) {
      /** depth inside a left-out element */
      let skip = 0;
      let open = false; // a start tag written, not yet closed with '>'
      const names: string[] = [];
      const reader: SafeXmlReader = new SafeXmlReader(part.fileName, { encoding: o.encoding, maxBytes: o.maxBytes, maxDepth: o.maxDepth, maxTextLength: o.maxTextLength }, {
        open: (e, depth) => {
          if (depth === 1) {
            checkRoot(e, reader);
            if (!rootWritten) {
              rootWritten = true;
              out += `<${ROOT} xmlns="${CML_NS}"${Object.entries(e.attrs).map(([k, v]) => ` ${k}="${escAttr(v, k)}"`).join('')}>`;
            }
            return;
          }
          if (skip > 0 || !e.cml) {
            skip++;
            return;
          }
          if (open) out += '>';
          out += `<${e.local}${Object.entries(e.attrs).map(([k, v]) => ` ${k}="${escAttr(v, k)}"`).join('')}`;
          open = true;
          names.push(e.local);
        },
        close: (depth) => {
          if (depth === 1) return;
          if (skip > 0) {
            skip--;
            return;
          }
          const name = names.pop()!;
          if (open) out += '/>';
          else out += `</${name}>`;
          open = false;
        },
        text: (t) => {
          if (skip > 0 || names.length === 0 && t.trim() === '') return;
          if (open) {
            out += '>';
            open = false;
          }
          out += escText(t, 'text');
        },
      });
      const it = part.input[Symbol.asyncIterator]();
      let more = true;
      try {
        while (more) {
          more = await pump(it, reader, signal);
          if (out.length >= FLUSH) {
            yield Buffer.from(out, 'utf8');
            out = '';
          }
        }
      } finally {
        if (more) {
          part.input.destroy();
          await it.return?.();
        }
      }
      out += '\n';
    }
    if (!rootWritten) throw new FormatError('no CommerceML document to combine', { field: ROOT }, { code: ErrorCodes.FORMAT_INVALID });
    out += `</${ROOT}>\n`;
    yield Buffer.from(out, 'utf8');
  }
  return Readable.from(gen(), { objectMode: false });
}
