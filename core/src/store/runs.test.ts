import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../api/errors.js';
import { Store } from './index.js';
import { tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-runs-');

describe('runs', () => {
  it('runs round-trip', () => {
    const s = Store.open(freshDir());
    const id1 = s.runs.start('pull', { trigger: 'poll' });
    assert.equal(s.runs.last('pull')?.result, 'running');
    s.runs.finish(id1, { result: 'ok', files: 2, bytes: 4096 });
    const id2 = s.runs.start('pull');
    s.runs.finish(id2, { result: 'failed', error: { code: ErrorCodes.TRANSPORT_TIMEOUT, message: 'no answer' }, details: { host: 'ftp.local' } });
    const id3 = s.runs.start('push');
    s.runs.finish(id3, { result: 'partial', files: 1 });

    const ok = s.runs.last('pull', 'ok');
    assert.ok(ok);
    assert.equal(ok.id, id1);
    assert.equal(ok.files, 2);
    assert.equal(ok.bytes, 4096);
    assert.deepEqual(ok.details, { trigger: 'poll' });
    assert.equal(ok.error, undefined);
    assert.ok(ok.finishedAt && ok.finishedAt >= ok.startedAt);

    const failed = s.runs.last('pull');
    assert.equal(failed?.id, id2);
    assert.equal(failed?.result, 'failed');
    assert.deepEqual(failed?.error, { code: 'CFX_E_TRANSPORT_TIMEOUT', message: 'no answer' });
    assert.deepEqual(failed?.details, { host: 'ftp.local' });
    assert.equal(failed?.files, 0);

    assert.deepEqual(s.runs.list().map((r) => [r.id, r.job, r.result]), [
      [id3, 'push', 'partial'],
      [id2, 'pull', 'failed'],
      [id1, 'pull', 'ok'],
    ]);
    assert.deepEqual(s.runs.list({ job: 'pull', limit: 1 }).map((r) => r.id), [id2]);
    assert.equal(s.runs.last('collect'), undefined);
    assert.equal(s.runs.last('push', 'ok'), undefined);
    s.close();
  });

  it('a finished run keeps its real start; heartbeats per job', () => {
    const s = Store.open(freshDir());
    const id = s.runs.addFinished('prices.pull', { result: 'ok', files: 1 }, { startedAt: new Date('2025-03-15T10:00:00.000Z'), finishedAt: new Date('2025-03-15T10:00:04.250Z') });
    assert.deepEqual([s.runs.get(id)?.startedAt, s.runs.get(id)?.finishedAt], ['2025-03-15T10:00:00.000Z', '2025-03-15T10:00:04.250Z']);
    const bare = s.runs.get(s.runs.addFinished('sales.push', { result: 'ok' }))!;
    assert.equal(bare.startedAt, bare.finishedAt, 'no start given: a run of no duration, as before');
    assert.deepEqual(s.runs.lastContacts(), {});
    s.runs.recordContact('prices.pull', new Date('2025-03-15T10:00:00.000Z'));
    s.runs.recordContact('sales.push', new Date('2025-03-15T10:00:01.000Z'));
    s.runs.recordContact('prices.pull', new Date('2025-03-15T10:01:00.000Z'));
    s.kv.set('contacts', 'not a heartbeat');
    assert.deepEqual(s.runs.lastContacts(), { 'prices.pull': '2025-03-15T10:01:00.000Z', 'sales.push': '2025-03-15T10:00:01.000Z' });
    s.close();
  });
});
