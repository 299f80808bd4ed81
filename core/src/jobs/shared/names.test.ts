import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isTempName, safeLocalName, expandTemplate } from './names.js';

it('sanitises remote names before they touch the disk', () => {
  assert.equal(safeLocalName('../../etc/passwd'), '____etc_passwd');
  assert.equal(safeLocalName('a\u0000b\nc.csv'), 'a_b_c.csv');
  assert.equal(safeLocalName('..'), 'unnamed');
  assert.equal(safeLocalName('.hidden'), '_hidden');
  assert.equal(safeLocalName('C:\\x\\y.csv'), 'C__x_y.csv');
  assert.equal(safeLocalName('Ціни 01.csv'), 'Ціни 01.csv');
});

it('recognises temp names', () => {
  assert.deepEqual(['.x.csv', 'a.part', 'b.tmp', 'c.csv', 'd.csv~'].map(isTempName), [true, true, true, false, true]);
});

it('expands {terminal}', () => {
  assert.equal(expandTemplate('/ftpbox/{terminal}/in', { terminal: 'box-1' }), '/ftpbox/box-1/in');
});

it('orders names naturally: numbers inside names compare as numbers', async () => {
  const { naturalCompare } = await import('./names.js');
  const names = ['prices_10.csv', 'prices_9.csv', 'prices_100.csv', 'prices_2.csv', 'goods-00000010-ab.csv', 'goods-00000009-ff.csv', 'prices.csv', 'a10b2', 'a10b10', 'a9b99'];
  assert.deepEqual([...names].sort(naturalCompare), [
    'a9b99', 'a10b2', 'a10b10', 'goods-00000009-ff.csv', 'goods-00000010-ab.csv', 'prices.csv', 'prices_2.csv', 'prices_9.csv', 'prices_10.csv', 'prices_100.csv',
  ]);
  // a number longer than any integer still orders; equal numbers written differently: plain order, never 0
  assert.ok(naturalCompare('p_123456789012345678901234567890', 'p_123456789012345678901234567891') < 0);
  assert.ok(naturalCompare('p_007', 'p_7') < 0);
  assert.equal(naturalCompare('x_5', 'x_5'), 0);
});

it('takes only plain names from a listing, and builds every remote path through remotePath', async () => {
  const { unsafeNameReason, remotePath } = await import('./names.js');
  for (const bad of ['x/../../other/prices.csv', 'a\\..\\b.csv', '..', '.', '', 'p\u0001.csv', 'p\u0000.csv', 'p\u007f.csv', 'p\u009b.csv', 'p\n.csv']) {
    assert.ok(unsafeNameReason(bad), JSON.stringify(bad));
    assert.throws(() => remotePath('/ftpbox/box-1', bad), (e: any) => e.code === 'CFX_E_UNSAFE_NAME' && e.details.name === bad);
  }
  for (const good of ['prices.csv', '.prices.csv.part', 'Ціни 01.csv', 'a..b.csv', '...csv', 'box-1_S1.csv']) assert.equal(unsafeNameReason(good), undefined, good);
  assert.equal(remotePath('/ftpbox/box-1', 'prices.csv'), '/ftpbox/box-1/prices.csv');
  assert.equal(remotePath('/ftpbox/box-1/', 'a..b.csv'), '/ftpbox/box-1/a..b.csv');
});
