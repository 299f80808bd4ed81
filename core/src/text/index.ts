// @cfx/core/text: what every text format needs and must get exactly right — encodings (UTF-8,
// BOM, Windows-1251 as 1C writes it) decoded by chunks without splitting characters, and exact
// decimal text <-> integer minor units / thousandths. Shared by format-csv and the atol format.
export { ByteDecoder, decodeText, encodeText, type TextEncoding } from './text.js';
export { parseFixed, formatFixed, type DecimalMode } from './fixed.js';
export { batchIterator } from './batch-iterator.js';
export { scrub } from './scrub.js';
