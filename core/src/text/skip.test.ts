import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SkipCounter } from './skip.js';

describe('SkipCounter', () => {
  it('counts all, keeps the first 10 lines and 10 distinct reasons', () => {
    const c = new SkipCounter();
    assert.deepEqual(c.skipped, { count: 0, lines: [], reasons: [] });
    for (let k = 1; k <= 25; k++) c.skip(k * 2, `reason ${k % 12}`);
    c.skip(99, 'reason 1');
    assert.equal(c.skipped.count, 26);
    assert.deepEqual(c.skipped.lines, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    assert.deepEqual(c.skipped.reasons, ['reason 1', 'reason 2', 'reason 3', 'reason 4', 'reason 5', 'reason 6', 'reason 7', 'reason 8', 'reason 9', 'reason 10']);
  });
});
