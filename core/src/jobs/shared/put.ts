// The one way core makes a file appear on the server under its name: temp name + rename, or one
// direct write for a transport whose writes are atomic (capabilities.atomicPut). Every upload
// (sales push, office publish, quarantine retry) goes through here, so the rule is one place.
import type { Readable } from 'node:stream';
import type { CallOptions, Transport } from '../../api/index.js';
import { remotePath } from './names.js';

export interface PutOptions extends CallOptions {
  /** the temp name in `dir` (default `.<name>.part`); unused by an atomic put */
  tempName?: string;
  /** runs once the bytes are under the temp name (a fault point); an atomic put has no such moment */
  afterTemp?: () => void;
  /**
   * Runs before the file can appear under its name: after the temp write, before the rename —
   * or, for an atomic put, before the write. What must exist first (the local copy) waits here.
   */
  beforeVisible?: () => Promise<void> | void;
}

/** Does `t` write atomically (no temp name needed)? */
export function putsAtomically(t: Transport): boolean {
  return t.capabilities?.atomicPut === true;
}

/**
 * Puts `data` at `dir/name` so that no reader ever sees a part of it. `data` is read once: a
 * stream is fine. Resolves once the file is there under its name.
 */
export async function putFile(t: Transport, dir: string, name: string, data: Readable | Uint8Array, opts: PutOptions = {}): Promise<void> {
  const call: CallOptions = opts.signal ? { signal: opts.signal } : {};
  if (opts.more) call.more = true;
  const target = remotePath(dir, name);
  if (putsAtomically(t)) {
    await opts.beforeVisible?.();
    await t.write(target, data, call);
    return;
  }
  const tmp = remotePath(dir, opts.tempName ?? `.${name}.part`);
  if (t.writeThenRename && data instanceof Uint8Array) {
    // the same three steps as below in one transport call (FTP: one lock and deadline, the rename pipelined)
    await t.writeThenRename(tmp, target, data, async () => {
      opts.afterTemp?.();
      await opts.beforeVisible?.();
    }, call);
    return;
  }
  await t.write(tmp, data, call);
  opts.afterTemp?.();
  await opts.beforeVisible?.();
  await t.rename(tmp, target, call);
}
