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
