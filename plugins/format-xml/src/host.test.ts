// Through the real plugin host (manifest, config checked against configSchema.xml, lazy activation):
// a terminal pulls a CommerceML package and uploads a sale as a Документ; the office collects it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createTestHost, SAMPLE_SALES } from '@cfx/core/testing';
import { createXmlFormat } from './index.js';
import { combined, fixture, JOINED } from './test-support.js';

const baseDir = fileURLToPath(new URL('../../../', import.meta.url));

it('terminal: pulls import+offers as one xml price file, uploads sales as CommerceML documents', async () => {
  const h = await createTestHost({ baseDir, config: { prices: { format: 'xml', options: { priceType: 'Розничная' } }, sales: { format: 'xml', options: { currency: 'RUB' } } } });
  try {
    await h.put(`${h.inbox}/catalog.xml`, await combined(fixture('import.xml'), fixture('offers.xml')));
    const [pulled] = await h.pull();
    assert.equal(pulled!.result, 'applied');
    assert.equal(pulled!.mode, 'full');
    assert.equal(pulled!.records, 2);
    const cat = (await h.cli(['catalog', '--json'])).json<{ items: { code: string; name: string; price: string; stock: string; barcodes: string[] }[] }>();
    assert.deepEqual(cat.items.map((p) => [p.code, p.name, p.price, p.stock, p.barcodes]), JOINED.map((p) => [p.code, p.name, (p.price / 100).toFixed(2), (p.stock! / 1000).toFixed(3), p.barcodes]));
    const [rec] = h.recordSale({ saleId: 'S1', time: '2025-03-15T10:00:00+03:00', kind: 'sale', lines: [{ code: JOINED[0]!.code, qty: '2', price: '350.00', amount: '700.00' }], payments: [{ kind: 'cash', amount: '700.00' }] });
    assert.equal(rec!.status, 'recorded');
    const pushed = await h.push();
    assert.deepEqual(pushed.names, ['box-1_S1.xml']);
    const doc = (await h.get(`${h.salesDir}/box-1_S1.xml`)).toString('utf8');
    assert.match(doc, /ВерсияСхемы="2\.08"/);
    assert.match(doc, /<Количество>2<\/Количество><Сумма>700\.00<\/Сумма>/);
  } finally {
    await h.close();
  }
});

it('terminal: a config with an option the xml format does not know is refused by the host', async () => {
  await assert.rejects(createTestHost({ baseDir, config: { prices: { format: 'xml', options: { priceTyp: 'x' } } } }), (e: unknown) => (e as { code?: string }).code === 'CFX_E_CONFIG_INVALID' && /did you mean "priceType"/.test(String((e as Error).message)));
});

it('office: collects CommerceML sale files and decodes every sale', async () => {
  const h = await createTestHost({ baseDir, config: { role: 'office', terminals: ['box-1'], sales: { format: 'xml' } } });
  try {
    const f = createXmlFormat();
    for (const s of SAMPLE_SALES) await h.put(`${h.salesDir}/box-1_${s.saleId}.xml`, f.encodeSale!(s, { options: {} }));
    const r = await h.collect();
    assert.equal(r.collect.stored, SAMPLE_SALES.length);
    assert.equal(r.collect.quarantined, 0);
  } finally {
    await h.close();
  }
});
