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
  /**
   * While every dir's watch is live (the transport said so: WatchOptions.onLive), the loop polls
   * only this often (prices.watchPoll); back to its own interval the moment one is not. Absent: the
   * loop keeps its interval.
   */
  relaxMs?: number;
}

/**
 * Wakes `loop` at once when a file appears in one of `dirs`, on a transport that can watch
 * (Transport.watch); the loop's polling stays as it is, the fallback for a missed event and the
 * only way on FTP/SFTP. While the watches are live (`relaxMs`) the loop polls less often: 1,000
 * terminals listing every second are most of a server's steady load, and the poll is only the
 * fallback then. A watch that fails is said once (per job, until it works again), the loop is back
 * at its own interval at once, and the watch is tried again later. Resolves when `signal` aborts.
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
  // the dirs whose watch is live now: the loop is relaxed only while all of them are
  const live = new Set<string>();
  const setLive = (dir: string, on: boolean): void => {
    if (on === live.has(dir)) return;
    if (on) live.add(dir);
    else live.delete(dir);
    const all = live.size === w.dirs.length;
    if (w.relaxMs !== undefined) w.loop.relax(all ? w.relaxMs : undefined);
    // what was put between the last listing and this watch going live is looked for now, not a
    // relaxed interval later
    if (on) w.loop.nudge();
  };
  const one = async (dir: string): Promise<void> => {
    while (!w.signal.aborted) {
      try {
        for await (const c of t.watch!(dir, { signal: w.signal, onLive: (on) => setLive(dir, on) })) {
          if (saidFailing) {
            saidFailing = false;
            w.logger.info({ job: w.job, dir }, 'watching for changes again');
          }
          if (c.kind === 'put') w.loop.nudge();
        }
        setLive(dir, false);
      } catch (e) {
        setLive(dir, false);
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
