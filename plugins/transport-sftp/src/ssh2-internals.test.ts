import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelWindow, keepWindowOpen, readDirect } from './sftp-transport.js';
import type { SftpChannel } from './ssh2-types.js';

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

/** ssh2's read() as far as readDirect relies on it: the request registered under the last id, with a target buffer */
function fakeReader(register = true) {
  const ch = {
    _requests: {} as SftpChannel['_requests'],
    _writeReqid: 40,
    read(_h: Buffer, buf: Buffer, off: number, len: number, _at: number, cb: () => void) {
      this._writeReqid++;
      if (register) this._requests[this._writeReqid] = { buffer: buf.subarray(off, off + len), cb };
    },
  };
  return ch;
}

test('readDirect hands over the reply ssh2 parsed, and leaves the scratch buffer alone', () => {
  const ch = fakeReader();
  const scratch = Buffer.alloc(8, 0x2a);
  const got: unknown[] = [];
  readDirect(ch as unknown as SftpChannel, Buffer.from('h'), 0, 8, scratch, (err, data) => got.push(err, data?.toString()));
  const req = ch._requests[41]!;
  assert.equal(req.buffer, undefined);
  req.cb!(undefined, Buffer.from('abcdefgh'));
  assert.deepEqual(got, [undefined, 'abcdefgh']);
  assert.deepEqual([...scratch], new Array(8).fill(0x2a));
});

test('readDirect: EOF is an empty reply; other statuses and oversized replies are errors', () => {
  const ch = fakeReader();
  const got: [unknown, number | undefined][] = [];
  const read = () => readDirect(ch as unknown as SftpChannel, Buffer.from('h'), 0, 4, Buffer.alloc(4), (err, data) => got.push([err, data?.length]));
  read();
  ch._requests[ch._writeReqid]!.cb!(Object.assign(new Error('EOF'), { code: 1 }));
  read();
  ch._requests[ch._writeReqid]!.cb!(Object.assign(new Error('Permission denied'), { code: 3 }));
  read();
  ch._requests[ch._writeReqid]!.cb!(undefined, Buffer.alloc(5));
  assert.deepEqual(got[0], [undefined, 0]);
  assert.equal((got[1]![0] as Error).message, 'Permission denied');
  assert.equal((got[2]![0] as Error).message, 'sftp read: 5 bytes for a read of 4');
});

test('readDirect refuses to go on when ssh2 did not register the request', () => {
  const ch = fakeReader(false);
  assert.throws(() => readDirect(ch as unknown as SftpChannel, Buffer.from('h'), 0, 4, Buffer.alloc(4), () => {}), /ssh2 did not register the READ/);
});
