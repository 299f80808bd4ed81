import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, isCfxError, type BackOfficeExport, type PriceRecord, type Product, type WaitingExport } from '@cfx/core/api';
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

  it('refuses options that cannot work: incompleteAfter', () => {
    for (const incompleteAfter of ['soon', '5 days', -1, 1.5]) {
      assert.throws(() => createOneCBackOffice({ exchangeDir: './x/{terminal}', commerceml: { dir: 'w', incompleteAfter } as CommerceMLOptions }), (e: unknown) => isCfxError(e) && /incompleteAfter/.test((e as Error).message), String(incompleteAfter));
    }
  });
});

// issue 17: the office's price type for every terminal, CommerceML versions, 1C УТ 11's split packages
const SPLIT_DIR = new URL('../fixtures/commerceml-split/', import.meta.url);
const SPLIT = readdirSync(SPLIT_DIR).sort();
const splitFile = (prefix: string) => SPLIT.find((f) => f.startsWith(prefix))!;
const P1 = '5e000000-0000-4000-8000-000000000011';
const P2 = '5e000000-0000-4000-8000-000000000012';
const P3 = '5e000000-0000-4000-8000-000000000013';
const RETAIL = '7c000000-0000-4000-8000-0000000000a1';

function exportSplit(dir: string, names = SPLIT): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names) cpSync(new URL(n, SPLIT_DIR), join(dir, n));
}

async function recordsOf(e: BackOfficeExport, options: Record<string, unknown> = {}): Promise<{ mode: string; records: PriceRecord[] }> {
  const d = await createXmlFormat(options).decodePrices!(e.open(), { fileName: e.fileName, options: {} });
  const records: PriceRecord[] = [];
  for await (const r of d.records) records.push(r);
  return { mode: d.mode, records };
}

async function failureOf(e: BackOfficeExport): Promise<FormatError> {
  try {
    await Buffer.concat(await e.open().toArray());
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw err;
  }
  return assert.fail('the export reads without an error');
}

/** waits and exports, collecting what the adapter says is waiting */
async function exportsWithWaiting(s: ReturnType<typeof setup>, terminals = ['box-1', 'box-2']) {
  const waiting: WaitingExport[] = [];
  const ex = await s.bo.pendingExports!({ terminals, onWaiting: (w) => waiting.push(w) });
  return { ex, waiting };
}

