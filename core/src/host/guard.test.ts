import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, PluginError, TransportError } from '../api/index.js';
import { CallGuard } from './guard.js';

describe('CallGuard', () => {
  it("a built-in plugin's untimed call gets the caller's signal itself; a timed one its own, aborted by the deadline", async () => {
    const errors: Error[] = [];
    const g = new CallGuard('ftp', 50, (e) => errors.push(e), true);
    const outer = new AbortController().signal;
    const seen: (AbortSignal | undefined)[] = [];
    assert.equal(await g.call('transport.write', outer, (s) => (seen.push(s), 7), false), 7);
    assert.equal(await g.call('transport.write', undefined, async (s) => (seen.push(s), 8), false), 8);
    assert.deepEqual(seen, [outer, undefined]);
    // never answers: rejected by the deadline with the plugin id and hook, and told so by its signal
    let got: AbortSignal | undefined;
    await assert.rejects(g.call('transport.rename', outer, (s) => ((got = s), new Promise<never>(() => undefined))), (e: PluginError) => e.code === ErrorCodes.PLUGIN_TIMEOUT && e.pluginId === 'ftp' && e.hook === 'transport.rename');
    assert.notEqual(got, outer);
    assert.equal(got?.aborted, true);
    // a transport error keeps its kind; a foreign one becomes a PluginError
    await assert.rejects(g.call('transport.list', outer, async () => { throw new TransportError('NotFound', 'no /x', { path: '/x' }); }), (e: TransportError) => e.kind === 'NotFound' && e.details?.pluginId === 'ftp');
    await assert.rejects(g.call('transport.list', outer, () => { throw new Error('boom'); }), (e: PluginError) => e.code === ErrorCodes.PLUGIN_CALL && e.hook === 'transport.list');
    // the host hears every error (a plugin's last error in `cfx status`)
    assert.equal(errors.length, 3);
    assert.equal((errors[0] as PluginError).code, ErrorCodes.PLUGIN_TIMEOUT);
    assert.equal((errors[1] as TransportError).kind, 'NotFound');
    assert.equal((errors[2] as PluginError).code, ErrorCodes.PLUGIN_CALL);
  });

  it("a third-party plugin's call gets a signal of its own, aborted by the deadline", async () => {
    const g = new CallGuard('echo', 50);
    const outer = new AbortController().signal;
    let got: AbortSignal | undefined;
    await assert.rejects(g.call('transport.list', outer, (s) => ((got = s), new Promise<never>(() => undefined))), (e: PluginError) => e.code === ErrorCodes.PLUGIN_TIMEOUT);
    assert.notEqual(got, outer);
    assert.equal(got?.aborted, true);
  });
});
