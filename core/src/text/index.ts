// @cfx/core/text: what every text format needs and must get exactly right — encodings (UTF-8,
// BOM, Windows-1251 as 1C writes it) decoded by chunks without splitting characters and failing
// on bytes they have no character for, exact decimal text <-> integer minor units / thousandths,
// and the count of input a decoder passed over. Shared by format-csv, the atol format and format-xml.
export { ByteDecoder, decodeText, encodeText, type TextEncoding, type TextSite } from './text.js';
export { parseFixed, formatFixed, type DecimalMode } from './fixed.js';
export { batchIterator } from './batch-iterator.js';
export { SkipCounter } from './skip.js';
export { scrub } from './scrub.js';
