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
