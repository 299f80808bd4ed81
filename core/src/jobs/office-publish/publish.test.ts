import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FormatError, TransportError, type BackOffice, type BackOfficeExport, type Format, type PendingExportsOptions, type PriceRecord } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import { setFaultHook } from '../../faults/index.js';
import type { CfxConfig } from '../../config/types.js';
import { Store } from '../../store/index.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { silentLogger } from '../../util/logger.js';
import { Publish, PUBLISH_JOB } from './publish.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-publish-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function text(input: Readable): Promise<string> {
  let s = '';
  for await (const c of input) s += String(c);
  return s;
}

/** `lines`: line 1 `full`/`delta`, then `code;price`; a price that is not a number is an error naming line and field */
const linesFormat: Format = {
  id: 'lines',
  extension: 'txt',
  async decodePrices(input, ctx) {
    const rows = (await text(input)).split('\n').filter((l) => l !== '');
    const mode = rows[0] === 'full' ? 'full' : 'delta';
    async function* records(): AsyncGenerator<PriceRecord> {
      if (mode === 'full') yield { op: 'clear' };
      for (const [i, r] of rows.slice(1).entries()) {
        const [code, price] = r.split(';') as [string, string];
        if (!/^\d+$/.test(price ?? '')) throw new FormatError(`price "${price}" is not a number`, { file: ctx.fileName, line: i + 2, field: 'price' });
        yield { op: 'upsert', product: { code, barcodes: [], name: code, price: Number(price) } };
      }
    }
    return { mode, records: records() };
  },
  encodePrices(records, mode) {
    return Readable.from(
      (async function* () {
        yield `${mode}\n`;
        for await (const r of records) if (r.op === 'upsert') yield `${r.product.code}=${r.product.price}\n`;
      })(),
    );
  },
};
const eqFormat: Format = { ...linesFormat, id: 'eq', extension: 'eq' };

class FakeBackOffice implements BackOffice {
  id = 'fake';
  files = new Map<string, string>();
  acked: string[] = [];
  failAck = 0;
  asked: PendingExportsOptions | undefined;
  async pendingExports(opts?: PendingExportsOptions): Promise<BackOfficeExport[]> {
    this.asked = opts;
    return [...this.files].map(([terminal, content]) => ({
      terminal,
      fileName: `goods-${terminal}.txt`,
      formatId: 'lines',
      open: () => Readable.from([Buffer.from(content)]),
      ack: async () => {
        if (this.failAck > 0) {
          this.failAck--;
          throw new Error('the back office folder is not writable');
        }
        this.acked.push(terminal);
        this.files.delete(terminal);
      },
    }));
  }
}

interface Env {
  config: CfxConfig;
  store: Store;
  remote: MemoryTransport;
  bo: FakeBackOffice;
  job: (t?: MemoryTransport, store?: Store) => Publish;
}

function env(pricesFormat = 'lines'): Env {
  const dir = join(root, `p${++n}`);
  const volume = `publish-${n}`;
  const config = configFromObject(
    { role: 'office', server: `memory://${volume}`, terminals: ['box-1', 'box-2'], dataDir: './data', prices: { dir: '/inbox/{terminal}', format: pricesFormat } },
    { baseDir: dir, env: {} },
  );
  const store = Store.open(config.dataDir);
  const remote = new MemoryTransport(volume);
  const bo = new FakeBackOffice();
  const formats: Record<string, Format> = { lines: linesFormat, eq: eqFormat };
  return {
    config,
    store,
    remote,
    bo,
    job: (t = remote, s = store) => new Publish({ config, store: s, transport: async () => t, format: async (id) => formats[id]!, backoffice: bo, logger: silentLogger() }),
  };
}

/** the inbox's files without the `.done` flags a publish writes after each file (asserted on their own) */
const names = async (t: MemoryTransport, dir: string) => (await allNames(t, dir)).filter((n) => !n.endsWith('.done'));
const allNames = async (t: MemoryTransport, dir: string) => {
  try {
    return (await t.list(dir)).map((e) => e.name).sort();
  } catch {
    return [];
  }
};
const remoteText = (t: MemoryTransport, path: string) => text(t.read(path));

