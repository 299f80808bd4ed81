// The text decoding lives in core (@cfx/core/text), shared with the csv format.
export { ByteDecoder, decodeText, encodeText, type TextEncoding } from '@cfx/core/text';
