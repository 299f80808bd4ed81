import { errorMessage, type Logger, type Transport } from '../api/index.js';
import type { JobLoop } from './loop.js';

/** after a failed watch, the next try (polling carries on meanwhile) */
const RETRY_MS = 30_000;

export interface WatchWake {
  job: string;
  transport: () => Promise<Transport>;
  dirs: string[];
  loop: JobLoop;
  logger: Logger;
  signal: AbortSignal;
}

/**
 * Wakes `loop` at once when a file appears in one of `dirs`, on a transport that can watch
 * (Transport.watch); the loop's polling stays as it is, the fallback for a missed event and the
 * only way on FTP/SFTP. A watch that fails is said once (per job, until it works again) and tried
 * again later. Resolves when `signal` aborts.
 */
export async function wakeOnChanges(w: WatchWake): Promise<void> {
  let t: Transport;
  try {
    t = await w.transport();
  } catch {
    return; // the job's own runs report a transport that cannot be made
  }
  if (!t.watch) return;
  let saidFailing = false;
  const one = async (dir: string): Promise<void> => {
    while (!w.signal.aborted) {
      try {
        for await (const c of t.watch!(dir, { signal: w.signal })) {
          if (saidFailing) {
            saidFailing = false;
            w.logger.info({ job: w.job, dir }, 'watching for changes again');
          }
          if (c.kind === 'put') w.loop.nudge();
        }
      } catch (e) {
        if (w.signal.aborted) return;
        if (!saidFailing) {
          saidFailing = true;
          w.logger.warn({ job: w.job, dir, err: errorMessage(e) }, 'the watch for changes failed: polling only, until it works again');
        }
      }
      if (w.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        w.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  };
  w.logger.debug({ job: w.job, dirs: w.dirs }, 'watching for changes (polling stays the fallback)');
  await Promise.all(w.dirs.map(one));
}
