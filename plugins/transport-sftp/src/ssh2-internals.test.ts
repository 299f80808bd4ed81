import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelWindow, keepWindowOpen } from './sftp-transport.js';

function fakeChannel(window: number, state = 'open') {
  const adjusts: [number, number][] = [];
  const ch = {
    incoming: { window },
    outgoing: { state, id: 7 },
    _client: { _protocol: { channelWindowAdjust: (id: number, n: number) => void adjusts.push([id, n]) } },
  };
  return { ch, adjusts };
}

test('the channel window covers twice the reads in flight, never less than ssh2 grants itself', () => {
  assert.equal(channelWindow(261_120, 16), 16_711_680);
  assert.equal(channelWindow(32_768, 4), 2 * 2 ** 20);
});

test('the window is topped up to the target once less than half is left, and only then', () => {
  const { ch, adjusts } = fakeChannel(2 * 2 ** 20 - 261_120);
  keepWindowOpen(ch, 16_000_000);
  assert.deepEqual(adjusts, [[7, 16_000_000 - (2 * 2 ** 20 - 261_120)]]);
  assert.equal(ch.incoming.window, 16_000_000);
  ch.incoming.window = 8_000_001;
  keepWindowOpen(ch, 16_000_000);
  assert.equal(adjusts.length, 1);
  ch.incoming.window = 7_999_999;
  keepWindowOpen(ch, 16_000_000);
  assert.deepEqual(adjusts[1], [7, 8_000_001]);
  assert.equal(ch.incoming.window, 16_000_000);
});

test('a closing channel gets no adjust', () => {
  const { ch, adjusts } = fakeChannel(1000, 'closing');
  keepWindowOpen(ch, 16_000_000);
  assert.deepEqual(adjusts, []);
  assert.equal(ch.incoming.window, 1000);
});
