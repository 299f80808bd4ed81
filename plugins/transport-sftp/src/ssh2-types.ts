// The small part of ssh2-sftp-client and ssh2 this plugin uses, typed here (neither ships types and
// DefinitelyTyped's lag behind ssh2-sftp-client 12). Loaded with require: both are CommonJS.
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

export interface SftpStats {
  mode: number;
  size: number;
  /** seconds since the epoch */
  mtime: number;
  atime: number;
  uid?: number;
  gid?: number;
}

export interface SftpDirEntry {
  filename: string;
  longname: string;
  attrs: SftpStats;
}

/** An ssh2 status error: `code` is the SFTP status number (2 no such file, 3 permission denied, 4 failure, ...). */
export interface SftpStatusError extends Error {
  code: number;
}

type Cb = (err: Error | undefined | null) => void;

/** ssh2's SFTP channel (what ssh2-sftp-client calls `client.sftp`). */
export interface SftpChannel extends EventEmitter {
  open(path: string, flags: string, cb: (err: Error | undefined | null, handle: Buffer) => void): void;
  close(handle: Buffer, cb: Cb): void;
  read(handle: Buffer, buf: Buffer, off: number, len: number, position: number, cb: (err: Error | undefined | null, bytesRead: number, data: Buffer, position: number) => void): void;
  write(handle: Buffer, buf: Buffer, off: number, len: number, position: number, cb: Cb): void;
  readdir(path: string, cb: (err: Error | undefined | null, list: SftpDirEntry[]) => void): void;
  stat(path: string, cb: (err: Error | undefined | null, stats: SftpStats) => void): void;
  unlink(path: string, cb: Cb): void;
  rename(from: string, to: string, cb: Cb): void;
  ext_openssh_rename(from: string, to: string, cb: Cb): void;
  mkdir(path: string, cb: Cb): void;
  fastGet(remote: string, local: string, opts: { chunkSize?: number; concurrency?: number; step?: (total: number, chunk: number, size: number) => void }, cb: Cb): void;
  /** extensions the server announced (name → version) */
  _extensions: Record<string, string>;
  /** set from the server's limits@openssh.com reply */
  _maxReadLen: number;
  _maxWriteLen: number;
  outgoing: { state: string; id: number };
  /** how many more bytes the server may send on this channel (ssh2 decrements it as data arrives) */
  incoming: { window: number };
  _client: { _protocol: { channelWindowAdjust(channelId: number, bytes: number): void } };
  /** requests waiting for their reply, by id; a READ without `buffer` gets its reply as a slice of the packet */
  _requests: Record<number, { buffer?: Buffer | undefined; cb?: (err?: (Error & { code?: number }) | null, data?: Buffer) => void } | undefined>;
  /** id of the request sent last */
  _writeReqid: number;
}

/** ssh2's Client. */
export interface Ssh2Client extends EventEmitter {
  end(): this;
  destroy(): this;
  /** TCP_NODELAY on the connection's socket (ssh2 Client#setNoDelay) */
  setNoDelay(noDelay?: boolean): this;
  _sock?: { localPort?: number; remoteAddress?: string };
}

export interface ConnectConfig {
  host: string;
  port: number;
  username: string;
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  tryKeyboard?: boolean;
  readyTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
  hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => void;
  algorithms?: { serverHostKey?: string[] };
  debug?: (msg: string) => void;
}

/** ssh2-sftp-client's default export. */
export interface SftpClient {
  client: Ssh2Client;
  sftp: SftpChannel | undefined;
  connect(cfg: ConnectConfig): Promise<SftpChannel>;
  end(): Promise<boolean>;
}

export type SftpClientCtor = new (name: string, callbacks: { error: (e: Error) => void; end: () => void; close: () => void }) => SftpClient;

export interface Ssh2Module {
  utils: { parseKey(data: Buffer | string, passphrase?: string): unknown };
}

const require = createRequire(import.meta.url);
export const SftpClientClass = require('ssh2-sftp-client') as SftpClientCtor;
// the ssh2 that ssh2-sftp-client itself uses (not a second copy, and not an undeclared hoisting accident)
export const ssh2 = createRequire(require.resolve('ssh2-sftp-client'))('ssh2') as Ssh2Module;

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02), plus the later ones some servers send. */
export const STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
  NO_SUCH_PATH: 10,
  FILE_ALREADY_EXISTS: 11,
  WRITE_PROTECT: 12,
} as const;
