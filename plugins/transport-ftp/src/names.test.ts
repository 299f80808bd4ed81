import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '@cfx/core/api';
import { nameCodec } from './names.js';

test('utf8 names pass through', () => {
  const c = nameCodec('utf8');
  assert.equal(c.socketEncoding, 'utf8');
  assert.equal(c.out('/ціни/прайс.csv'), '/ціни/прайс.csv');
  assert.equal(c.in('прайс.csv'), 'прайс.csv');
});

test('cp1251 names become one latin1 char per cp1251 byte, and back', () => {
  const c = nameCodec('cp1251');
  assert.equal(c.socketEncoding, 'latin1');
  const name = '/Ціни №1/Прайс Ёё ґЄ.csv';
  const wire = c.out(name);
  // what the socket will write: latin1 of the cp1251 bytes
  const bytes = Buffer.from(wire, 'latin1');
  assert.deepEqual([...Buffer.from(c.out('Ця'), 'latin1')], [0xd6, 0xff]);
  assert.equal(bytes.length, name.length, 'one byte per character');
  assert.equal(c.in(wire), name);
  assert.equal(c.out('plain-ascii.csv'), 'plain-ascii.csv');
});

test('cp1251 refuses a name it cannot hold instead of writing "?"', () => {
  const c = nameCodec('cp1251');
  assert.throws(() => c.out('/in/价格.csv'), (e: unknown) => e instanceof TransportError && e.kind === 'Protocol');
});
