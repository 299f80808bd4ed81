// Whole-system test of the office publishing 1C's CommerceML export (import.xml + offers.xml in a
// folder, the `commerceml:` option of the `1c` back office) over a real vsftpd: cfx publish combines
// the pair, converts it to the terminals' format (csv), uploads it to each terminal's inbox, and
// moves 1C's files to processed/ once every upload succeeded; a terminal pulls it. A broken export
// is quarantined naming the file and line, and 1C's files stay where they are.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, silentLogger } from '@cfx/core';
import { realServers, freshRemoteDir, namesIn, onServer, type ServersEnv } from './helpers/servers.js';
import { runCli } from './helpers/cli.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

const fixture = (name: string) => readFileSync(new URL(`../../plugins/backoffice-1c/fixtures/commerceml/${name}`, import.meta.url));
const IMPORT = fixture('import.xml');
const OFFERS = fixture('offers.xml');
const ID1 = '5e000000-0000-4000-8000-000000000001';
const ID2 = '5e000000-0000-4000-8000-000000000002';

interface Deployment {
  dir: string;
  config: string;
}

const cli = (d: Deployment, ...args: string[]) => runCli([...args, '-c', d.config], { cwd: d.dir });
const ls = (dir: string) => namesIn(dir);

describe('office publishes a 1C CommerceML export folder (real vsftpd)', { skip }, () => {
  let office: Deployment;
  let box: Deployment;
  let base: string;
  let webdata: string;

  before(() => {
    base = freshRemoteDir('office-cml');
    office = { dir: mkdtempSync(join(tmpdir(), 'cfx-office-cml-')), config: '' };
    office.config = join(office.dir, 'cfx.yaml');
    webdata = join(office.dir, '1c', 'webdata');
    writeFileSync(
      office.config,
      `role: office
terminals: [box-1, box-2]
dataDir: ./data
server: ${env.ftpUrl}
timeout: 10s
prices: { dir: "${base}/{terminal}", format: csv }
sales: { dir: ${base}/sales, format: csv }
backoffice:
  use: 1c
  options:
    exchangeDir: ./1c/{terminal}
    commerceml: { dir: ./1c/webdata, importFile: "import*.xml", offersFile: "offers*.xml", stableMs: 300, format: { priceType: Розничная } }
log: { level: info, file: ./cfx.log }
`,
    );
    box = { dir: mkdtempSync(join(tmpdir(), 'cfx-box-cml-')), config: '' };
    box.config = join(box.dir, 'cfx.yaml');
    writeFileSync(
      box.config,
      `role: terminal
terminal: box-1
dataDir: ./data
server: ${env.ftpUrl}
timeout: 10s
prices: { dir: "${base}/{terminal}", format: csv, poll: 200ms }
sales: { dir: ${base}/sales, format: csv }
log: { level: info, file: ./cfx.log }
`,
    );
  });

  it('1C\'s import0_1.xml + offers0_1.xml → both inboxes (as csv) → moved to processed/; the terminal\'s catalog has both products', async () => {
    mkdirSync(webdata, { recursive: true });
    writeFileSync(join(webdata, 'import0_1.xml'), IMPORT);
    writeFileSync(join(webdata, 'offers0_1.xml'), OFFERS);
    const r = await cli(office, 'publish', '--json');
    assert.equal(r.code, 0, r.err + r.out);
    const j = r.json();
    assert.deepEqual([j.exports, j.published, j.quarantined], [2, 2, 0]);
    for (const o of j.outcomes) {
      assert.deepEqual([o.result, o.source, o.mode, o.records, o.converted], ['published', 'import0_1.xml+offers0_1.xml', 'full', 2, true]);
      assert.match(o.name, /^goods-\d{8}-[0-9a-f]{12}\.csv$/);
      assert.deepEqual(onServer(`${base}/${o.terminal}`, env), [o.name], `${o.terminal}: the file, no temp name left`);
    }
    // acknowledged the CommerceML way: 1C's files moved aside, only after both uploads
    assert.deepEqual(ls(webdata).filter((f) => !f.startsWith('.')), ['processed']);
    const done = ls(join(webdata, 'processed'));
    assert.equal(done.length, 2);
    assert.ok(done[0]!.endsWith('_import0_1.xml') && done[1]!.endsWith('_offers0_1.xml'), done.join(', '));
    assert.ok(readFileSync(join(webdata, 'processed', done[1]!)).equals(OFFERS), 'moved as 1C wrote it');

    const pull = await cli(box, 'pull', '--json');
    assert.equal(pull.code, 0, pull.err + pull.out);
    assert.deepEqual(pull.json().files.map((f: { result: string; mode: string; records: number }) => [f.result, f.mode, f.records]), [['applied', 'full', 2]]);
    const cat = await cli(box, 'catalog', '--json');
    assert.deepEqual(cat.json().items.map((p: { code: string; name: string; price: string; stock: string }) => [p.code, p.name, p.price, p.stock]), [
      [ID1, 'Билет взрослый', '350.00', '120.000'],
      [ID2, 'Билет детский', '175.50', '40.000'],
    ]);
    // what the store holds: integer minor units and thousandths
    const app = App.open({ configFile: box.config, env: {}, store: 'ro', logger: silentLogger() });
    try {
      const p1 = app.store.getProduct(ID1)!;
      const p2 = app.store.getProduct(ID2)!;
      assert.deepEqual([p1.price, p1.stock, p1.barcodes], [35000, 120000, ['4601234567893']]);
      assert.deepEqual([p2.price, p2.stock, p2.barcodes], [17550, 40000, ['4601234567800']]);
    } finally {
      await app.close();
    }

    const again = await cli(office, 'publish', '--json');
    assert.equal(again.code, 0, again.err + again.out);
    assert.deepEqual([again.json().exports, again.json().published], [0, 0], 'nothing new: nothing published');
    assert.deepEqual(onServer(`${base}/box-2`, env).length, 1, 'box-2 got nothing more');
  });

  it('a broken import.xml is quarantined naming the file and line; 1C\'s files are left in place', async () => {
    const text = IMPORT.toString('utf8');
    // a mismatched end tag: the parser finds it on its own line
    const broken = text.replace('<Наименование>Билет детский</Наименование>', '<Наименование>Билет детский</Наименовани>');
    const line = text.split('\n').findIndex((l) => l.includes('Билет детский')) + 1;
    writeFileSync(join(webdata, 'import.xml'), broken);
    writeFileSync(join(webdata, 'offers.xml'), OFFERS);
    const r = await cli(office, 'publish', '--json');
    assert.equal(r.code, 3, 'exit 3: done, but input was quarantined; ' + r.err + r.out);
    const j = r.json();
    assert.deepEqual([j.exports, j.published, j.quarantined], [1, 0, 1]);
    const q = j.outcomes[0];
    assert.deepEqual([q.result, q.source, q.reason.file, q.reason.line, q.reason.code], ['quarantined', 'import.xml', 'import.xml', line, 'CFX_E_FORMAT_INVALID']);
    assert.ok(readFileSync(q.quarantined, 'utf8') === broken, 'the quarantined copy is the broken file');
    assert.deepEqual(ls(webdata).filter((f) => f.endsWith('.xml')), ['import.xml', 'offers.xml'], '1C\'s files stay');
    assert.equal(readFileSync(join(webdata, 'import.xml'), 'utf8'), broken, 'untouched');
    assert.equal(ls(join(webdata, 'processed')).length, 2, 'nothing more in processed/');
    assert.deepEqual(onServer(`${base}/box-1`, env), [], 'nothing uploaded (box-1 pulled the first one)');
    assert.equal(onServer(`${base}/box-2`, env).length, 1);

    const again = await cli(office, 'publish', '--json');
    assert.deepEqual([again.code, again.json().quarantined, again.json().outcomes[0].result], [0, 0, 'rejected-before'], 'not quarantined twice');
    const st = await cli(office, 'status', '--json');
    assert.equal(st.code, 0, st.err);
    assert.deepEqual(st.json().quarantine.files.map((f: { job: string; fileName: string }) => [f.job, f.fileName]), [['office.publish', 'import.xml']]);
  });
});
