import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileInfo, FileType } from 'basic-ftp';
import { parseListDate, toRemoteEntry } from './listing.js';

const now = new Date(Date.UTC(2026, 0, 10, 12, 0));

test('LIST dates: recent (no year), old (year), future → last year, junk → undefined', () => {
  assert.deepEqual(parseListDate('Jan 10 11:59', now), new Date(Date.UTC(2026, 0, 10, 11, 59)));
  assert.deepEqual(parseListDate('Nov 24  2023', now), new Date(Date.UTC(2023, 10, 24)));
  assert.deepEqual(parseListDate('Dec 31 23:00', now), new Date(Date.UTC(2025, 11, 31, 23, 0)));
  assert.equal(parseListDate('2026-01-10 11:59', now), undefined);
  assert.equal(parseListDate('', now), undefined);
});

test('FileInfo → RemoteEntry', () => {
  const f = new FileInfo('\xcf\xf0\xe0\xe9\xf1.csv'); // "Прайс.csv" in cp1251, as a latin1 string
  f.type = FileType.File;
  f.size = 12;
  f.rawModifiedAt = 'Jan 10 11:59';
  const e = toRemoteEntry(f, (s) => Buffer.from(s, 'latin1').toString('hex'), now);
  assert.deepEqual(e, { name: 'cff0e0e9f12e637376', size: 12, type: 'file', mtime: new Date(Date.UTC(2026, 0, 10, 11, 59)) });
  const d = new FileInfo('sub');
  d.type = FileType.Directory;
  assert.equal(toRemoteEntry(d, (s) => s).type, 'dir');
  const l = new FileInfo('link');
  l.type = FileType.SymbolicLink;
  assert.equal(toRemoteEntry(l, (s) => s).type, 'other');
});
