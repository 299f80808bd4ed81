import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CfxError, ErrorCodes, FormatError, TransportError, errorMessage, isCfxError, type Logger, type Transport } from '../../api/index.js';
import type { Store } from '../../store/index.js';
import { dataPaths } from '../../app/paths.js';
import { remotePath, safeLocalName } from './names.js';

/*
 * The steps every inbound file goes through, shared by the price pull (terminal) and the sales
 * collect (office): download to staging with fsync + sha256, archive, remote delete, and the
 * quarantine of a bad file (local copy + reason, remote moved to `rejected/`). Each is safe to repeat.
 */

export interface StageOptions {
  signal?: AbortSignal | undefined;
  onBytes?: ((bytes: number) => void) | undefined;
  /**
   * The most bytes taken, whatever a listing said: past it the read is aborted (the source stream
   * destroyed, which ends the transfer), the partial copy removed, and a CFX_E_FILE_TOO_LARGE
   * thrown (details: `limit`, and `prefixSha256` of the bytes up to the limit). A server that
   * lists 10 bytes and sends 40 MiB cannot fill the disk.
   */
  maxBytes?: number | undefined;
  /**
   * Also hands every chunk to this stream as it arrives (a decoder parsing while the file downloads),
   * at its pace (backpressure); ended after the last chunk, destroyed with the error if the read
   * fails. Once it is destroyed (the decoder is done or gave up), the copy goes on without it.
   */
  tee?: Writable | undefined;
}

/** Streams `input` to `file`, hashing on the way; fsyncs before returning (what follows trusts this copy). */
export async function stageStream(input: Readable, file: string, opts: StageOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const { signal, onBytes, maxBytes, tee } = opts;
  const hash = createHash('sha256');
  let bytes = 0;
  let over = false;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (maxBytes !== undefined && bytes + chunk.length > maxBytes) {
        // the chunk that crosses the limit is not written: nothing past the limit reaches the disk
        hash.update(chunk.subarray(0, maxBytes - bytes));
        over = true;
        return cb(new Error('over the limit'));
      }
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
      if (tee && !tee.destroyed && !tee.writableEnded && !tee.write(chunk)) {
        const go = () => {
          tee.off('drain', go);
          tee.off('close', go);
          cb(null, chunk);
        };
        tee.on('drain', go);
        tee.on('close', go);
        return;
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (tee && !tee.destroyed) tee.end();
      cb();
    },
  });
  const out = createWriteStream(file);
  try {
    await pipeline(input, tap, out, signal ? { signal } : {});
  } catch (e) {
    tee?.destroy(e as Error);
    // the file may still be opening when the pipeline gives up: removed before that, it would come back
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    if (!over) throw e;
    rmSync(file, { force: true });
    throw new CfxError(ErrorCodes.FILE_TOO_LARGE, `more than ${maxBytes} bytes: stopped reading at the limit`, { details: { limit: maxBytes, prefixSha256: hash.digest('hex') } });
  }
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Downloads a remote file to `staged` (the apply and the remote delete trust this copy); see StageOptions.maxBytes. */
export function downloadToStaging(transport: Transport, remote: string, staged: string, opts: StageOptions = {}): Promise<{ sha256: string; bytes: number }> {
  return stageStream(transport.read(remote, opts.signal ? { signal: opts.signal } : {}), staged, opts);
}

/** a CFX_E_FILE_TOO_LARGE of stageStream (the read was stopped at its limit) */
export function isOverLimit(e: unknown): e is CfxError {
  return isCfxError(e) && e.code === ErrorCodes.FILE_TOO_LARGE && typeof (e as CfxError).details.limit === 'number';
}

/**
 * The quarantine reason of a file over its limit (`key`, e.g. prices.maxFileSize): refused by its
 * listed size before any byte is read, or (`stopped`) sent past the limit although listed below it.
 */
export function overLimitReason(file: string, limit: number, key: string, o: { listed: number; stopped?: boolean }): Record<string, unknown> {
  const message = o.stopped
    ? `larger than its listing (${o.listed} bytes) / over the limit: the server sent more than ${limit} bytes (${key}); stopped reading there, nothing past it kept`
    : `file is ${o.listed} bytes, the limit (${key}) is ${limit}`;
  return { file, code: ErrorCodes.FILE_TOO_LARGE, message, limit, listed: o.listed };
}

/** Moves the staged file into `dir` (created); the same name twice keeps both copies. */
export function archiveFile(staged: string, dir: string, local: string): string {
  mkdirSync(dir, { recursive: true });
  const target = join(dir, local);
  const dest = existsSync(target) ? join(dir, `${Date.now()}_${local}`) : target;
  renameSync(staged, dest);
  return dest;
}

/** Deletes a remote file; already gone (a repeat after a crash) is fine. */
export async function deleteRemote(transport: Transport, remote: string, signal?: AbortSignal): Promise<void> {
  try {
    await transport.delete(remote, { signal });
  } catch (e) {
    if (e instanceof TransportError && e.kind === 'NotFound') return;
    throw e;
  }
}

/** The quarantine reason of a format problem (file, line, field, code, message), or undefined when `e` is something else. */
export function formatProblem(e: unknown, file: string, sha256?: string): Record<string, unknown> | undefined {
  if (!(e instanceof FormatError || (isCfxError(e) && (e.code === ErrorCodes.FORMAT_INVALID || e.code === ErrorCodes.FORMAT_LIMIT || e.code === ErrorCodes.FULL_FILE_REFUSED)))) return undefined;
  const fe = e as FormatError;
  return {
    file,
    line: fe.location?.line ?? fe.details.line,
    field: fe.location?.field ?? fe.details.field,
    code: fe.code,
    message: (fe.details.reason as string) ?? fe.message,
    ...(sha256 !== undefined ? { sha256 } : {}),
  };
}

export interface QuarantineDeps {
  dataDir: string;
  store: Store;
  transport: Transport;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

/**
 * Keeps the bad file locally with its reason (`<stamp>_<name>` + `.reason.json`), moves the remote
 * one to `rejected/` beside it, and records it in the store. The local steps come first: if the
 * remote move fails it is retried when the file is seen again, and the error is thrown.
 */
export async function quarantineFile(
  deps: QuarantineDeps,
  what: { job: string; label: string; name: string; remote: string; staged: string | undefined; reason: Record<string, unknown> },
): Promise<{ quarantined: string; rejected: string }> {
  const { dataDir, store, transport, logger, signal } = deps;
  const { job, label, name, remote, staged, reason } = what;
  const qdir = dataPaths(dataDir).quarantine;
  mkdirSync(qdir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const qfile = join(qdir, `${stamp}_${safeLocalName(name)}`);
  if (staged) renameSync(staged, qfile);
  writeFileSync(`${qfile}.reason.json`, JSON.stringify({ ...reason, remote, quarantinedAt: new Date().toISOString() }, null, 2) + '\n');
  const rejectedDir = posix.join(posix.dirname(remote), 'rejected');
  const rejected = remotePath(rejectedDir, name);
  try {
    await transport.mkdir(rejectedDir, { signal });
    await transport.rename(remote, rejected, { signal });
  } catch (e) {
    logger.warn({ file: name, err: errorMessage(e) }, 'could not move the rejected file aside on the server');
    throw e;
  }
  store.quarantine.add({ job, fileName: name, localPath: staged ? qfile : `${qfile}.reason.json`, remotePath: rejected, reason });
  logger.warn({ file: name, ...reason }, `${label} quarantined`);
  return { quarantined: qfile, rejected };
}