describe('1c back office: 1C УТ 11\'s split CommerceML packages and the office\'s price type', () => {
  it('import___ (classifier + two goods parts), offers___, prices___, rests___ with different GUIDs: one package, joined by offer Ид, retail prices', async () => {
    const s = setup({ format: { priceType: 'Розничная' } });
    exportSplit(s.web());
    const { ex, waiting } = await exportsWithWaiting(s);
    assert.deepEqual(waiting, []);
    assert.equal(ex.length, 2, 'one export per terminal');
    const order = ['import___1f6c', 'import___8a0e4c52-2222', 'import___8a0e4c52-3333', 'offers___', 'rests___', 'prices___'].map(splitFile);
    assert.deepEqual(ex.map((e) => [e.terminal, e.fileName, e.formatId]), [['box-1', order.join('+'), 'xml'], ['box-2', order.join('+'), 'xml']]);
    const { mode, records } = await recordsOf(ex[0]!);
    assert.equal(mode, 'delta', '1C\'s split export holds changes only');
    const got = records.flatMap((r) => (r.op === 'upsert' ? [r.product] : []));
    assert.equal(got.length, records.length, 'upserts only: no clear in a delta');
    assert.deepEqual(got.map((p) => [p.code, p.name, p.price, p.stock, p.barcodes, p.article, p.groupCode, p.taxGroup, p.unit, p.extras]), [
      [P1, 'Билет взрослый', 35000, 120000, ['4601234567893'], 'T-ADULT', '9b000000-0000-4000-8000-000000000100', 'Без налога', 'Штука', { okei: '796' }],
      [P2, 'Билет детский', 17550, 40000, ['4601234567800'], 'T-CHILD', '9b000000-0000-4000-8000-000000000100', '20', 'Штука', { okei: '796' }],
      [P3, 'Программка', 5000, 500000, ['2000000000015'], 'PROG', '9b000000-0000-4000-8000-000000000100', '20', 'Штука', { okei: '796' }],
    ]);
    for (const e of ex) await e.ack();
    assert.deepEqual(ls(s.web()).filter((f) => !f.startsWith('.')), ['processed']);
    assert.equal(ls(join(s.web(), 'processed')).length, 6, 'every part moved');
  });

  it('the office\'s priceType reaches an xml terminal: its document has only that price (without it, the first declared type, wholesale)', async () => {
    const s = setup({ format: { priceType: 'Розничная' } });
    exportSplit(s.web());
    const [e] = await s.exports(['box-1']);
    const doc = Buffer.concat(await e!.open().toArray()).toString('utf8');
    assert.doesNotMatch(doc, /300\.00|150\.00/, 'no wholesale price left for a terminal to take');
    // a terminal that reads xml with no options of its own
    assert.deepEqual((await recordsOf(e!)).records.flatMap((r) => (r.op === 'upsert' ? [r.product.price] : [])), [35000, 17550, 5000]);
    const plain = setup();
    exportSplit(plain.web());
    const [w] = await plain.exports(['box-1']);
    assert.deepEqual((await recordsOf(w!)).records.flatMap((r) => (r.op === 'upsert' ? [r.product.price] : [])), [30000, 15000], 'the first ТипЦены is Оптовая; the programme has no wholesale price');
  });

  it('the same for a pair: offers.xml with two price types, wholesale first; the terminal gets the configured retail one', async () => {
    const s = setup({ format: { priceType: 'Розничная' } });
    const offers = OFFERS.toString('utf8')
      .replace('<ТипыЦен>', '<ТипыЦен><ТипЦены><Ид>opt</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены>')
      .replaceAll('<Цены>', '<Цены><Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>1.00</ЦенаЗаЕдиницу></Цена>');
    mkdirSync(s.web(), { recursive: true });
    writeFileSync(join(s.web(), 'import.xml'), IMPORT);
    writeFileSync(join(s.web(), 'offers.xml'), offers);
    const [e] = await s.exports(['box-1']);
    assert.deepEqual((await recordsOf(e!)).records.flatMap((r) => (r.op === 'upsert' ? [r.product.price] : [])), [35000, 17550]);
  });

  it('a package without its prices___: no export; cfx publish is told which part is missing and since when; quarantined after incompleteAfter', async () => {
    const s = setup({ format: { priceType: 'Розничная' }, incompleteAfter: '30m' });
    exportSplit(s.web(), SPLIT.filter((f) => !f.startsWith('prices___')));
    const oldest = new Date('2025-03-14T09:05:01Z');
    utimesSync(join(s.web(), splitFile('import___1f6c')), new Date(), new Date());
    let r = await exportsWithWaiting(s);
    assert.deepEqual(r.ex, []);
    assert.deepEqual(r.waiting.map((w) => w.terminal), ['box-1', 'box-2']);
    assert.match(r.waiting[0]!.reason, /^CommerceML export incomplete: prices___\*\.xml missing/);
    assert.match(r.waiting[0]!.since!, /^\d{4}-\d{2}-\d{2}T/);
    // the oldest file is now half an hour old: quarantined (once: for the first terminal), 1C's files stay
    for (const f of ls(s.web())) if (f.endsWith('.xml')) utimesSync(join(s.web(), f), oldest, oldest);
    r = await exportsWithWaiting(s);
    assert.deepEqual(r.waiting, []);
    assert.deepEqual(r.ex.map((e) => e.terminal), ['box-1']);
    const err = await failureOf(r.ex[0]!);
    assert.match(err.message, /incomplete: prices___\*\.xml missing since 2025-03-14T09:05:01\.000Z/);
    assert.equal(err.location.field, 'prices___*.xml');
    await assert.rejects(r.ex[0]!.ack());
    assert.equal(ls(s.web()).filter((f) => f.endsWith('.xml')).length, 5);
    // the missing part arrives: the package is complete and published
    cpSync(new URL(splitFile('prices___'), SPLIT_DIR), join(s.web(), splitFile('prices___')));
    assert.equal((await s.exports()).length, 2);
  });

  it('packages are grouped by their catalog: another catalog\'s parts wait on their own; a pair without offers waits and says so', async () => {
    const s = setup({ format: { priceType: 'Розничная' } });
    exportSplit(s.web());
    const other = readFileSync(new URL(splitFile('offers___'), SPLIT_DIR), 'utf8').replaceAll('c2b00000-0000-4000-8000-0000000000c1', 'c2b00000-0000-4000-8000-0000000000c2');
    writeFileSync(join(s.web(), 'offers___99999999-0000-4000-8000-000000000099.xml'), other);
    writeFileSync(join(s.web(), 'import.xml'), IMPORT);
    const r = await exportsWithWaiting(s, ['box-1']);
    assert.deepEqual(r.ex.map((e) => e.fileName.split('+').length), [6]);
    assert.deepEqual(r.waiting.map((w) => [w.fileName, w.reason.replace(/ \(in .*/, '')]), [
      ['import.xml', 'CommerceML export incomplete: the offers file (offers*.xml) for import.xml missing'],
      ['offers___99999999-0000-4000-8000-000000000099.xml', 'CommerceML export incomplete: import___*.xml, prices___*.xml missing'],
    ]);
  });

  it('a price type referenced but not declared (no ТипыЦен anywhere) with priceType set: refused naming it; with its Ид it is found', async () => {
    const s = setup({ format: { priceType: 'Розничная' } });
    exportSplit(s.web());
    const cls = join(s.web(), splitFile('import___1f6c'));
    writeFileSync(cls, readFileSync(cls, 'utf8').replace(/<ТипыЦен>[\s\S]*<\/ТипыЦен>\r\n/, ''));
    const ex = await s.exports(['box-1']);
    assert.equal(ex.length, 1);
    const err = await failureOf(ex[0]!);
    assert.equal(err.location.field, 'ИдТипаЦены');
    assert.match(err.message, /price type "Розничная" is not declared .* the prices are of type "7c000000-0000-4000-8000-0000000000b2", "7c000000-0000-4000-8000-0000000000a1"/);
    const byId = setup({ format: { priceType: RETAIL } });
    exportSplit(byId.web());
    writeFileSync(join(byId.web(), splitFile('import___1f6c')), readFileSync(cls));
    assert.deepEqual((await recordsOf((await byId.exports(['box-1']))[0]!)).records.flatMap((r) => (r.op === 'upsert' ? [r.product.price] : [])), [35000, 17550, 5000]);
  });

  it('CommerceML 3 (urn:1C.ru:commerceml_3, ВерсияСхемы 3.1) is refused naming the namespace / version; the file itself is quarantined', async () => {
    for (const [from, to, field] of [['urn:1C.ru:commerceml_2', 'urn:1C.ru:commerceml_3', 'namespace'], ['ВерсияСхемы="2.07"', 'ВерсияСхемы="3.1"', 'ВерсияСхемы']] as const) {
      const s = setup();
      const imp = Buffer.from(IMPORT.toString('utf8').replace(from, to));
      export1C(s.web(), ['import.xml', 'offers.xml'], imp);
      const ex = await s.exports(['box-1']);
      assert.deepEqual(ex.map((e) => e.fileName), ['import.xml']);
      assert.ok(Buffer.concat(await ex[0]!.open().toArray()).equals(imp), 'the file as 1C wrote it');
      await assert.rejects(recordsOf(ex[0]!), (e: unknown) => e instanceof FormatError && e.location.field === field && e.code === 'CFX_E_FORMAT_UNSUPPORTED' && /2\.03–2\.10/.test(e.message));
    }
  });
});
