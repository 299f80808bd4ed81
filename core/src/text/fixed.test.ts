import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFixed } from './fixed.js';

describe('parseFixed: strict numbers', () => {
  it('sign, digits, one decimal point; blanks around are trimmed', () => {
    assert.equal(parseFixed('12,50', 2, 'auto'), 1250);
    assert.equal(parseFixed(' \t12.5\u00a0', 2, 'auto'), 1250);
    assert.equal(parseFixed('-0,001', 3, ','), -1);
    assert.equal(parseFixed('+7', 2, '.'), 700);
    assert.equal(parseFixed('0,29', 2, 'auto'), 29); // 0.29 * 100 = 28.999999999999996
  });

  it('no space inside unless digit grouping is on', () => {
    for (const s of ['12 50', '1 234,50', '1\u00a0234', '- 5', '1\t234']) {
      assert.equal(parseFixed(s, 2, 'auto'), s.includes('\t') ? 'is not a number' : 'has a space inside (digit grouping is not enabled)', s);
    }
  });

  it('with thousands: only groups of exactly three digits left of the point, separated by a space, U+00A0 or U+202F', () => {
    const ok: [string, number][] = [['1 234,50', 123450], ['12\u00a0345\u00a0678.9', 1234567890], ['-1\u202f000', -100000], ['999', 99900], ['1234,5', 123450]];
    for (const [s, v] of ok) assert.equal(parseFixed(s, 2, 'auto', true), v, s);
    for (const s of ['12 50', '1234 567', '1 23', '1  234', ' 1 2345', '1 234 56', '1 234,5 6', '1 ,5', '-, 123', '1\t234']) {
      assert.equal(typeof parseFixed(s, 2, 'auto', true), 'string', s);
    }
    assert.equal(parseFixed('12 50', 2, ',', true), 'is not grouped in threes (like 1 234 567,89)');
  });

  it('the other failures keep their phrases', () => {
    assert.equal(parseFixed('', 2, 'auto'), 'is not a number');
    assert.equal(parseFixed('  ', 2, 'auto'), 'is not a number');
    assert.equal(parseFixed('1,2,3', 2, 'auto'), 'is not a number');
    assert.equal(parseFixed('0.1', 3, ','), 'is not a number');
    assert.equal(parseFixed('1.5', 0, '.'), 'is not a whole number');
    assert.equal(parseFixed('1,234', 2, 'auto'), 'has more than 2 decimals');
    assert.equal(parseFixed('90071992547409,92', 2, 'auto'), 'is out of range');
  });
});