type Published = Extract<Awaited<ReturnType<Publish['cycle']>>['outcomes'][number], { result: 'published' }>;
/** one cycle that publishes exactly one file */
async function publishOnce(e: Env, t?: MemoryTransport): Promise<Published> {
  const r = await e.job(t).cycle();
  assert.deepEqual(r.outcomes.map((o) => o.result), ['published']);
  return r.outcomes[0] as Published;
}
/** one cycle that stops with an error at `point`, as if the office crashed there */
async function cycleCrashingAt(e: Env, point: string): Promise<void> {
  setFaultHook({
    at: (p) => {
      if (p === point) throw new Error(`crash at ${p}`);
    },
  });
  try {
    await assert.rejects(e.job().cycle(), /crash at/);
  } finally {
    setFaultHook(undefined);
  }
}
const seqOf = (name: string) => Number(/^goods-(\d{8})-/.exec(name)![1]);
const X = 'full\n1;350\n2;175\n';
const Y = 'full\n1;360\n3;20\n';

describe('Publish (office → terminals)', () => {
  it('uploads each terminal\'s export to its inbox (temp name, rename), archives it, then acknowledges; nothing is left to do after', async () => {
    const e = env();
    e.bo.files.set('box-1', 'full\n1;350\n2;175\n');
    e.bo.files.set('box-2', 'delta\n3;20\n');
    const r = await e.job().cycle();
    assert.deepEqual(e.bo.asked?.terminals, ['box-1', 'box-2'], 'the back office is told the terminals');
    assert.deepEqual([r.exports, r.published, r.quarantined], [2, 2, 0]);
    assert.deepEqual(r.outcomes.map((o) => o.result === 'published' && [o.terminal, o.mode, o.records, o.converted]), [['box-1', 'full', 2, false], ['box-2', 'delta', 1, false]]);
    const [o1, o2] = r.outcomes as Extract<(typeof r.outcomes)[number], { result: 'published' }>[];
    assert.match(o1!.name, /^goods-00000001-[0-9a-f]{12}\.txt$/);
    assert.match(o2!.name, /^goods-00000002-[0-9a-f]{12}\.txt$/);
    assert.deepEqual(await allNames(e.remote, '/inbox/box-1'), [o1!.name, `${o1!.name}.done`], 'no temp file left; the flag that says it is complete');
    assert.equal(await remoteText(e.remote, `/inbox/box-1/${o1!.name}.done`), '', 'an empty flag');
    assert.equal(await remoteText(e.remote, `/inbox/box-1/${o1!.name}`), 'full\n1;350\n2;175\n', 'the very bytes');
    assert.equal(readFileSync(o1!.archived, 'utf8'), 'full\n1;350\n2;175\n');
    assert.match(o1!.archived, /archive\/prices-out\/\d{4}-\d{2}-\d{2}\/box-1_goods-00000001-/);
    assert.deepEqual(e.bo.acked, ['box-1', 'box-2']);
    // what cfx fleet compares each terminal's applied catalog with: the name and the sha256 of the uploaded bytes
    const sha = createHash('sha256').update('full\n1;350\n2;175\n').digest('hex');
    assert.deepEqual([e.store.fleet.published('box-1')?.name, e.store.fleet.published('box-1')?.sha256, e.store.fleet.published('box-2')?.name], [o1!.name, sha, o2!.name]);
    assert.deepEqual(readdirSync(join(e.config.dataDir, 'staging')), []);
    const again = await e.job().cycle();
    assert.deepEqual([again.exports, again.published], [0, 0]);
  });

  it('acknowledged only once on the server; a failure before the acknowledgement publishes again under the same name (the same publish)', async () => {
    const e = env();
    e.bo.files.set('box-1', 'full\n1;350\n');
    e.bo.failAck = 1;
    const first = await e.job().cycle().catch((err: Error) => err);
    assert.match(String(first), /not writable/);
    assert.deepEqual(e.bo.acked, []);
    const name = (await names(e.remote, '/inbox/box-1'))[0]!;
    // the terminal applied and removed it meanwhile; the re-publish writes it again under the same name (its inbox log skips it)
    await e.remote.delete(`/inbox/box-1/${name}`);
    const r = await e.job().cycle();
    assert.equal((r.outcomes[0] as { name: string }).name, name);
    assert.deepEqual(await names(e.remote, '/inbox/box-1'), [name]);
    assert.deepEqual(e.bo.acked, ['box-1']);
    // new content: the next number, so an offline terminal applies the files in publish order
    e.bo.files.set('box-1', 'delta\n1;360\n');
    const next = await e.job().cycle();
    assert.match((next.outcomes[0] as { name: string }).name, /^goods-00000002-/);
    assert.ok((next.outcomes[0] as { name: string }).name > name);
  });

  it('a broken file is quarantined with line and field, not uploaded, not acknowledged, and quarantined once; the other terminal goes on', async () => {
    const e = env();
    e.bo.files.set('box-1', 'full\n1;350\n2;1,75\n');
    e.bo.files.set('box-2', 'full\n3;20\n');
    const r = await e.job().cycle();
    assert.deepEqual(r.outcomes.map((o) => [o.terminal, o.result]), [['box-1', 'quarantined'], ['box-2', 'published']]);
    const q = r.outcomes[0] as { reason: Record<string, unknown>; quarantined: string };
    assert.deepEqual([q.reason.file, q.reason.line, q.reason.field, q.reason.terminal], ['goods-box-1.txt', 3, 'price', 'box-1']);
    assert.equal(readFileSync(q.quarantined, 'utf8'), 'full\n1;350\n2;1,75\n');
    assert.equal(JSON.parse(readFileSync(`${q.quarantined}.reason.json`, 'utf8')).line, 3);
    assert.deepEqual(await names(e.remote, '/inbox/box-1'), []);
    assert.deepEqual(e.bo.acked, ['box-2']);
    assert.deepEqual(e.store.listQuarantine().map((x) => [x.job, x.fileName]), [[PUBLISH_JOB, 'goods-box-1.txt']]);
    const again = await e.job().cycle();
    assert.deepEqual(again.outcomes.map((o) => o.result), ['rejected-before']);
    assert.equal(e.store.listQuarantine().length, 1, 'not quarantined twice');
    e.bo.files.set('box-1', 'full\n1;350\n2;175\n');
    assert.deepEqual((await e.job().cycle()).outcomes.map((o) => o.result), ['published'], 'a corrected file is published');
  });

  it('converts to the terminals\' prices.format when the export is in another one', async () => {
    const e = env('eq');
    e.bo.files.set('box-1', 'full\n1;350\n');
    const r = await e.job().cycle();
    const o = r.outcomes[0] as { name: string; converted: boolean };
    assert.equal(o.converted, true);
    assert.match(o.name, /\.eq$/);
    assert.equal(await remoteText(e.remote, `/inbox/box-1/${o.name}`), 'full\n1=350\n');
  });

  it('a file that breaks half-way through its conversion is quarantined naming the source line; no part of it is uploaded', async () => {
    const e = env('eq');
    e.bo.files.set('box-1', 'full\n1;350\n2;175\n3;x\n4;20\n');
    const r = await e.job().cycle();
    const q = r.outcomes[0] as { result: string; reason: Record<string, unknown> };
    assert.equal(q.result, 'quarantined');
    assert.deepEqual([q.reason.file, q.reason.line, q.reason.field], ['goods-box-1.txt', 4, 'price']);
    assert.deepEqual(await names(e.remote, '/inbox/box-1'), []);
    assert.deepEqual(e.bo.acked, []);
  });

  it('a network failure on one terminal does not stop the others; it is thrown at the end and nothing of it is acknowledged', async () => {
    const e = env();
    e.bo.files.set('box-1', 'full\n1;350\n');
    e.bo.files.set('box-2', 'full\n2;10\n');
    const flaky = new MemoryTransport(`publish-${n}`);
    const write = flaky.write.bind(flaky);
    flaky.write = async (path, data, o) => {
      if (path.includes('/box-1/')) throw new TransportError('Unavailable', 'connection reset', { path });
      return write(path, data, o);
    };
    await assert.rejects(e.job(flaky).cycle(), /connection reset/);
    assert.deepEqual(e.bo.acked, ['box-2']);
    assert.ok(!existsSync(join(e.config.dataDir, 'quarantine')), 'a network error is no reason to quarantine');
  });

  it('an export that fails while it is read (made on the fly from several files) is quarantined naming the file and line it failed in, once', async () => {
    const e = env();
    let acked = 0;
    const broken: BackOfficeExport = {
      terminal: 'box-1',
      fileName: 'import.xml+offers.xml',
      formatId: 'lines',
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('full\n1;350\n');
            throw new FormatError('malformed XML: unclosed tag', { file: 'import.xml', line: 17, field: 'Товар' });
          })(),
        ),
      ack: async () => void acked++,
    };
    e.bo.pendingExports = async () => [broken];
    const r = await e.job().cycle();
    assert.deepEqual([r.exports, r.published, r.quarantined], [1, 0, 1]);
    const o = r.outcomes[0] as Extract<(typeof r.outcomes)[number], { result: 'quarantined' }>;
    assert.deepEqual([o.reason.file, o.reason.line, o.reason.field, o.reason.source], ['import.xml', 17, 'Товар', 'import.xml+offers.xml']);
    assert.ok(existsSync(o.quarantined) && existsSync(`${o.quarantined}.reason.json`));
    assert.equal(acked, 0);
    assert.deepEqual(await names(e.remote, '/inbox/box-1'), [], 'nothing uploaded');
    assert.deepEqual((await e.job().cycle()).outcomes.map((x) => x.result), ['rejected-before']);
    assert.equal(e.store.listQuarantine().length, 1, 'not quarantined twice');
  });

  it('X, then Y, then X again: three publishes under three names, numbered in publish order; the third carries X\'s bytes', async () => {
    const e = env();
    const published: Published[] = [];
    for (const content of [X, Y, X]) {
      e.bo.files.set('box-1', content);
      published.push(await publishOnce(e));
    }
    const [x1, y, x2] = published as [Published, Published, Published];
    assert.deepEqual(published.map((o) => seqOf(o.name)), [1, 2, 3]);
    assert.equal(new Set(published.map((o) => o.name)).size, 3, 'no name used twice');
    assert.equal(x2.sha256, x1.sha256, 'the same content…');
    assert.notEqual(x2.name, x1.name, '…is a new publish all the same');
    // a terminal that was offline meanwhile finds them in publish order and ends at X
    const inbox = await names(e.remote, '/inbox/box-1');
    assert.deepEqual(inbox, [x1.name, y.name, x2.name]);
    assert.equal(await remoteText(e.remote, `/inbox/box-1/${inbox.at(-1)}`), X);
    assert.deepEqual(published.map((o) => o.resumed), [false, false, false]);
    assert.deepEqual(e.bo.acked, ['box-1', 'box-1', 'box-1']);
  });

  it('one counter for the office: numbers go on across terminals and across a restart', async () => {
    const e = env();
    e.bo.files.set('box-1', X);
    e.bo.files.set('box-2', X);
    const first = await e.job().cycle();
    assert.deepEqual(first.outcomes.map((o) => seqOf((o as Published).name)), [1, 2]);
    e.store.close();
    const reopened = Store.open(e.config.dataDir);
    try {
      e.bo.files.set('box-1', X);
      const r = await e.job(e.remote, reopened).cycle();
      assert.equal(seqOf((r.outcomes[0] as Published).name), 3);
    } finally {
      reopened.close();
    }
  });

  for (const point of ['office.publish:recorded', 'office.publish:uploaded-temp', 'office.publish:renamed'] as const) {
    it(`interrupted at ${point}: the back office offers it again and it goes out under its recorded name, one file on the server, acknowledged once`, async () => {
      const e = env();
      e.bo.files.set('box-1', X);
      await cycleCrashingAt(e, point);
      assert.deepEqual(e.bo.acked, []);
      const again = await publishOnce(e);
      assert.equal(again.name, 'goods-00000001-' + again.sha256.slice(0, 12) + '.txt');
      assert.equal(again.resumed, true);
      assert.deepEqual(await names(e.remote, '/inbox/box-1'), [again.name], 'one file, no temp file left');
      assert.equal(await remoteText(e.remote, `/inbox/box-1/${again.name}`), X);
      assert.deepEqual(e.bo.acked, ['box-1']);
      // acknowledged: the record is closed, and the same bytes once more are a new publish
      e.bo.files.set('box-1', X);
      const next = await publishOnce(e);
      assert.deepEqual([seqOf(next.name), next.resumed], [2, false]);
    });
  }

  it('a rename that fails leaves a temp file; the next run overwrites it and renames it to the same name', async () => {
    const e = env();
    e.bo.files.set('box-1', X);
    const flaky = new MemoryTransport(`publish-${n}`);
    flaky.rename = async (from) => {
      throw new TransportError('Unavailable', 'connection reset', { path: from });
    };
    await assert.rejects(e.job(flaky).cycle(), /connection reset/);
    const left = await names(e.remote, '/inbox/box-1');
    assert.equal(left.length, 1);
    assert.match(left[0]!, /^\.goods-00000001-.*\.part$/);
    const again = await publishOnce(e);
    assert.deepEqual([seqOf(again.name), again.resumed], [1, true]);
    assert.deepEqual(await names(e.remote, '/inbox/box-1'), [again.name]);
    assert.deepEqual(e.bo.acked, ['box-1']);
  });

  it('interrupted after the acknowledgement: the back office no longer offers it, so its record is closed and the same bytes later are a new publish', async () => {
    const e = env();
    e.bo.files.set('box-1', X);
    await cycleCrashingAt(e, 'office.publish:acked');
    assert.deepEqual(e.bo.acked, ['box-1']);
    const quiet = await e.job().cycle();
    assert.deepEqual([quiet.exports, quiet.published], [0, 0]);
    e.bo.files.set('box-1', X);
    const next = await publishOnce(e);
    assert.deepEqual([seqOf(next.name), next.resumed], [2, false]);
    assert.equal((await names(e.remote, '/inbox/box-1')).length, 2);
  });

  it('an unacknowledged publish superseded by new content is not resumed: the new content gets the next number', async () => {
    const e = env();
    e.bo.files.set('box-1', X);
    e.bo.failAck = 1;
    await assert.rejects(e.job().cycle(), /not writable/);
    e.bo.files.set('box-1', Y);
    const y = await publishOnce(e);
    assert.deepEqual([seqOf(y.name), y.resumed], [2, false]);
    // the file of the first publish stays: a terminal applies X, then Y
    assert.deepEqual((await names(e.remote, '/inbox/box-1')).map(seqOf), [1, 2]);
  });

  it('drops the content → name map of earlier versions and does not re-use its names', async () => {
    const e = env();
    e.store.kvSet('publish.seq', '1');
    e.store.kvSet('publish.name.box-1.0123abcd', 'goods-00000001-0123abcd0123.txt');
    e.bo.files.set('box-1', X);
    const o = await publishOnce(e);
    assert.equal(seqOf(o.name), 2);
    assert.equal(e.store.kvGet('publish.name.box-1.0123abcd'), undefined);
    assert.equal(e.store.kvGet('publish.seq'), '2');
  });
});
