import { Readable, PassThrough, pipeline } from 'node:stream';
import { CfxError, ErrorCodes, PluginError, errorMessage, isCfxError } from '../api/index.js';

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

/** Same for an async iterable (a format's streamed records). */
export async function* guardIterable<T>(pluginId: string, hook: string, it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (e) {
    throw normalizePluginError(e, pluginId, hook);
  }
}
