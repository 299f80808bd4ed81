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

/** ssh2's public read() as a channel without the request table has it: fills the buffer, reports the count */
function plainReader(content: Buffer) {
  return {
    reads: 0,
    read(_h: Buffer, buf: Buffer, off: number, len: number, at: number, cb: (err: (Error & { code?: number }) | undefined, n: number) => void) {
      this.reads++;
      if (at >= content.length) return cb(Object.assign(new Error('EOF'), { code: 1 }), 0);
      cb(undefined, content.copy(buf, off, at, Math.min(content.length, at + len)));
    },
  };
}

test('readDirect on an ssh2 without the request table reads through the public read(), EOF included', () => {
  const ch = plainReader(Buffer.from('0123456789'));
  const got: [unknown, string | undefined][] = [];
  const read = (at: number) => readDirect(ch as unknown as SftpChannel, Buffer.from('h'), at, 4, Buffer.alloc(4), (err, data) => got.push([err, data?.toString()]));
  read(0);
  read(8);
  read(12);
  assert.deepEqual(got, [[undefined, '0123'], [undefined, '89'], [undefined, '']]);
  assert.equal(ch.reads, 3);
});

// last: it switches the module to the public read() for good, as it would in a running terminal
test('a request table that does not look as expected fails that read, and later reads use the public read()', () => {
  const ch = fakeReader(false);
  assert.throws(() => readDirect(ch as unknown as SftpChannel, Buffer.from('h'), 0, 4, Buffer.alloc(4), () => {}), /ssh2 did not register the READ/);
  const plain = Object.assign(plainReader(Buffer.from('abcdef')), { _requests: {}, _writeReqid: 1 });
  let got: string | undefined;
  readDirect(plain as unknown as SftpChannel, Buffer.from('h'), 2, 4, Buffer.alloc(4), (_e, data) => (got = data?.toString()));
  assert.equal(got, 'cdef');
  assert.equal(plain.reads, 1);
  assert.equal(plain._writeReqid, 1, 'nothing of the request table touched');
});
