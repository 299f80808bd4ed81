import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, isCfxError, type BackOfficeExport, type Product } from '@cfx/core/api';
import { createXmlFormat } from '@cfx/format-xml';
import { createOneCBackOffice, type OneCOptions } from './adapter.js';
import type { CommerceMLOptions } from './commerceml.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/commerceml/${name}`, import.meta.url));
const IMPORT = fixture('import.xml');
const OFFERS = fixture('offers.xml');
const root = mkdtempSync(join(tmpdir(), 'cfx-1c-cml-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function setup(cml: Partial<CommerceMLOptions> = {}, extra: Partial<OneCOptions> = {}) {
  const base = join(root, `c${++n}`);
  const bo = createOneCBackOffice({ exchangeDir: './1c/{terminal}', commerceml: { dir: './webdata', stableMs: 0, ...cml }, ...extra }, { baseDir: base });
  const web = (t?: string) => join(base, t ? `webdata-${t}` : 'webdata');
  return { base, bo, web, exports: (terminals = ['box-1', 'box-2']) => bo.pendingExports!({ terminals }) };
}

function export1C(dir: string, names: [string, string] = ['import.xml', 'offers.xml'], imp: Buffer = IMPORT): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, names[0]), imp);
  writeFileSync(join(dir, names[1]), OFFERS);
}

