import { Readable, PassThrough, pipeline } from 'node:stream';
import { CfxError, ErrorCodes, PluginError, errorMessage, isCfxError, type RecordBatches } from '../api/index.js';

/**
 * Errors from plugin code keep their stable code when they already have one (a TransportError
 * must stay a TransportError: jobs retry on its kind) and gain the plugin id; anything else
 * becomes a PluginError naming plugin and hook.
 */
export function normalizePluginError(e: unknown, pluginId: string, hook: string): Error {
  if (isCfxError(e)) {
    const err = e as CfxError;
    if (err.details && err.details.pluginId === undefined) {
      try {
        (err.details as Record<string, unknown>).pluginId = pluginId;
        (err.details as Record<string, unknown>).hook = hook;
      } catch {
        /* frozen details: leave as is */
      }
    }
    return err;
  }
  return new PluginError(ErrorCodes.PLUGIN_CALL, pluginId, hook, errorMessage(e), { cause: e });
}

/**
 * Runs one call into plugin code with a deadline and an AbortSignal the plugin can honour.
 * On the deadline the signal aborts and the call rejects at once, whether or not the plugin
 * listens: a hung plugin cannot hang a job.
 */
export async function guardCall<T>(pluginId: string, hook: string, timeoutMs: number | undefined, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => T | Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer?.reason);
  if (outer) {
    if (outer.aborted) ac.abort(outer.reason);
    else outer.addEventListener('abort', onOuter, { once: true });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = Promise.resolve().then(() => fn(ac.signal));
    if (!timeoutMs) return await work;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new PluginError(ErrorCodes.PLUGIN_TIMEOUT, pluginId, hook, `no answer within ${timeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, timeoutMs);
    });
    work.catch(() => undefined); // a late rejection after the deadline is not unhandled
    return await Promise.race([work, deadline]);
  } catch (e) {
    throw normalizePluginError(e, pluginId, hook);
  } finally {
    if (timer) clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

interface InFlight {
  /** performance.now() when it is due */
  due: number;
  expire(): void;
}

/**
 * guardCall for the many calls of one long-lived plugin object (a transport: several calls per
 * file sent), same contract, cheaper: ONE timer for all of its calls instead of a timer, a
 * deadline promise and a Promise.race per call. Every call has the same deadline, so deadlines
 * fall due in the order the calls started: the calls in flight are an insertion-ordered set and
 * the timer only ever looks at its head.
 *
 * A call without a deadline and without a caller's signal gets no AbortSignal of its own (one that
 * can never abort tells the plugin nothing); every other call gets its own, as with guardCall.
 *
 * `builtIn` (one of core's own packages, BUILTIN_PLUGINS): a call WITHOUT a deadline (a write, a
 * sale's one-call upload) gets the caller's signal as is: a signal of its own could only repeat the
 * caller's, and its AbortController, two listeners and options copy cost ~10 µs per call (~20 ms
 * per 1,000 sales). A built-in's call WITH a deadline still gets its own, aborted when the deadline
 * passes, as any plugin's: the plugin must hear that its work is no longer wanted.
 */
export class CallGuard {
  private readonly inFlight = new Set<InFlight>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pluginId: string,
    /** deadline of each call (ms); undefined or 0: none */
    private readonly timeoutMs: number | undefined,
    /** sees every error a call rejects with (already normalized) */
    private readonly onError?: (err: Error) => void,
    private readonly builtIn = false,
  ) {}

  /** `timed: false`: no deadline for this call (a stream of unknown length; the plugin keeps an inactivity deadline) */
  call<T>(hook: string, outer: AbortSignal | undefined, fn: (signal: AbortSignal | undefined) => T | Promise<T>, timed = true): Promise<T> {
    const timeoutMs = timed ? this.timeoutMs : undefined;
    const fail = (e: unknown): Error => {
      const err = normalizePluginError(e, this.pluginId, hook);
      this.onError?.(err);
      return err;
    };
    if (!timeoutMs && (!outer || this.builtIn)) {
      try {
        return Promise.resolve(fn(outer)).catch((e: unknown) => {
          throw fail(e);
        });
      } catch (e) {
        return Promise.reject(fail(e));
      }
    }
    const ac = new AbortController();
    let onOuter: (() => void) | undefined;
    if (outer) {
      if (outer.aborted) ac.abort(outer.reason);
      else outer.addEventListener('abort', (onOuter = () => ac.abort(outer.reason)), { once: true });
    }
    return this.settle(
      hook,
      timeoutMs,
      fail,
      () => fn(ac.signal),
      (err) => ac.abort(err),
      onOuter && (() => outer!.removeEventListener('abort', onOuter!)),
    );
  }

  /**
   * The call's promise: the plugin's answer, or its deadline's PluginError (`onExpire` first),
   * whichever comes first; `onDone` once it is settled either way.
   */
  private settle<T>(hook: string, timeoutMs: number | undefined, fail: (e: unknown) => Error, start: () => T | Promise<T>, onExpire?: (err: Error) => void, onDone?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let entry: InFlight | undefined;
      let settled = false;
      const done = () => {
        settled = true;
        onDone?.();
        if (entry && this.inFlight.delete(entry) && this.inFlight.size === 0) this.timer?.unref(); // idle: hold no process open
      };
      if (timeoutMs) {
        entry = {
          due: performance.now() + timeoutMs,
          expire: () => {
            if (settled) return;
            const err = new PluginError(ErrorCodes.PLUGIN_TIMEOUT, this.pluginId, hook, `no answer within ${timeoutMs} ms`);
            onExpire?.(err);
            done();
            reject(fail(err)); // a late answer of the plugin is ignored (its promise is handled below)
          },
        };
        this.inFlight.add(entry);
        this.arm(entry.due);
      }
      let work: Promise<T>;
      try {
        work = Promise.resolve(start());
      } catch (e) {
        work = Promise.reject(e);
      }
      work.then(
        (v) => {
          if (settled) return;
          done();
          resolve(v);
        },
        (e: unknown) => {
          if (settled) return;
          done();
          reject(fail(e));
        },
      );
    });
  }

  /** the timer runs (and holds the process) while calls are in flight; it fires at the head's deadline or earlier */
  private arm(due: number): void {
    if (this.timer) this.timer.ref();
    else this.timer = setTimeout(this.onTimer, Math.max(0, due - performance.now()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const e of this.inFlight) {
      if (e.due > now) {
        this.timer = setTimeout(this.onTimer, e.due - now);
        return;
      }
      this.inFlight.delete(e);
      e.expire();
    }
  };
}

/** Same error mapping for a stream coming out of plugin code. */
export function guardStream(pluginId: string, hook: string, make: () => Readable): Readable {
  let src: Readable;
  try {
    src = make();
  } catch (e) {
    const out = new PassThrough();
    queueMicrotask(() => out.destroy(normalizePluginError(e, pluginId, hook)));
    return out;
  }
  const out = new PassThrough({ readableHighWaterMark: 256 * 1024 });
  pipeline(src, out, (err) => {
    if (err) out.destroy(normalizePluginError(err, pluginId, hook));
  });
  return out;
}

/**
 * Same for a format's streamed records, as a plain iterator rather than an async generator (a
 * generator resume and a promise per record cost ~0.4 s per 1M rows), keeping the source's
 * `nextBatch` (RecordBatches) when it has one.
 */
export function guardRecords<T>(pluginId: string, hook: string, records: AsyncIterable<T>): AsyncIterableIterator<T> & Partial<RecordBatches<T>> {
  const fail = (e: unknown): never => {
    throw normalizePluginError(e, pluginId, hook);
  };
  let src: (AsyncIterator<T> & Partial<RecordBatches<T>>) | undefined;
  let broken: Error | undefined;
  try {
    src = records[Symbol.asyncIterator]() as AsyncIterator<T> & Partial<RecordBatches<T>>;
  } catch (e) {
    broken = normalizePluginError(e, pluginId, hook);
  }
  const call = <R>(f: () => Promise<R>): Promise<R> => {
    if (broken) return Promise.reject(broken);
    try {
      return f().catch(fail);
    } catch (e) {
      return Promise.reject(normalizePluginError(e, pluginId, hook));
    }
  };
  const it: AsyncIterableIterator<T> & Partial<RecordBatches<T>> = {
    next: () => call(() => src!.next()),
    return: async (v?: unknown) => {
      try {
        if (src?.return) await src.return(v);
      } catch (e) {
        fail(e);
      }
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => it,
  };
  if (typeof src?.nextBatch === 'function') it.nextBatch = () => call(() => src!.nextBatch!());
  return it;
}

/** Same for an async iterable (a format's streamed records). */
export async function* guardIterable<T>(pluginId: string, hook: string, it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (e) {
    throw normalizePluginError(e, pluginId, hook);
  }
}
