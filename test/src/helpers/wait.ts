import { setTimeout as sleep } from 'node:timers/promises';

/** polls `fn` every 100 ms until it gives a value (not undefined); an error naming `what` after `ms` */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
