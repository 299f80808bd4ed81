import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './index.js';
import { tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-quarantine-');

describe('quarantine', () => {
  it('quarantine round-trip', () => {
    const s = Store.open(freshDir());
    const q1 = s.quarantine.add({ job: 'pull', fileName: 'goods.csv', localPath: '/data/quarantine/goods.csv', remotePath: '/rejected/goods.csv', reason: { line: 17, field: 'price', message: 'not a number' } });
    const q2 = s.quarantine.add({ job: 'collect', fileName: 'T1_S9.json', localPath: '/data/quarantine/T1_S9.json', reason: { message: 'bad JSON' } });
    const all = s.quarantine.list();
    assert.deepEqual(all.map((q) => q.id), [q2, q1]);
    const e1 = all[1];
    assert.ok(e1);
    assert.equal(e1.job, 'pull');
    assert.equal(e1.fileName, 'goods.csv');
    assert.equal(e1.localPath, '/data/quarantine/goods.csv');
    assert.equal(e1.remotePath, '/rejected/goods.csv');
    assert.deepEqual(e1.reason, { line: 17, field: 'price', message: 'not a number' });
    assert.equal(e1.state, 'quarantined');
    assert.equal(all[0]?.remotePath, undefined);
    assert.equal(s.quarantine.setState(q1, 'retried'), true);
    assert.equal(s.quarantine.setState(999, 'deleted'), false);
    assert.deepEqual(s.quarantine.list({ state: 'quarantined' }).map((q) => q.id), [q2]);
    assert.deepEqual(s.quarantine.list({ state: 'retried' }).map((q) => q.fileName), ['goods.csv']);
    s.close();
  });
});
