import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ErrorCodes, FormatError } from '@cfx/core/api';
import { combineCommerceML } from './index.js';
import { asCp1251, bytes, combined, decode, fixture, fixtureText, JOINED, products, withPrefix } from './test-support.js';

it('combineCommerceML: one UTF-8 document, the sections of each part in order, root attributes of the first', async () => {
  const out = (await combined(asCp1251(fixtureText('import.xml')), bytes(withPrefix(fixtureText('offers.xml'))))).toString('utf8');
  assert.ok(out.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.07" ДатаФормирования="2025-03-14T18:00:00">'));
  const order = ['<Классификатор>', '<Каталог СодержитТолькоИзменения="false">', '<ПакетПредложений СодержитТолькоИзменения="false">'].map((s) => out.indexOf(s));
  assert.ok(order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!, String(order));
  assert.equal(out.match(/<КоммерческаяИнформация/g)!.length, 1);
  assert.ok(!out.includes('cml:'));
  assert.match(out, /<Склад ИдСклада="5c000000-0000-4000-8000-000000000001" КоличествоНаСкладе="120"\/>/);
  assert.match(out, /<ОфициальноеНаименование>ООО "Театр"<\/ОфициальноеНаименование>/);
  assert.deepEqual(products((await decode(out)).records), JOINED);
});

it('combineCommerceML refuses a DOCTYPE or a part that is not CommerceML, naming the part', async () => {
  const run = async (parts: [string, Buffer][]) => Buffer.concat(await combineCommerceML(parts.map(([fileName, b]) => ({ fileName, input: Readable.from([b]) }))).toArray());
  const dtd = bytes(fixtureText('offers.xml').replace('?>\n', '?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'));
  await assert.rejects(combined(fixture('import.xml'), dtd), (e: unknown) => e instanceof FormatError && e.code === ErrorCodes.FORMAT_UNSUPPORTED && e.location.file === 'offers.xml' && e.location.field === 'DOCTYPE');
  await assert.rejects(combined(fixture('import.xml'), bytes('<html/>')), (e: unknown) => e instanceof FormatError && e.location.file === 'offers.xml' && /root element is <html>/.test(e.message));
  await assert.rejects(run([]), (e: unknown) => e instanceof FormatError);
});
