import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { formatFixed, parseFixed, RowReader } from './rows.js';

function rows(text: string, cuts: number[] = []): string[][] {
  const out: string[][] = [];
  const r = new RowReader(';', 1000, 't.csv');
  let at = 0;
  for (const c of [...cuts, text.length]) {
    r.push(text.slice(at, c), false, (f) => out.push(f));
    at = c;
  }
  r.push('', true, (f) => out.push(f));
  return out;
}

describe('RowReader', () => {
  // csv-parse is the reference for RFC 4180 (plus relax_quotes for 1C's unquoted quotes)
  const samples = [
    'a;b;c\r\n1;2;3\r\n',
    'a;"b;c";"d""e"\n"x\r\ny";;""\n',
    'a;b\n"1";"2"',
    'no;end;"quoted"',
    'Кава "Львівська";2\r\n"";x\r\n',
    'a;b;\n;;\n',
  ];
  for (const text of samples) {
    it(`agrees with csv-parse, split anywhere: ${JSON.stringify(text)}`, () => {
      const want = parse(text, { delimiter: ';', relax_quotes: true, relax_column_count: true }) as string[][];
      assert.deepEqual(rows(text), want);
      for (let i = 0; i <= text.length; i++) assert.deepEqual(rows(text, [i]), want, `cut at ${i}`);
      assert.deepEqual(rows(text, [...text].map((_, k) => k)), want);
    });
  }

  it('rejects stray characters after a closing quote and an unclosed quote', () => {
    assert.throws(() => rows('a;"b"c;d\n'), /unexpected "c" after a closing quote/);
    assert.throws(() => rows('a\n"b;c\n'), (e: Error & { location: { line: number } }) => e.location.line === 2);
  });
});

describe('parseFixed / formatFixed', () => {
  it('is exact where floats are not', () => {
    assert.equal(parseFixed('0,29', 2, 'auto'), 29); // 0.29 * 100 = 28.999999999999996
    assert.equal(parseFixed('1.005', 3, 'auto'), 1005);
    assert.equal(parseFixed('-0,1', 3, ','), -100);
    assert.equal(parseFixed('0.1', 3, ','), 'is not a number');
    assert.equal(parseFixed('1.5', 0, '.'), 'is not a whole number');
    assert.equal(formatFixed(-5, 2, '.'), '-0.05');
    assert.equal(formatFixed(9007199254740991, 2, ','), '90071992547409,91');
    assert.equal(formatFixed(1500, 3, '.'), '1.500');
  });
});
