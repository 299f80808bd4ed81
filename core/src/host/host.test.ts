import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginHost } from './host.js';
import { silentLogger } from '../util/logger.js';
import { API_VERSION, ErrorCodes, PluginError, TransportError } from '../api/index.js';

interface FakePlugin {
  name: string;
  engines?: string;
  contributes?: Record<string, string[]>;
  /** module body; `MARK` writes the import marker */
  code?: string;
}

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cfx-host-'));
});

function plugin(p: FakePlugin): string {
  const dir = join(base, p.name.replace(/[@/]/g, '_'));
  mkdirSync(dir, { recursive: true });
  const marker = join(dir, 'imported.marker');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: p.name, version: '1.2.3', type: 'module', main: 'index.js', engines: { cfx: p.engines ?? '^1.0.0' }, cfx: { apiVersion: 1, contributes: p.contributes ?? {} } }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\n${p.code ?? 'export function activate() {}'}\n`,
  );
  return dir;
}

const marker = (dir: string) => existsSync(join(dir, 'imported.marker'));

function host(plugins: string[], extra: Partial<Parameters<typeof PluginHost.discover>[0]> = {}) {
  return PluginHost.discover({ logger: silentLogger(), dataDir: join(base, 'data'), baseDir: base, builtins: [], plugins, ...extra });
}

const echoTransport = `
export function activate(ctx) {
  ctx.registerTransport({ schemes: ['echo'], create: () => ({
    list: async (dir) => { if (dir === '/boom') throw new Error('kaboom'); if (dir === '/missing') { const { TransportError } = await import(${JSON.stringify(new URL('../api/errors.js', import.meta.url).href)}); throw new TransportError('NotFound', 'no ' + dir); } if (dir === '/hang') return new Promise(() => {}); return [{ name: 'x', size: 1, type: 'file' }]; },
    read() {}, write: async () => 0, rename: async () => {}, delete: async () => {}, mkdir: async () => {}, close: async () => {},
  }) });
}`;

describe('plugin host', () => {
  it('refuses a plugin whose engines.cfx does not match, without importing its code', () => {
    const dir = plugin({ name: 'cfx-future', engines: '^2.0.0', contributes: { transports: ['future'] } });
    assert.throws(() => host([dir]), (e: any) => {
      assert.equal(e.code, ErrorCodes.PLUGIN_ENGINE);
      assert.ok(e.message.includes(`cfx-future: engines.cfx "^2.0.0" does not match this cfx's plugin API ${API_VERSION}`), e.message);
      return true;
    });
    assert.equal(marker(dir), false, 'plugin code must not be imported');
    const lenient = host([dir], { strict: false });
    assert.equal(lenient.refused[0]!.plugin, 'cfx-future');
    assert.equal(marker(dir), false);
  });

  it('requires the major version to be pinned and collects every manifest problem', () => {
    const a = plugin({ name: 'cfx-loose', engines: '>=1.0.0', contributes: { transports: ['Bad Id'] } });
    const b = plugin({ name: 'cfx-other', engines: '*' });
    assert.throws(() => host([a, b]), (e: any) => {
      assert.equal(e.code, ErrorCodes.PLUGIN_MANIFEST);
      assert.match(e.message, /cfx-loose: engines\.cfx ">=1\.0\.0" must pin the major version/);
      assert.match(e.message, /cfx-loose: cfx\.contributes\.transports must be a list of lower-case ids/);
      assert.match(e.message, /cfx-other: engines\.cfx "\*" must pin the major version/);
      return true;
    });
  });

  it('names both plugins when two claim the same scheme', () => {
    const a = plugin({ name: 'ftp-one', contributes: { transports: ['ftp'] } });
    const b = plugin({ name: 'ftp-two', contributes: { transports: ['ftp', 'ftps'] } });
    assert.throws(() => host([a, b]), (e: any) => {
      assert.equal(e.code, ErrorCodes.PLUGIN_CONFLICT);
      assert.match(e.message, /transport "ftp" is claimed by both ftp-one and ftp-two/);
      return true;
    });
  });

  it('imports plugin code lazily, on first use', async () => {
    const dir = plugin({ name: 'echo', contributes: { transports: ['echo'] }, code: echoTransport });
    const h = host([dir]);
    assert.equal(marker(dir), false);
    assert.deepEqual(h.list().find((p) => p.id === 'echo')?.state, 'inactive');
    const t = await h.transport({ url: new URL('echo://x'), options: {}, timeoutMs: 1000 });
    assert.equal(marker(dir), true);
    assert.deepEqual(await t.list('/'), [{ name: 'x', size: 1, type: 'file' }]);
    assert.equal(h.list().find((p) => p.id === 'echo')?.state, 'active');
  });

  it('a plugin whose activate throws is failed with its cause; other plugins still work', async () => {
    const bad = plugin({ name: 'broken', contributes: { formats: ['broken'] }, code: `export function activate() { throw new Error('database of widgets missing'); }` });
    const good = plugin({ name: 'echo', contributes: { transports: ['echo'] }, code: echoTransport });
    const h = host([bad, good]);
    await assert.rejects(h.format('broken'), (e: any) => e instanceof PluginError && e.pluginId === 'broken' && /database of widgets missing/.test(e.message));
    await h.activateAll();
    const st = h.list().find((p) => p.id === 'broken')!;
    assert.equal(st.state, 'failed');
    assert.equal(st.error?.code, ErrorCodes.PLUGIN_ACTIVATE);
    assert.match(st.error!.message, /database of widgets missing/);
    await assert.rejects(h.format('broken'), (e: any) => e.code === ErrorCodes.PLUGIN_FAILED);
    const t = await h.transport({ url: new URL('echo://x'), options: {}, timeoutMs: 1000 });
    assert.equal((await t.list('/')).length, 1);
    assert.equal(h.list().find((p) => p.id === 'echo')!.state, 'active');
  });

  it('rejects undeclared registrations and declared-but-unregistered contributions', async () => {
    const sneaky = plugin({ name: 'sneaky', contributes: { formats: ['a'] }, code: `export function activate(ctx) { ctx.registerFormat({ id: 'a', create: () => ({}) }); ctx.registerFormat({ id: 'b', create: () => ({}) }); }` });
    const lazy = plugin({ name: 'lazy', contributes: { formats: ['c', 'd'] }, code: `export function activate(ctx) { ctx.registerFormat({ id: 'c', create: () => ({ id: 'c', extension: 'c' }) }); }` });
    const h = host([sneaky, lazy]);
    await assert.rejects(h.format('a'), (e: any) => e.code === ErrorCodes.PLUGIN_CONTRIBUTION && /registered format "b" that its manifest does not declare/.test(e.message));
    await assert.rejects(h.format('c'), (e: any) => e.code === ErrorCodes.PLUGIN_CONTRIBUTION && /declared but not registered: format "d"/.test(e.message));
  });

  it('wraps plugin errors: foreign errors become PluginError, transport errors keep their kind', async () => {
    const dir = plugin({ name: 'echo', contributes: { transports: ['echo'] }, code: echoTransport });
    const h = host([dir], { callTimeoutMs: 300 });
    const t = await h.transport({ url: new URL('echo://x'), options: {}, timeoutMs: 1000 });
    await assert.rejects(t.list('/boom'), (e: any) => e instanceof PluginError && e.code === ErrorCodes.PLUGIN_CALL && e.pluginId === 'echo' && e.hook === 'transport.list' && e.cause instanceof Error);
    await assert.rejects(t.list('/missing'), (e: any) => e instanceof TransportError && e.kind === 'NotFound' && e.details.pluginId === 'echo');
    await assert.rejects(t.list('/hang'), (e: any) => e.code === ErrorCodes.PLUGIN_TIMEOUT && e.pluginId === 'echo');
  });

  it('passes writeThenRename through the guard: the caller\'s step error comes back as it is, a plugin error is wrapped', async () => {
    const code = `
export function activate(ctx) {
  ctx.registerTransport({ schemes: ['wtr'], create: () => ({
    list: async () => [], read() {}, write: async () => 0, rename: async () => {}, delete: async () => {}, mkdir: async () => {}, close: async () => {},
    writeThenRename: async (tmp, target, data, between) => { if (tmp === '/boom') throw new Error('plugin broke'); globalThis.wtrSteps = ['write ' + tmp + ' ' + data.length]; await between(); globalThis.wtrSteps.push('rename ' + target); },
  }) });
}`;
    const dir = plugin({ name: 'wtr', contributes: { transports: ['wtr'] }, code });
    const h = host([dir]);
    const t = await h.transport({ url: new URL('wtr://x'), options: {}, timeoutMs: 1000 });
    const g = globalThis as { wtrSteps?: string[] };
    await t.writeThenRename!('/a.part', '/a', Buffer.from('xyz'), () => void g.wtrSteps!.push('between'));
    assert.deepEqual(g.wtrSteps, ['write /a.part 3', 'between', 'rename /a']);
    const mine = new Error('local copy failed');
    await assert.rejects(t.writeThenRename!('/b.part', '/b', Buffer.from('x'), () => Promise.reject(mine)), (e) => e === mine);
    assert.deepEqual(g.wtrSteps, ['write /b.part 1']);
    assert.equal(h.list().find((p) => p.id === 'wtr')!.error, undefined, 'the caller\'s failure is not noted as the plugin\'s');
    await assert.rejects(t.writeThenRename!('/boom', '/c', Buffer.from('x'), () => undefined), (e: any) => e instanceof PluginError && e.hook === 'transport.writeThenRename' && /plugin broke/.test(e.message));
    delete g.wtrSteps;
  });

  it('serves the memory:// transport from core without any plugin', async () => {
    const h = host([]);
    const t = await h.transport({ url: new URL('memory://host-test'), options: {}, timeoutMs: 1000 });
    await t.mkdir('/a');
    await t.write('/a/f.txt', Buffer.from('hi'));
    assert.deepEqual((await t.list('/a')).map((e) => [e.name, e.size]), [['f.txt', 2]]);
  });

  it('tells what is missing when no plugin provides a scheme', async () => {
    const h = host([]);
    await assert.rejects(h.transport({ url: new URL('gopher://x'), options: {}, timeoutMs: 1000 }), (e: any) => e.code === ErrorCodes.NO_PROVIDER && /transport "gopher" \(available: memory\)/.test(e.message));
  });
});
