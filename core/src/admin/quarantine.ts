import { createReadStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ErrorCodes, TransportError, errorMessage, type Transport } from '../api/index.js';
import type { Service } from '../scheduler/service.js';
import type { QuarantineEntry } from '../store/index.js';
import { isPlainName, isTempName, remotePath } from '../jobs/shared/names.js';
import { putFile } from '../jobs/shared/put.js';
import { forceKey } from '../jobs/prices-pull/price-pull.js';
import { ApiError } from './http-errors.js';

export interface RetryOutcome {
  id: number;
  job: string;
  fileName: string;
  /** uploaded: the local copy went back to the remote dir; moved: the server's rejected/ copy did; respooled: back into the spool dir */
  action: 'uploaded' | 'moved' | 'respooled';
  /** where the file is now, waiting to be taken */
  to: string;
  /** a full price file's guards are lifted for it (retry --force) */
  forced?: boolean;
}

/**
 * Puts a quarantined file back where its job takes files from, so the job processes it again
 * with the same steps and checks as any new file (after the admin fixed the cause: a config
 * limit, an option of the format, the file on the office side):
 *
 * - a price file (prices.pull) or an office sale file (sales.collect): back into the remote dir it
 *   came from, from the local copy (temp name + rename, like every cfx upload) or, when there is
 *   no local copy (a file refused for its size is never downloaded), by moving the server's
 *   `rejected/` copy back;
 * - a spooled sale file (sales.spool): back into the spool dir.
 *
 * The entry is marked `retried`; if the file is still bad, the job quarantines it again as a new entry.
 */
export async function retryQuarantined(svc: Pick<Service, 'app'>, id: number, opts: { force?: boolean } = {}): Promise<RetryOutcome> {
  const { store, config, logger } = svc.app;
  const entry = store.quarantine.list().find((q) => q.id === id);
  if (!entry) throw new ApiError(404, ErrorCodes.USAGE, `no quarantined file with id ${id}`, 'id');
  if (entry.state !== 'quarantined') throw new ApiError(409, ErrorCodes.USAGE, `quarantined file ${id} (${entry.fileName}) was already ${entry.state}`, 'id');
  let outcome: RetryOutcome;
  if (entry.job === 'sales.spool') outcome = respool(entry, config.sales.spool);
  else if (entry.remotePath) outcome = await backToRemote(entry, await svc.app.transport());
  else throw new ApiError(409, ErrorCodes.USAGE, `quarantined file ${id} (${entry.fileName}, job ${entry.job}) has no place to go back to`, 'id');
  // "apply it anyway": a full price file refused by a guard (empty, or removing too much) is let
  // through once, for exactly these bytes; a changed file meets the guards again
  const forced = opts.force === true && entry.job === 'prices.pull' && entry.reason.code === ErrorCodes.FULL_FILE_REFUSED && typeof entry.reason.sha256 === 'string';
  if (forced) store.kv.set(forceKey(entry.reason.sha256 as string), new Date().toISOString());
  store.quarantine.setState(id, 'retried');
  if (forced) outcome.forced = true;
  logger.info({ ...outcome }, 'quarantined file sent back for processing');
  return outcome;
}

function hasLocalCopy(e: QuarantineEntry): boolean {
  return !e.localPath.endsWith('.reason.json') && existsSync(e.localPath);
}

async function exists(t: Transport, dir: string, name: string): Promise<boolean> {
  try {
    return (await t.list(dir)).some((x) => x.name === name);
  } catch (e) {
    if (e instanceof TransportError && e.kind === 'NotFound') return false;
    throw e;
  }
}

async function backToRemote(e: QuarantineEntry, t: Transport): Promise<RetryOutcome> {
  const rejected = e.remotePath!;
  // quarantine moved <dir>/<name> to <dir>/rejected/<name>
  const dir = posix.dirname(posix.dirname(rejected));
  // a name that is not a plain one never leaves quarantine through here: it would leave the dir
  if (posix.basename(posix.dirname(rejected)) !== 'rejected' || isTempName(e.fileName) || !isPlainName(e.fileName)) {
    throw new ApiError(409, ErrorCodes.UNSAFE_NAME, `quarantined file ${e.id}: cannot tell where ${rejected} came from`, 'id');
  }
  const target = remotePath(dir, e.fileName);
  // a newer file of the same name may be waiting: never overwrite it
  if (await exists(t, dir, e.fileName)) {
    throw new ApiError(409, ErrorCodes.TRANSPORT_ALREADY_EXISTS, `${target} is already on the server (a newer file of the same name?); retry once it has been taken`, 'id');
  }
  if (hasLocalCopy(e)) {
    await putFile(t, dir, e.fileName, createReadStream(e.localPath), { tempName: `.${e.fileName}.retry.part` });
    return { id: e.id, job: e.job, fileName: e.fileName, action: 'uploaded', to: target };
  }
  try {
    await t.rename(rejected, target);
  } catch (err) {
    if (err instanceof TransportError && err.kind === 'NotFound') {
      throw new ApiError(409, ErrorCodes.TRANSPORT_NOT_FOUND, `quarantined file ${e.id}: no local copy and ${rejected} is no longer on the server (${errorMessage(err)})`, 'id');
    }
    throw err;
  }
  return { id: e.id, job: e.job, fileName: e.fileName, action: 'moved', to: target };
}

function respool(e: QuarantineEntry, spool: string | undefined): RetryOutcome {
  if (!spool) throw new ApiError(409, ErrorCodes.USAGE, `quarantined file ${e.id} came from the spool dir, but sales.spool is not configured any more`, 'id');
  if (!hasLocalCopy(e)) throw new ApiError(409, ErrorCodes.USAGE, `quarantined file ${e.id}: the local copy ${e.localPath} is gone`, 'id');
  const target = join(spool, e.fileName);
  if (existsSync(target)) throw new ApiError(409, ErrorCodes.USAGE, `${target} already exists; retry once it has been taken`, 'id');
  mkdirSync(spool, { recursive: true });
  renameSync(e.localPath, target);
  return { id: e.id, job: e.job, fileName: e.fileName, action: 'respooled', to: target };
}
