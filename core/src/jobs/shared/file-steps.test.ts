import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isOverLimit, stageStream } from './file-steps.js';

const dir = mkdtempSync(join(tmpdir(), 'cfx-stage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** a source that would send 40 MiB in 64 KiB chunks; counts what was pulled from it */
function endless(): Readable & { sent: () => number } {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const r = new Readable({
    read() {
      if (sent >= 40 * 1024 * 1024) return void this.push(null);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return Object.assign(r, { sent: () => sent });
}

it('stops reading at maxBytes, keeps nothing, and says so with CFX_E_FILE_TOO_LARGE', async () => {
  const src = endless();
  const file = join(dir, 'big');
  const limit = 100_000;
  const err = await stageStream(src, file, { maxBytes: limit }).then(
    () => assert.fail('a 40 MiB stream passed a 100 kB limit'),
    (e: unknown) => e,
  );
  assert.ok(isOverLimit(err), String(err));
  assert.equal((err as { code: string }).code, 'CFX_E_FILE_TOO_LARGE');
  assert.equal((err as { details: Record<string, unknown> }).details.limit, limit);
  assert.equal(existsSync(file), false, 'the partial copy is removed');
  assert.ok(src.destroyed, 'the source is destroyed: the transfer is aborted');
  // what was pulled before the stop is buffering, not the whole 40 MiB
  assert.ok(src.sent() < 2 * 1024 * 1024, `pulled ${src.sent()} bytes`);
});

it('a file of exactly maxBytes is taken whole', async () => {
  const file = join(dir, 'exact');
  const r = await stageStream(Readable.from([Buffer.alloc(1000, 0x62)]), file, { maxBytes: 1000 });
  assert.equal(r.bytes, 1000);
  assert.equal(readFileSync(file).length, 1000);
});

it('tee: every chunk reaches the decoder side in order while the copy is staged; a tee that gives up does not stop the copy', async () => {
  const { PassThrough } = await import('node:stream');
  const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
  const src = () => Readable.from([data.subarray(0, 10_000), data.subarray(10_000, 30_000), data.subarray(30_000)]);
  const tee = new PassThrough({ highWaterMark: 1024 });
  const got: Buffer[] = [];
  const reading = (async () => {
    for await (const c of tee) got.push(c as Buffer);
  })();
  const r = await stageStream(src(), join(dir, 'teed'), { tee });
  await reading;
  assert.equal(r.bytes, data.length);
  assert.ok(Buffer.concat(got).equals(data), 'the tee saw the whole file, in order');
  assert.ok(readFileSync(join(dir, 'teed')).equals(data));

  // the decoder stops after its first chunk (it failed, or it had all it needed)
  const quitter = new PassThrough({ highWaterMark: 16 });
  quitter.once('data', () => quitter.destroy());
  const r2 = await stageStream(src(), join(dir, 'teed2'), { tee: quitter });
  assert.equal(r2.bytes, data.length);
  assert.ok(readFileSync(join(dir, 'teed2')).equals(data), 'the staged copy is whole');

  // over the limit: the tee ends in the same error, so a decoder reading it stops too
  const over = new PassThrough();
  over.resume();
  const closed = new Promise<Error | undefined>((resolve) => over.on('error', resolve).on('close', () => resolve(undefined)));
  await assert.rejects(stageStream(src(), join(dir, 'teed3'), { tee: over, maxBytes: 20_000 }), (e: unknown) => isOverLimit(e));
  assert.ok((await closed) instanceof Error);
});
