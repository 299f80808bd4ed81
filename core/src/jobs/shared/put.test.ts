import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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

  it('refuses a name that is not plain before any call', async () => {
    const { t, calls } = recording(new MemoryTransport('put-unsafe'), true);
    await assert.rejects(putFile(t, '/out', '../x.csv', Buffer.from('x')), /CFX_E_UNSAFE_NAME|not plain|separator/);
    assert.deepEqual(calls, []);
  });
});
