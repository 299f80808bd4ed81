import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, type Transport } from '../api/index.js';

export interface TransportConformanceOptions {
  create(): Transport | Promise<Transport>;
  /** a fresh remote directory for this run; the suite creates it */
  root: string;
  /** a reason to skip the whole suite (e.g. the server is not available), or false */
  skip?: string | false;
  /** size of the streamed large file (default 8 MiB) */
  largeBytes?: number;
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

async function rejectsKind(p: Promise<unknown>, kind: TransportError['kind']): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TransportError, `expected TransportError(${kind}), got ${String(e)}`);
    assert.equal(e.kind, kind, `expected kind ${kind}, got ${e.kind}: ${e.message}`);
    return e;
  }
  assert.fail(`expected TransportError(${kind}), but the call succeeded`);
}

/** A deterministic pseudo-random byte stream of `size` bytes, generated lazily: never all in memory. */
function generated(size: number, seed = 1): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let left = size;
  let x = seed >>> 0;
  let resolveHash!: (h: string) => void;
  const sha256 = new Promise<string>((r) => (resolveHash = r));
  const stream = new Readable({
    read() {
      if (left === 0) {
        resolveHash(hash.digest('hex'));
        this.push(null);
        return;
      }
      const n = Math.min(left, 256 * 1024);
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        b[i] = x >>> 24;
      }
      left -= n;
      hash.update(b);
      this.push(b);
    },
  });
  return { stream, sha256 };
}

function handleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe|FSReq/.test(r)).length;
}

/**
 * The shared conformance suite every transport passes (Hono-style): the same behaviour on FTP,
 * SFTP, memory or a third-party store, so the jobs above can rely on it.
 */
