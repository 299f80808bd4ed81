import type { Readable } from 'node:stream';
import type { FormatError } from './errors.js';
import type { PriceRecord, PriceFileMode, Sale } from './model.js';

export interface DecodeContext {
  /** remote or local file name: some formats take the mode from it (`*.full.csv`) */
  fileName: string;
  /** format options from the config */
  options: Record<string, unknown>;
  signal?: AbortSignal;
  /** limits the core enforces through the format */
  maxLineLength?: number;
  /** when the file was last written, as its server tells it (sales collect): a format that waits for incomplete input (FORMAT_INCOMPLETE) may give up after a while */
  modifiedAt?: Date;
  /**
   * Given by the sales collect: a part of the file the format cannot read (one order document of
   * several) is handed here and the rest is read on; the core quarantines the part on its own.
   * Without it, a bad part fails the whole file as before.
   */
  reject?(part: RejectedPart): void;
}

/** A part of an input a decoder set aside (DecodeContext.reject): quarantined on its own. */
export interface RejectedPart {
  /** names the part within the file (`Документ 2`), for the quarantine copy and messages */
  label: string;
  /** why: file, line, field and message */
  error: FormatError;
  /** the part as read, kept as the quarantine copy */
  content: Uint8Array;
}

export interface PriceDecoding {
  /** full replaces the catalog, delta upserts; known after the header, before any record */
  mode: PriceFileMode;
  /**
   * The records in file order. An iterator that also has {@link RecordBatches.nextBatch} (the
   * decoders built on `@cfx/core/text`'s batch iterator do) is read a batch at a time by the core:
   * no promise per record.
   */
  records: AsyncIterable<PriceRecord>;
  /**
   * What the decoder passed over without turning it into records (an unknown command, a line it
   * cannot use; not comments or blank lines). Filled while `records` is iterated, read by the core
   * after the last record: "no silent success" — the outcome, `cfx status` and the admin page show it.
   */
  skipped?: SkippedInput;
}

/**
 * What a records iterator may offer besides `next()`: the records decoded so far that were not
 * handed out yet, as one array (in order; never empty), or undefined at the end. Mixing it with
 * `next()` keeps the order.
 */
export interface RecordBatches<T> {
  nextBatch(): Promise<readonly T[] | undefined>;
}

/** Input a decoder skipped; see PriceDecoding.skipped. */
export interface SkippedInput {
  count: number;
  /** the first few (at most 10) 1-based line numbers */
  lines: number[];
  /** distinct reasons, each a short phrase ("unknown command $$$FOO"), at most 10 */
  reasons: string[];
}

export interface EncodeContext {
  options: Record<string, unknown>;
  signal?: AbortSignal;
}

/**
 * bytes <-> canonical records. Decoders stream: a 1M-row file never sits in memory. A bad input
 * throws FormatError naming file, line and field; the core then applies nothing of that file.
 */
export interface Format {
  id: string;
  /** file extension used for files this format writes, without dot */
  extension: string;
  /** encodings the decoder accepts ('auto' = detects) */
  encodings?: string[];
  decodePrices?(input: Readable, ctx: DecodeContext): Promise<PriceDecoding>;
  encodePrices?(records: AsyncIterable<PriceRecord> | Iterable<PriceRecord>, mode: PriceFileMode, ctx: EncodeContext): Readable;
  /** one sale -> one file's bytes */
  encodeSale?(sale: Sale, ctx: EncodeContext): Uint8Array;
  decodeSales?(input: Readable, ctx: DecodeContext): AsyncIterable<Sale>;
}

export interface FormatProvider {
  id: string;
  create(options: Record<string, unknown>): Format | Promise<Format>;
}
