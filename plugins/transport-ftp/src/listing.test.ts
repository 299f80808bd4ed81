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

test('a name with a line break is joined back, never split into a fake entry or dropped', async () => {
  const { parseListing, parseListingLines } = await import('./listing.js');
  const text = [
    'drwxrwxrwx    2 0        0              40 Dec 05 03:25 .',
    '-rw-rw-rw-    1 0        0               5 Dec 05 03:25 213 End',
    '-rw-rw-rw-    1 0        0               1 Dec 05 03:25 nl',
    '213 End of status',
    '-rw-rw-rw-    1 0        0               3 Dec 05 03:25 a b.csv',
    '-rw-rw-rw-    1 0        0               4 Dec 05 03:25 cr\rz',
  ].join('\r\n');
  assert.deepEqual(parseListing(text).map((f) => [f.name, f.size]), [['213 End', 5], ['nl\n213 End of status', 1], ['a b.csv', 3], ['cr\rz', 4]]);
  // the rest of "." (skipped by the parser) still shows, as a name no one can take for a plain one
  const r = parseListingLines(['drwxr-xr-x    2 0        0              40 Dec 05 03:25 .', 'x.csv']);
  assert.deepEqual([r.files.map((f) => f.name), r.lines], [['\nx.csv'], 1]);
  assert.throws(() => parseListingLines(['Status follows', 'hello']), /not a directory listing/);
});

test('MLSD: the rest of a name after a line break is joined back too', async () => {
  const { parseListing } = await import('./listing.js');
  const text = 'type=cdir;modify=20260101000000; .\r\ntype=file;size=3;modify=20260101000000; a\r\nb c.csv\r\ntype=file;size=5;modify=20260101000000; d.csv\r\n';
  assert.deepEqual(parseListing(text).map((f) => [f.name, f.size]), [['a\nb c.csv', 3], ['d.csv', 5]]);
});
