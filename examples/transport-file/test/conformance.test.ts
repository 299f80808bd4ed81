// The shared transport conformance suite, run against a temp folder.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TransportError } from '@cfx/core/api';
import { describeTransportConformance } from '@cfx/core/testing';
import { FileTransport } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-file-transport-'));
after(() => rmSync(root, { recursive: true, force: true }));
const url = pathToFileURL(root + '/');

describeTransportConformance('file://', { create: () => new FileTransport(url, { fsync: false }), root: '/conformance/run' });

const kind = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof TransportError, String(e));
    return e.kind;
  }
};

it('keeps every path under the root: .. cannot climb out, nor can a symbolic link', async () => {
  const inner = join(root, 'jail');
  mkdirSync(inner, { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'outside');
  const t = new FileTransport(pathToFileURL(inner));
  assert.equal(await kind(t.list('/../')), 'PermissionDenied');
  assert.equal(await kind(t.write('/a/../../secret.txt', Buffer.from('x'))), 'PermissionDenied');
  assert.equal(await kind(t.rename('/x', '/../../etc/passwd')), 'PermissionDenied');
  symlinkSync(root, join(inner, 'out'));
  assert.equal(await kind(t.list('/out')), 'PermissionDenied');
  assert.equal(await kind(t.write('/out/secret.txt', Buffer.from('x'))), 'PermissionDenied');
  assert.equal(await kind(t.mkdir('/out/new')), 'PermissionDenied');
  // a ".." that stays inside is just a path
  await t.mkdir('/a/b');
  await t.write('/a/b/../f.txt', Buffer.from('in'));
  assert.deepEqual((await t.list('/a')).map((e) => e.name).sort(), ['b', 'f.txt']);
});

it('a missing root (an unmounted share) is Unavailable, and nothing is created in its place', async () => {
  const gone = join(root, 'not-mounted');
  const t = new FileTransport(pathToFileURL(gone));
  assert.equal(await kind(t.list('/')), 'Unavailable');
  assert.equal(await kind(t.mkdir('/inbox')), 'Unavailable');
  mkdirSync(gone);
  assert.deepEqual(await t.list('/'), []);
});

it('refuses what is not a folder path: a file where a folder is expected, a folder where a file is', async () => {
  const t = new FileTransport(pathToFileURL(root));
  await t.mkdir('/kinds/dir');
  await t.write('/kinds/file', Buffer.from('x'));
  assert.equal(await kind(t.mkdir('/kinds/file')), 'AlreadyExists');
  assert.equal(await kind(t.mkdir('/kinds/file/sub')), 'AlreadyExists');
  assert.equal(await kind(t.delete('/kinds/dir')), 'NotFound');
  assert.equal(await kind(t.list('/kinds/file')), 'NotFound');
  assert.equal(await kind(t.write('/kinds/dir', Buffer.from('x'))), 'AlreadyExists');
  assert.throws(() => new FileTransport(new URL('ftp://host/x')), TransportError);
});
