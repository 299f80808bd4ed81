import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ageText, lastErrorText, shiftProblemText, terminalProblems, type FleetTerminal } from './report.js';

const terminal = (more: Partial<FleetTerminal> = {}): FleetTerminal => ({
  terminal: 'box-1',
  lastSeen: '2026-12-05T10:00:00.000Z',
  ageSeconds: 30,
  stale: false,
  clockSkewSeconds: 0,
  cfxVersion: '1.4.0',
  catalog: { state: 'current', file: 'goods-1.txt', products: 3, published: 'goods-1.txt' },
  pendingSales: 0,
  gaps: { open: 0, requested: 0, lostAtTill: 0 },
  gapList: [],
  shifts: [],
  lastError: null,
  ...more,
});

describe('fleet report: the words cfx fleet prints', () => {
  it('an age reads as seconds, minutes or hours, the same in the table and in ATTENTION', () => {
    assert.deepEqual([null, 0, 119, 120, 1239, 7199, 7200, 90_000].map(ageText), ['never seen', '0s ago', '119s ago', '2m ago', '21m ago', '120m ago', '2h ago', '25h ago']);
    assert.deepEqual(terminalProblems(terminal({ stale: true, ageSeconds: 1239 })), ['stale: last seen 21m ago']);
  });

  it('a shift not reconciled says what is wrong: the receipts missing, or the difference per payment kind (till − office)', () => {
    assert.equal(shiftProblemText({ shift: 5, state: 'incomplete', lastReceiptNo: 4, difference: null, missing: [4] }), 'incomplete: receipt 4 missing');
    assert.equal(shiftProblemText({ shift: 5, state: 'incomplete', lastReceiptNo: 9, difference: null, missing: [3, 9] }), 'incomplete: receipts 3, 9 missing');
    assert.equal(shiftProblemText({ shift: 5, state: 'mismatch', lastReceiptNo: 3, difference: { cash: '5.00', card: '-1.00' }, missing: null }), 'mismatch: cash 5.00, card -1.00 (till − office)');
    const t = terminal({
      shifts: [
        { shift: 4, state: 'reconciled', lastReceiptNo: 9, difference: null, missing: null },
        { shift: 5, state: 'mismatch', lastReceiptNo: 3, difference: { other: '0.50' }, missing: null },
        { shift: 6, state: 'open', lastReceiptNo: 2, difference: null, missing: null },
      ],
    });
    assert.deepEqual(terminalProblems(t), ['shift 5 mismatch: other 0.50 (till − office)']);
    assert.deepEqual(terminalProblems(terminal()), []);
  });

  it("a terminal's last error reads as job, code, message and when; fields that are not strings are left out", () => {
    assert.equal(lastErrorText({ at: '2026-12-05T10:10:00.000Z', job: 'sales.push', code: 'CFX_E_TRANSPORT_UNAVAILABLE', message: 'connection refused' }), 'sales.push CFX_E_TRANSPORT_UNAVAILABLE connection refused (at 2026-12-05T10:10:00.000Z)');
    assert.equal(lastErrorText({ job: 7, message: { x: 1 } }), 'failed');
    assert.equal(lastErrorText(null), null);
    assert.equal(lastErrorText({ job: 'sales.push', message: 'bad\u001b[2J\nthing' }), 'sales.push bad [2J thing', 'no escape sequence or line break from the terminal');
  });
});
