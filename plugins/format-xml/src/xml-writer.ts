import { FormatError } from '@cfx/core/api';

// characters XML 1.0 cannot carry at all, and lone surrogates (not encodable as UTF-8)
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** text content, exactly: a CR is written as a reference, or the parser would turn it into LF */
export function escText(s: string, field: string): string {
  if (NOT_XML.test(s)) throw new FormatError(`${field} holds a character XML cannot carry (a control character or a lone surrogate)`, { field });
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** an attribute value in double quotes; whitespace characters as references so they survive normalisation */
export function escAttr(s: string, field: string): string {
  if (NOT_XML.test(s)) throw new FormatError(`${field} holds a character XML cannot carry (a control character or a lone surrogate)`, { field });
  return s.replace(/[&<"\r\n\t]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '"': '&quot;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;' })[c]!);
}

/** `<name>text</name>` */
export const el = (name: string, text: string, field = name): string => `<${name}>${escText(text, field)}</${name}>`;
