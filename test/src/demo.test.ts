// The one-command demo (`npm run demo`), run in-process: it must tell a true story.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import iconv from 'iconv-lite';
import { runDemo } from './demo/demo.js';

function captured(): { out: Writable; text: () => string } {
  let s = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      s += String(chunk);
      cb();
    },
  });
  return { out, text: () => s };
}

describe('npm run demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-demo-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('moves a 1C price file to the terminal: catalog, archive copy, empty inbox', async () => {
    const { out, text } = captured();
    const r = await runDemo({ out, dir });

    // the office file is what 1C writes: cp1251, CRLF, comma decimals
    assert.ok(r.officeFile.includes(Buffer.from('\r\n')), 'CRLF line ends');
    assert.ok(iconv.decode(r.officeFile, 'win1251').includes('1001;4820000000017;Квиток дорослий;350,00;'));
    assert.ok(!r.officeFile.includes(Buffer.from('Квиток', 'utf8')), 'not UTF-8');

    assert.deepEqual(
      r.catalog.map((p) => [p.code, p.barcodes, p.name, p.price]),
      [
        ['1001', ['4820000000017'], 'Квиток дорослий', '350.00'],
        ['1002', ['4820000000024'], 'Квиток дитячий', '175.00'],
        ['2001', ['4820000000031'], 'Програмка', '20.00'],
        ['3001', ['4820000000048'], 'Кава американо', '45.50'],
      ],
    );

    assert.match(r.archived, /[/\\]terminal[/\\]data[/\\]archive[/\\]prices[/\\]\d{4}-\d{2}-\d{2}[/\\]prices-0001\.full\.csv$/);
    assert.ok(r.archived.startsWith(dir));
    assert.ok(existsSync(r.archived));
    assert.ok(readFileSync(r.archived).equals(r.officeFile), 'the archive copy is byte-identical to what the office wrote');

    assert.deepEqual(r.inboxAfter, [], 'the inbox as the server lists it');
    assert.deepEqual(readdirSync(join(dir, 'ftp-root', 'ftpbox', 'box-1')), [], 'the inbox on the server disk (no leftover .part either)');

    const o = text();
    assert.ok(o.includes(r.archived), 'the output says where the local copy is');
    for (const cmd of ['config check', 'pull', 'catalog', 'status']) assert.ok(o.includes(`$ cfx ${cmd}\n`), `shows cfx ${cmd}`);
    assert.match(o, /Квиток дорослий\s+350\.00/);
    assert.match(o, /elapsed \d+\.\d s\n$/);
    assert.ok(!o.includes(r.password), 'the generated password is never printed');
    // the sale: till → server → office → back office, once, even after a resend
    const files = Object.entries(r.delivered);
    assert.equal(files.length, 1, 'one delivery file');
    const rows = files[0]![1].replace(/^\ufeff/, '').split('\r\n').filter(Boolean);
    assert.equal(rows.length, 3, 'header + 2 sale lines');
    assert.match(rows[1]!, /^box-1;R-0001;2025-03-15T19:05:00\+02:00;sale;1;1;Олена;1001;4820000000017;Квиток дорослий;2\.000;350\.00;0\.00;700\.00;720\.00$/);
    assert.deepEqual(r.afterResend, { stored: 0, duplicates: 1, deliveredSales: 0 });
    assert.match(o, /On the server, \/ftpbox\/sales: box-1_R-0001\.csv/);
  });

  it('removes its temp dir unless --keep', async () => {
    const { out, text } = captured();
    const r = await runDemo({ out });
    assert.ok(!existsSync(r.dir), `${r.dir} removed`);
    assert.ok(text().includes(`removed ${r.dir}`));
  });
});