export function describeTransportConformance(name: string, opts: TransportConformanceOptions): void {
  describe(`transport conformance: ${name}`, { skip: opts.skip || false }, () => {
    let t: Transport;
    const root = opts.root.replace(/\/+$/, '');
    const p = (n: string) => `${root}/${n}`;

    before(async () => {
      t = await opts.create();
      await t.mkdir(root);
    });
    after(async () => {
      await t?.close();
    });

    it('mkdir creates parents and accepts an existing directory', async () => {
      await t.mkdir(p('a/b/c'));
      await t.mkdir(p('a/b/c'));
      await t.mkdir(p('a/b'));
      const names = (await t.list(p('a'))).map((e) => [e.name, e.type]);
      assert.deepEqual(names, [['b', 'dir']]);
    });

    it('round-trips every byte value', async () => {
      const data = Buffer.alloc(256 * 4);
      for (let i = 0; i < data.length; i++) data[i] = i % 256;
      const n = await t.write(p('bytes.bin'), data);
      assert.equal(n, data.length);
      const back = await readAll(t.read(p('bytes.bin')));
      assert.equal(back.length, data.length);
      assert.ok(back.equals(data), 'bytes differ after a round trip');
    });

    it('writes from a stream and from an empty buffer', async () => {
      const data = randomBytes(100_000);
      assert.equal(await t.write(p('stream.bin'), Readable.from([data.subarray(0, 1), data.subarray(1, 70_000), data.subarray(70_000)])), data.length);
      assert.ok((await readAll(t.read(p('stream.bin')))).equals(data));
      assert.equal(await t.write(p('empty.txt'), new Uint8Array(0)), 0);
      assert.equal((await readAll(t.read(p('empty.txt')))).length, 0);
    });

    it('lists what was written, with sizes and types', async () => {
      await t.mkdir(p('listing/sub'));
      await t.write(p('listing/one.csv'), Buffer.from('abc'));
      await t.write(p('listing/two.csv'), Buffer.from('abcdef'));
      const entries = (await t.list(p('listing'))).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        entries.map((e) => [e.name, e.type, e.type === 'file' ? e.size : -1]),
        [
          ['one.csv', 'file', 3],
          ['sub', 'dir', -1],
          ['two.csv', 'file', 6],
        ],
      );
    });

    it('reports NotFound for a missing file or directory', async () => {
      await rejectsKind(readAll(t.read(p('missing.csv'))), 'NotFound');
      await rejectsKind(t.delete(p('missing.csv')), 'NotFound');
      await rejectsKind(t.list(p('no-such-dir')), 'NotFound');
      await rejectsKind(t.rename(p('missing.csv'), p('other.csv')), 'NotFound');
    });

    it('is still usable after a NotFound', async () => {
      await rejectsKind(readAll(t.read(p('missing-again.csv'))), 'NotFound');
      await t.write(p('after-404.txt'), Buffer.from('ok'));
      assert.equal((await readAll(t.read(p('after-404.txt')))).toString(), 'ok');
    });

    it('renames over an existing file (the temp-name + rename upload)', async () => {
      await t.write(p('target.csv'), Buffer.from('old contents'));
      await t.write(p('.target.csv.part'), Buffer.from('new'));
      await t.rename(p('.target.csv.part'), p('target.csv'));
      assert.equal((await readAll(t.read(p('target.csv')))).toString(), 'new');
      const names = (await t.list(root)).map((e) => e.name);
      assert.ok(names.includes('target.csv'));
      assert.ok(!names.includes('.target.csv.part'), 'the temp name is gone after rename');
    });

    // the optional one-call upload (API 1.4): the same outcome as write + rename, in that order
    it('writeThenRename (when offered): the bytes under the target, the temp name gone, an existing target replaced', async (tc) => {
      if (!t.writeThenRename) return tc.skip('not offered');
      const steps: string[] = [];
      await t.write(p('wtr.csv'), Buffer.from('old contents, longer than the new'));
      const bytes = Buffer.from('Квиток;350,00\r\n\u0000\u00ff', 'utf8');
      // (the step must not call the transport: it may hold its connection; a failing step below shows the temp file)
      await t.writeThenRename(p('wtr-tmp.part'), p('wtr.csv'), bytes, async () => {
        await sleep(5);
        steps.push('between');
      });
      assert.deepEqual(steps, ['between']);
      assert.deepEqual(await readAll(t.read(p('wtr.csv'))), bytes);
      assert.deepEqual((await t.list(root)).filter((e) => e.name.startsWith('wtr')).map((e) => `${e.name}:${e.size}`), [`wtr.csv:${bytes.length}`]);
    });

    it('writeThenRename (when offered): a failing step renames nothing and its error comes back as it is', async (tc) => {
      if (!t.writeThenRename) return tc.skip('not offered');
      const mine = new Error('the local copy failed');
      await assert.rejects(t.writeThenRename(p('wtr2-tmp.part'), p('wtr2.csv'), Buffer.from('kept'), () => {
        throw mine;
      }), (e) => e === mine);
      assert.deepEqual((await t.list(root)).filter((e) => e.name.startsWith('wtr2')).map((e) => `${e.name}:${e.size}`), ['wtr2-tmp.part:4']);
      // and the transport goes on
      await t.writeThenRename(p('wtr2-tmp.part'), p('wtr2.csv'), Buffer.from('again'), () => undefined);
      assert.equal((await readAll(t.read(p('wtr2.csv')))).toString(), 'again');
    });

    // API 1.5: `more` is a hint (FTP asks for the next data port with the rename); whatever the
    // calls between two uploads, or the time, or a failed step, every file lands whole
    it('writeThenRename (when offered) with `more`: a backlog, other calls between, a failed step, a last one without it', async (tc) => {
      if (!t.writeThenRename) return tc.skip('not offered');
      await t.mkdir(p('more'));
      const q = (n: string) => p(`more/${n}`);
      const body = (i: number) => Buffer.from(`sale ${i};`.repeat(1 + (i % 7)) + '\r\n');
      const put = (i: number, more = true) => t.writeThenRename!(q(`.s${i}.part`), q(`s${i}.csv`), body(i), () => undefined, { more });
      for (let i = 0; i < 6; i++) await put(i);
      // a listing, a read and a write of another kind between two uploads announced as more
      assert.equal((await t.list(p('more'))).length, 6);
      await put(6);
      assert.deepEqual(await readAll(t.read(q('s6.csv'))), body(6));
      await put(7);
      await t.write(q('plain.txt'), Buffer.from('plain'));
      await put(8);
      const mine = new Error('the step failed');
      await assert.rejects(t.writeThenRename(q('.s9.part'), q('s9.csv'), body(9), () => {
        throw mine;
      }, { more: true }), (e) => e === mine);
      await put(9);
      await sleep(20);
      await put(10, false);
      const got = (await t.list(p('more'))).map((e) => `${e.name}:${e.size}`).sort();
      const want = [...Array.from({ length: 11 }, (_, i) => `s${i}.csv:${body(i).length}`), 'plain.txt:5'].sort();
      assert.deepEqual(got, want);
      for (const i of [0, 5, 7, 9, 10]) assert.deepEqual(await readAll(t.read(q(`s${i}.csv`))), body(i));
    });

    it('deletes a file', async () => {
      await t.write(p('gone.txt'), Buffer.from('x'));
      await t.delete(p('gone.txt'));
      assert.ok(!(await t.list(root)).some((e) => e.name === 'gone.txt'));
    });

    it('keeps non-ASCII (Cyrillic) names', async () => {
      const name = 'Ціни_прайс №1 Ёё.csv';
      await t.mkdir(p('каталог'));
      await t.write(p(`каталог/${name}`), Buffer.from('Квиток;350,00', 'utf8'));
      const entries = await t.list(p('каталог'));
      assert.deepEqual(entries.map((e) => e.name), [name]);
      assert.equal((await readAll(t.read(p(`каталог/${name}`)))).toString('utf8'), 'Квиток;350,00');
    });

    it('streams a file larger than its chunks, both ways, byte-exact', async () => {
      const size = opts.largeBytes ?? 8 * 1024 * 1024;
      const { stream, sha256 } = generated(size, 7);
      assert.equal(await t.write(p('large.bin'), stream), size);
      const h = createHash('sha256');
      let got = 0;
      for await (const c of t.read(p('large.bin'))) {
        h.update(c as Buffer);
        got += (c as Buffer).length;
      }
      assert.equal(got, size);
      assert.equal(h.digest('hex'), await sha256);
    });

    it('serialises concurrent calls on one transport', async () => {
      await t.mkdir(p('concurrent'));
      const writes = Array.from({ length: 6 }, (_, i) => t.write(p(`concurrent/f${i}.txt`), Buffer.from(`file ${i}`)));
      const counts = await Promise.all(writes);
      assert.deepEqual(counts, [6, 6, 6, 6, 6, 6]);
      const [list, body] = await Promise.all([t.list(p('concurrent')), readAll(t.read(p('concurrent/f3.txt')))]);
      assert.equal(list.length, 6);
      assert.equal(body.toString(), 'file 3');
    });

    it('aborts a transfer mid-way and stays usable', async () => {
      const ac = new AbortController();
      let sent = 0;
      const slow = new Readable({
        read() {
          if (sent >= 64 * 1024 * 1024) return void this.push(null);
          sent += 64 * 1024;
          if (sent === 256 * 1024) setImmediate(() => ac.abort());
          // paced so the abort lands while bytes are still flowing
          setTimeout(() => this.push(Buffer.alloc(64 * 1024, 1)), 1);
        },
      });
      await rejectsKind(t.write(p('aborted.bin'), slow, { signal: ac.signal }), 'Aborted');
      assert.ok(sent < 64 * 1024 * 1024, 'the upload stopped early');
      await t.write(p('after-abort.txt'), Buffer.from('still here'));
      assert.equal((await readAll(t.read(p('after-abort.txt')))).toString(), 'still here');
      // a partial upload may remain under its name; the core only ever uploads to temp names
      const ac2 = new AbortController();
      ac2.abort();
      await rejectsKind(t.list(root, { signal: ac2.signal }), 'Aborted');
    });

    it('leaves no open handles after close and reconnects when used again', async () => {
      const baseline = handleCount();
      const t2 = await opts.create();
      await t2.list(root);
      await t2.close();
      let n = handleCount();
      for (let i = 0; i < 40 && n > baseline; i++) {
        await sleep(50);
        n = handleCount();
      }
      assert.ok(n <= baseline, `open handles after close: ${n} > ${baseline} (${process.getActiveResourcesInfo().join(',')})`);
      const entries = await t2.list(root);
      assert.ok(entries.some((e) => e.name === 'bytes.bin'), 'usable again after close');
      await t2.close();
    });
  });
}
