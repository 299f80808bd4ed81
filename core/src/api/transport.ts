import type { Readable } from 'node:stream';
import type { Logger } from './logger.js';

export interface RemoteEntry {
  /** base name, decoded to a JS string (the transport handles wire encodings) */
  name: string;
  size: number;
  /** modification time when the server tells it; FTP LIST may lack seconds */
  mtime?: Date;
  type: 'file' | 'dir' | 'other';
}

export interface CallOptions {
  /** Abort the call; the transport rejects with TransportError('Aborted') and leaves no half-open state behind. */
  signal?: AbortSignal;
}

/**
 * Bytes in and out of remote directories. Paths are POSIX, absolute from the server root
 * (`/ftpbox/box-1/prices.csv`). A transport reports failures only as TransportError with one of
 * the closed kinds. It never does temp-name + rename on its own: the core does that, so every
 * transport gets the same reliability rules.
 */
export interface Transport {
  /** Entries of a directory; a missing directory is NotFound. */
  list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]>;
  /** Streams a file's bytes. Errors (NotFound included) surface on the stream. */
  read(path: string, opts?: CallOptions): Readable;
  /** Writes (creates or truncates) a file; resolves with the byte count once the server has it all. */
  write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number>;
  /** Renames, replacing an existing target (FTP RNFR/RNTO, SFTP posix-rename). */
  rename(from: string, to: string, opts?: CallOptions): Promise<void>;
  /** Deletes a file; a missing file is NotFound. */
  delete(path: string, opts?: CallOptions): Promise<void>;
  /** Creates a directory and its parents; an existing one is fine. */
  mkdir(path: string, opts?: CallOptions): Promise<void>;
  /** Closes connections; the transport may be used again afterwards (it reconnects). */
  close(): Promise<void>;
}

export interface TransportCreateContext {
  /** the server URL from the config, e.g. ftp://user:pass@host:21 */
  url: URL;
  /** `serverOptions`, validated by the contribution's schema */
  options: Record<string, unknown>;
  logger: Logger;
  /** per-call deadline the transport should honour for each network step */
  timeoutMs: number;
}

export interface TransportProvider {
  /** URL schemes without the colon, e.g. ['ftp', 'ftps'] */
  schemes: string[];
  create(ctx: TransportCreateContext): Transport | Promise<Transport>;
}
