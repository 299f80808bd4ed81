// The text decoding lives in core (@cfx/core/text), shared with the atol format.
export { ByteDecoder, decodeText, encodeText, type TextEncoding as CsvEncoding } from '@cfx/core/text';