async function productsOf(e: BackOfficeExport): Promise<Product[]> {
  const d = await createXmlFormat(e.formatOptions).decodePrices!(e.open(), { fileName: e.fileName, options: {} });
  const out: Product[] = [];
  for await (const r of d.records) if (r.op === 'upsert') out.push(r.product);
  return out;
}

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('1c back office: CommerceML exports (commerceml:)', () => {
  it('one folder feeds every terminal: import.xml + offers.xml combined, moved to processed/ only after the last terminal acknowledged', async () => {
    const s = setup();
    export1C(s.web());
    const ex = await s.exports();
    assert.deepEqual(ex.map((e) => [e.terminal, e.fileName, e.formatId]), [['box-1', 'import.xml+offers.xml', 'xml'], ['box-2', 'import.xml+offers.xml', 'xml']]);
    const p = await productsOf(ex[0]!);
    assert.deepEqual(p.map((x) => [x.name, x.price, x.stock, x.barcodes, x.groupCode]), [
      ['Билет взрослый', 35000, 120000, ['4601234567893'], '9b000000-0000-4000-8000-000000000100'],
      ['Билет детский', 17550, 40000, ['4601234567800'], '9b000000-0000-4000-8000-000000000100'],
    ]);
    await ex[0]!.ack();
    assert.deepEqual(ls(s.web()).filter((f) => f.endsWith('.xml')), ['import.xml', 'offers.xml'], 'box-2 has no copy yet: 1C\'s files stay');
    await ex[1]!.ack();
    assert.deepEqual(ls(s.web()).filter((f) => !f.startsWith('.')), ['processed']);
    const done = ls(join(s.web(), 'processed'));
    assert.equal(done.length, 2);
    assert.match(done[0]!, /^\d{4}-\d{2}-\d{2}T.*_import\.xml$/);
    assert.match(done[1]!, /_offers\.xml$/);
    assert.ok(readFileSync(join(s.web(), 'processed', done[0]!)).equals(IMPORT), 'moved, not rewritten');
    assert.deepEqual(await s.exports(), [], 'nothing new: nothing to publish');
  });

  it('pairs import0_1.xml with offers0_1.xml (any case); a catalog without its offers waits; {terminal} gives a folder per terminal', async () => {
    const s = setup({ dir: './webdata-{terminal}' });
    export1C(s.web('box-1'), ['IMPORT0_1.xml', 'offers0_1.xml']);
    mkdirSync(s.web('box-2'), { recursive: true });
    writeFileSync(join(s.web('box-2'), 'import0_1.xml'), IMPORT);
    let ex = await s.exports();
    assert.deepEqual(ex.map((e) => [e.terminal, e.fileName]), [['box-1', 'IMPORT0_1.xml+offers0_1.xml']]);
    await ex[0]!.ack();
    assert.equal(ls(join(s.web('box-1'), 'processed')).length, 2);
    writeFileSync(join(s.web('box-2'), 'offers0_1.xml'), OFFERS);
    ex = await s.exports();
    assert.deepEqual(ex.map((e) => [e.terminal, e.fileName]), [['box-2', 'import0_1.xml+offers0_1.xml']]);
    assert.equal((await productsOf(ex[0]!)).length, 2);
  });

  it('with flagFile: taken only when the flag exists; the flag goes with the files', async () => {
    const s = setup({ flagFile: 'export.done' });
    export1C(s.web());
    assert.deepEqual(await s.exports(), []);
    writeFileSync(join(s.web(), 'export.done'), '');
    const ex = await s.exports(['box-1']);
    assert.equal(ex.length, 1);
    await ex[0]!.ack();
    assert.deepEqual(ls(s.web()).filter((f) => !f.startsWith('.')), ['processed']);
  });

  it('without a flag: a pair still being written (size or mtime changing) is not taken', async () => {
    const s = setup({ stableMs: 1500 });
    export1C(s.web());
    // 1C is still appending to offers.xml while the adapter waits
    const grow = setTimeout(() => writeFileSync(join(s.web(), 'offers.xml'), Buffer.concat([OFFERS, Buffer.from('\n')])), 100);
    try {
      assert.deepEqual(await s.exports(['box-1']), []);
    } finally {
      clearTimeout(grow);
    }
    assert.equal((await s.exports(['box-1'])).length, 1, 'unchanged since: taken');
  });

  it('a broken import.xml is handed over once, as itself (the core quarantines it naming file and line), never acknowledged; 1C\'s files stay', async () => {
    const s = setup();
    const text = IMPORT.toString('utf8');
    const broken = Buffer.from(text.replace('<Артикул>T-CHILD</Артикул>', '<Артикул>T-CHILD</Артикулл>'));
    const line = text.split('\n').findIndex((l) => l.includes('T-CHILD')) + 1;
    export1C(s.web(), ['import.xml', 'offers.xml'], broken);
    const ex = await s.exports();
    assert.deepEqual(ex.map((e) => [e.terminal, e.fileName, e.formatId]), [['box-1', 'import.xml', 'xml']], 'once, for the first terminal');
    assert.ok(Buffer.concat(await ex[0]!.open().toArray()).equals(broken), 'the broken file itself');
    await assert.rejects(productsOf(ex[0]!), (e: unknown) => e instanceof FormatError && e.location.file === 'import.xml' && e.location.line === line);
    await assert.rejects(ex[0]!.ack(), (e: unknown) => isCfxError(e));
    assert.deepEqual(ls(s.web()).filter((f) => f.endsWith('.xml')), ['import.xml', 'offers.xml']);
    assert.ok(readFileSync(join(s.web(), 'import.xml')).equals(broken), 'untouched');
    assert.equal((await s.exports()).length, 1, 'still broken: handed over again (the core sees it was quarantined before)');
    writeFileSync(join(s.web(), 'import.xml'), IMPORT);
    assert.equal((await s.exports()).length, 2, 'fixed by 1C: published');
  });

  it('not moved when 1C rewrote the files meanwhile; a move a crash interrupted is finished on the next poll', async () => {
    const s = setup();
    export1C(s.web());
    const ex = await s.exports(['box-1']);
    writeFileSync(join(s.web(), 'offers.xml'), Buffer.concat([OFFERS, Buffer.from('\n\n')]));
    await assert.rejects(ex[0]!.ack(), (e: unknown) => isCfxError(e) && /rewrote/.test((e as Error).message));
    assert.deepEqual(ls(s.web()).filter((f) => f.endsWith('.xml')), ['import.xml', 'offers.xml']);
    // a crash after the journal was written and the first file moved
    mkdirSync(join(s.web(), 'processed'), { recursive: true });
    mkdirSync(join(s.web(), '.cfx'), { recursive: true });
    const moves = ['import.xml', 'offers.xml'].map((f) => ({ from: join(s.web(), f), to: join(s.web(), 'processed', `x_${f}`) }));
    writeFileSync(join(s.web(), '.cfx', 'commerceml-ack.json'), JSON.stringify({ moves }));
    writeFileSync(moves[0]!.to, IMPORT);
    rmSync(moves[0]!.from);
    assert.deepEqual(await s.exports(['box-1']), []);
    assert.deepEqual(ls(join(s.web(), 'processed')), ['x_import.xml', 'x_offers.xml']);
    assert.ok(!existsSync(join(s.web(), '.cfx', 'commerceml-ack.json')));
  });

  it('refuses options that cannot work, when created', () => {
    const bad = (cml: Record<string, unknown>) => assert.throws(() => createOneCBackOffice({ exchangeDir: './x/{terminal}', commerceml: cml as unknown as CommerceMLOptions }), (e: unknown) => isCfxError(e) && (e as { code: string }).code === 'CFX_E_CONFIG_INVALID', JSON.stringify(cml));
    bad({});
    bad({ dir: 'w', importFile: 'a/import.xml' });
    bad({ dir: 'w', offersFile: 'o**.xml' });
    bad({ dir: 'w', stableMs: -1 });
    bad({ dir: 'w', format: { encoding: 'koi8-u' } });
  });
});
