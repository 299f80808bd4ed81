import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './index.js';
import { applyAll, fullCatalog, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-inbox-log-');

describe('inbox log', () => {
  it('the inbox log: a delivery stays open until confirmed; a later delivery of the same name and bytes is applied again', async () => {
    const s = Store.open(freshDir());
    assert.equal(s.inbox.last(), undefined);
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const e = s.inbox.contains('goods1.csv', 'sha-goods1.csv');
    assert.ok(e);
    assert.equal(e.name, 'goods1.csv');
    assert.equal(e.size, 104);
    assert.equal(e.mtime, '2024-03-01T10:00:00.000Z');
    assert.equal(e.sha256, 'sha-goods1.csv');
    assert.equal(e.records, 3);
    assert.equal(e.mode, 'full');
    assert.equal(e.skipped, 0);
    assert.equal(e.confirmedAt, undefined);
    assert.match(e.appliedAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(s.inbox.contains('goods1.csv', 'other-sha'), undefined);
    assert.equal(s.inbox.contains('goods9.csv', 'sha-goods1.csv'), undefined);
    assert.deepEqual(s.inbox.last(), e);
    assert.deepEqual(s.inbox.open().map((x) => x.id), [e.id]);
    s.inbox.confirm(e.id);
    assert.equal(s.inbox.contains('goods1.csv', 'sha-goods1.csv'), undefined, 'confirmed: history, not "already applied"');
    assert.match(s.inbox.last()!.confirmedAt!, /^\d{4}-/);
    // the office writes the same name again (even the same bytes): a new delivery, applied again
    await applyAll(s, 'goods1.csv', 'full', [{ op: 'clear' }, ...fullCatalog.slice(1, 2)]);
    assert.equal(s.catalog.count(), 1);
    const again = s.inbox.contains('goods1.csv', 'sha-goods1.csv');
    assert.ok(again && again.id > e.id);
    // a newer delivery of a name closes an open older one: the office wrote over it
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    assert.deepEqual(s.inbox.open().map((x) => x.id), [s.inbox.last()!.id]);
    assert.equal(s.inbox.recent(5).length, 3);
    s.close();
  });
});
