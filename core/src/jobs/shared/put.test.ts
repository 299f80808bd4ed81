import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MemoryTransport } from '../../testing/memory-transport.js';
import type { Transport } from '../../api/index.js';
import { putFile, putsAtomically } from './put.js';

/** the calls a transport got, in order, as "write <path>" / "rename <from> <to>" */
function recording(t: Transport, atomicPut: boolean | undefined): { t: Transport; calls: string[] } {
  const calls: string[] = [];
  const wrapped: Transport = {
    ...(atomicPut !== undefined ? { capabilities: { atomicPut } } : {}),
    list: (d, o) => t.list(d, o),
    read: (p, o) => t.read(p, o),
    write: (p, d, o) => (calls.push(`write ${p}`), t.write(p, d, o)),
    rename: (a, b, o) => (calls.push(`rename ${a} ${b}`), t.rename(a, b, o)),
    delete: (p, o) => t.delete(p, o),
    mkdir: (p, o) => t.mkdir(p, o),
    close: () => t.close(),
  };
  return { t: wrapped, calls };
}

describe('putFile', () => {
  it('uploads under a temp name and renames it for a transport without atomic puts (FTP, SFTP)', async () => {
    const { t, calls } = recording(new MemoryTransport('put-temp'), undefined);
    await t.mkdir('/out');
    const steps: string[] = [];
    await putFile(t, '/out', 'S1.csv', Buffer.from('abc'), { afterTemp: () => steps.push('temp'), beforeVisible: () => void steps.push('visible') });
    assert.deepEqual(calls, ['write /out/.S1.csv.part', 'rename /out/.S1.csv.part /out/S1.csv']);
    assert.deepEqual(steps, ['temp', 'visible']);
    assert.deepEqual((await t.list('/out')).map((e) => [e.name, e.size]), [['S1.csv', 3]]);
    assert.equal(putsAtomically(t), false);
  });

  it('writes once under the final name for a transport declaring atomicPut, after what must come first', async () => {
    const { t, calls } = recording(new MemoryTransport('put-atomic'), true);
    await t.mkdir('/out');
    const steps: string[] = [];
    await putFile(t, '/out', 'S2.csv', Buffer.from('abcd'), {
      tempName: '.never-used.part',
      afterTemp: () => steps.push('temp'),
      beforeVisible: async () => {
        assert.deepEqual(calls, [], 'the local copy is waited for before the file can appear');
        steps.push('visible');
      },
    });
    assert.deepEqual(calls, ['write /out/S2.csv']);
    assert.deepEqual(steps, ['visible'], 'an atomic put has no temp moment');
    assert.deepEqual((await t.list('/out')).map((e) => [e.name, e.size]), [['S2.csv', 4]]);
  });

  it('uses writeThenRename where offered: afterTemp then beforeVisible run between the write and the rename; a stream takes the two calls', async () => {
    const mem = new MemoryTransport('put-one-call');
    const { t, calls } = recording(mem, undefined);
    t.writeThenRename = async (tmp, target, data, between, o) => {
      calls.push(`writeThenRename ${tmp} ${target}`);
      await mem.write(tmp, data, o);
      calls.push('written');
      await between();
      calls.push('between done');
      await mem.rename(tmp, target, o);
    };
    await t.mkdir('/out');
    await putFile(t, '/out', 'S3.csv', Buffer.from('abcde'), { afterTemp: () => void calls.push('temp'), beforeVisible: () => void calls.push('visible') });
    assert.deepEqual(calls, ['writeThenRename /out/.S3.csv.part /out/S3.csv', 'written', 'temp', 'visible', 'between done']);
    assert.deepEqual((await t.list('/out')).map((e) => [e.name, e.size]), [['S3.csv', 5]]);
    // the step failing: no rename, its error as it is
    calls.length = 0;
    const copyFailed = new Error('disk full');
    await assert.rejects(putFile(t, '/out', 'S4.csv', Buffer.from('xy'), { beforeVisible: () => Promise.reject(copyFailed) }), (e) => e === copyFailed);
    assert.deepEqual(calls, ['writeThenRename /out/.S4.csv.part /out/S4.csv', 'written']);
    assert.deepEqual((await t.list('/out')).map((e) => e.name).sort(), ['.S4.csv.part', 'S3.csv']);
    // a stream is not a buffer: the two calls
    calls.length = 0;
    await putFile(t, '/out', 'S5.csv', Readable.from([Buffer.from('zz')]));
    assert.deepEqual(calls, ['write /out/.S5.csv.part', 'rename /out/.S5.csv.part /out/S5.csv']);
  });

  it('refuses a name that is not plain before any call', async () => {
    const { t, calls } = recording(new MemoryTransport('put-unsafe'), true);
    await assert.rejects(putFile(t, '/out', '../x.csv', Buffer.from('x')), /CFX_E_UNSAFE_NAME|not plain|separator/);
    assert.deepEqual(calls, []);
  });
});
