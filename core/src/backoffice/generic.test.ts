import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfxError, ErrorCodes, type Sale } from '../api/index.js';
import { parseConfig } from '../config/index.js';
import { PluginHost } from '../host/index.js';
import { silentLogger } from '../util/logger.js';
import { createGenericBackOffice, fixedDecimal, genericBackOfficeProvider, renderSalesCsv } from './generic.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-generic-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `out${++n}`);

const sale1: Sale = {
  saleId: 'S000001',
  terminalId: 'box-1',
  shift: 7,
  receiptNo: 1,
  cashier: 'Олена',
  time: '2025-03-15T10:01:00+02:00',
  kind: 'sale',
  lines: [
    { code: '1', barcode: '4820000000011', name: 'Квиток дорослий', qty: 2000, price: 35000, amount: 70000 },
    { code: '2', name: 'Програмка; "нова"', qty: 250, price: 2000, amount: 450, discount: 50 },
  ],
  payments: [{ kind: 'card', amount: 70450 }],
  total: 70450,
};
const ret: Sale = {
  saleId: 'S000002',
  terminalId: 'box-1',
  time: '2025-03-15T11:00:00+02:00',
  kind: 'return',
  lines: [{ code: '1', qty: -1000, price: 35000, amount: -35000 }],
  payments: [{ kind: 'cash', amount: -35000 }],
  total: -35000,
};
const empty: Sale = { saleId: 'S000003', terminalId: 'box-1', time: '2025-03-15T12:00:00+02:00', kind: 'cancel', lines: [], payments: [], total: 0 };

const EXPECTED =
  '\ufeff' +
  [
    'terminal;saleId;time;kind;shift;receiptNo;cashier;code;barcode;name;qty;price;discount;amount;saleTotal',
    'box-1;S000001;2025-03-15T10:01:00+02:00;sale;7;1;Олена;1;4820000000011;Квиток дорослий;2.000;350.00;0.00;700.00;704.50',
    'box-1;S000001;2025-03-15T10:01:00+02:00;sale;7;1;Олена;2;;"Програмка; ""нова""";0.250;20.00;0.50;4.50;704.50',
    'box-1;S000002;2025-03-15T11:00:00+02:00;return;;;;1;;;-1.000;350.00;0.00;-350.00;-350.00',
    'box-1;S000003;2025-03-15T12:00:00+02:00;cancel;;;;;;;;;;;0.00',
  ].join('\r\n') +
  '\r\n';

describe('generic back office', () => {
  it('fixedDecimal is exact, with sign and leading zeros', () => {
    assert.equal(fixedDecimal(35000, 2), '350.00');
    assert.equal(fixedDecimal(5, 2), '0.05');
    assert.equal(fixedDecimal(-5, 2), '-0.05');
    assert.equal(fixedDecimal(1000, 3), '1.000');
    assert.equal(fixedDecimal(250, 3), '0.250');
    assert.equal(fixedDecimal(0, 2), '0.00');
    assert.equal(fixedDecimal(7, 0), '7');
    assert.throws(() => fixedDecimal(1.5, 2), CfxError);
  });

  it('writes one file per batch with the exact content: BOM, header, one row per line, decimals as strings', async () => {
    const out = fresh();
    const bo = createGenericBackOffice({ outDir: out });
    await bo.deliverSales!('box-1', [sale1, ret, empty], { batchId: '20250315T100000Z-000001' });
    assert.deepEqual(readdirSync(out), ['sales-box-1-20250315T100000Z-000001.csv']);
    const bytes = readFileSync(join(out, 'sales-box-1-20250315T100000Z-000001.csv'));
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    assert.equal(bytes.toString('utf8'), EXPECTED);
    assert.equal(renderSalesCsv('box-1', [sale1, ret, empty]), EXPECTED);
  });

  it('the same batch delivered twice is the same single file, byte-identical; another batch is another file', async () => {
    const out = fresh();
    const bo = createGenericBackOffice({ outDir: out });
    await bo.deliverSales!('box-1', [sale1], { batchId: 'B1' });
    const first = readFileSync(join(out, 'sales-box-1-B1.csv'));
    await bo.deliverSales!('box-1', [sale1], { batchId: 'B1' });
    assert.deepEqual(readdirSync(out), ['sales-box-1-B1.csv'], 'no second file, no temp file left');
    assert.ok(readFileSync(join(out, 'sales-box-1-B1.csv')).equals(first));
    await bo.deliverSales!('box-1', [ret], { batchId: 'B2' });
    assert.deepEqual(readdirSync(out).sort(), ['sales-box-1-B1.csv', 'sales-box-1-B2.csv']);
  });

  it('without a batch id (older callers) the file name is derived from the sales, so a repeat still overwrites', async () => {
    const out = fresh();
    const bo = createGenericBackOffice({ outDir: out });
    await bo.deliverSales!('box-1', [sale1, ret]);
    await bo.deliverSales!('box-1', [sale1, ret]);
    const files = readdirSync(out);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^sales-box-1-h[0-9a-f]{20}\.csv$/);
  });

  it('creates outDir, resolves a relative one against the base dir, and refuses names that could escape it', async () => {
    const base = fresh();
    const bo = genericBackOfficeProvider(base).create({ outDir: './nested/out' }) as ReturnType<typeof createGenericBackOffice>;
    await bo.deliverSales!('box-2', [empty], { batchId: 'X' });
    assert.deepEqual(readdirSync(join(base, 'nested', 'out')), ['sales-box-2-X.csv']);
    await assert.rejects(bo.deliverSales!('../evil', [empty], { batchId: 'X' }), (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.UNSAFE_NAME);
    await assert.rejects(bo.deliverSales!('box-2', [empty], { batchId: 'a/b' }), (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.UNSAFE_NAME);
    assert.throws(() => createGenericBackOffice({} as never), /outDir/);
  });

  it('is contributed by core with an option schema: outDir required, unknown keys rejected', async () => {
    const host = PluginHost.discover({ logger: silentLogger(), dataDir: fresh(), baseDir: root, builtins: [] });
    const s = host.schemas();
    assert.ok(s.knownBackoffices.includes('generic'));
    assert.deepEqual((s.backoffices.generic as { required: string[] }).required, ['outDir']);
    assert.equal(host.ownerOf('backoffice', 'generic'), 'core');
    const bo = await host.backoffice('generic', { outDir: 'host-out' });
    await bo.deliverSales!('box-1', [empty], { batchId: 'H1' });
    assert.deepEqual(readdirSync(join(root, 'host-out')), ['sales-box-1-H1.csv'], 'relative to the host baseDir (the config file dir)');
    const problems = (yaml: string) => {
      try {
        parseConfig(yaml, { baseDir: root, env: {}, pluginSchemas: { ...s, knownFormats: undefined } });
        return [];
      } catch (e) {
        return ((e as CfxError).details.problems as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
      }
    };
    const office = 'role: office\nserver: memory://x\n';
    assert.deepEqual(problems(office), ['backoffice.options.outDir: is required'], 'the default back office needs its folder');
    assert.deepEqual(problems(office + 'backoffice: { use: generic, options: { outDir: ./out, extra: 1 } }\n'), ['backoffice.options.extra: unknown key "extra"']);
    assert.deepEqual(problems(office + 'backoffice: { use: generic, options: { outDir: ./out } }\n'), []);
  });
});
