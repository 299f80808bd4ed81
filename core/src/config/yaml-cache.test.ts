import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load.js';

test('a config parsed once is read from the cache dir the next time: the same config, and messages keep their line numbers', () => {
  const cache = mkdtempSync(join(tmpdir(), 'cfx-cfgcache-'));
  const before = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cache;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'cfx-cfg-'));
    const file = join(dir, 'cfx.yaml');
    writeFileSync(file, 'role: terminal\nterminal: t-1\nserver: ftp://u:${PW}@h\nsales:\n  connections: 3\n');
    const first = loadConfig(file, { env: { PW: 'x' } });
    const entries = readdirSync(join(cache, 'cfx', 'config'));
    assert.equal(entries.length, 1, 'one entry, named by the text');
    const second = loadConfig(file, { env: { PW: 'y' } });
    assert.equal(second.sales.connections, 3);
    assert.equal(second.server, 'ftp://u:y@h', '${ENV} is expanded after the cache: a changed variable counts');
    assert.deepEqual({ ...second, server: first.server }, first);

    // a problem found in a cached config still names its line (the YAML is parsed for the message)
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'role: terminal\nterminal: t-1\nserver: ftp://h\nprices:\n  poll: soon\n');
    assert.throws(() => loadConfig(bad), (e: Error) => /line 5/.test(e.message) && /prices\.poll/.test(e.message));
    assert.throws(() => loadConfig(bad), (e: Error) => /line 5/.test(e.message), 'the same message from the cached value');
  } finally {
    if (before === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = before;
  }
});
