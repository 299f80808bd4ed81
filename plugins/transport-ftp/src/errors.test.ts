import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FTPError } from 'basic-ftp';
import { TransportError } from '@cfx/core/api';
import { classify, scrub, toTransportError } from './errors.js';

const ftp = (code: number, message: string) => new FTPError({ code, message: `${code} ${message}` });
const sys = (code: string, message: string) => Object.assign(new Error(message), { code });

test('FTP replies map to the closed kinds', () => {
  const cases: Array<[unknown, TransportError['kind']]> = [
    [ftp(550, 'Failed to open file.'), 'NotFound'],
    [ftp(550, 'Failed to change directory.'), 'NotFound'],
    [ftp(550, 'Permission denied.'), 'PermissionDenied'],
    [ftp(553, 'Could not create file.'), 'PermissionDenied'],
    [ftp(552, 'Exceeded storage allocation.'), 'PermissionDenied'],
    [ftp(530, 'Login incorrect.'), 'PermissionDenied'],
    [ftp(450, 'No such file or directory'), 'NotFound'],
    [ftp(451, "ENOENT: no such file or directory, stat '/srv/status'"), 'NotFound'],
    [ftp(451, 'Requested action aborted: local error in processing'), 'Unavailable'],
    [ftp(421, 'Timeout.'), 'Unavailable'],
    [ftp(425, 'Failed to establish connection.'), 'Unavailable'],
    [ftp(500, 'Unknown command.'), 'Protocol'],
    [ftp(502, 'Command not implemented.'), 'Protocol'],
    [sys('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:21 (control socket)'), 'Unavailable'],
    [sys('ECONNRESET', 'read ECONNRESET (control socket)'), 'Unavailable'],
    [sys('EPIPE', 'write EPIPE'), 'Unavailable'],
    [sys('ETIMEDOUT', 'connect ETIMEDOUT'), 'Timeout'],
    [new Error('Timeout (control socket)'), 'Timeout'],
    [new Error('Timeout (data socket)'), 'Timeout'],
    [Object.assign(new Error('Client is closed because Server sent FIN packet unexpectedly, closing connection.'), { code: '0' }), 'Unavailable'],
    [new Error('Server closed connection unexpectedly.'), 'Unavailable'],
    [sys('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'HostKey'],
    [sys('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'HostKey'],
    [new Error("Can't parse response to 'PWD'"), 'Protocol'],
  ];
  for (const [err, kind] of cases) assert.equal(classify(err).kind, kind, String((err as Error).message));
});

test('the message names op, path and reply; never the password', () => {
  const e = toTransportError(ftp(530, 'Login incorrect for s3cr3t!pw'), 'connect ftp://u@h:21', undefined, ['s3cr3t!pw']);
  assert.equal(e.kind, 'PermissionDenied');
  assert.match(e.message, /connect ftp:\/\/u@h:21: 530 Login incorrect/);
  assert.ok(!e.message.includes('s3cr3t!pw'));
  const f = toTransportError(ftp(550, 'Failed to open file.'), 'read', '/in/a.csv');
  assert.equal(f.path, '/in/a.csv');
  assert.equal(f.message, 'ftp read /in/a.csv: 550 Failed to open file.');
  assert.equal(f.details.ftpCode, 550);
  assert.equal(f.code, 'CFX_E_TRANSPORT_NOT_FOUND');
  const t = new TransportError('Aborted', 'x');
  assert.equal(toTransportError(t, 'list', '/'), t, 'a TransportError passes through');
});

test('scrub removes raw and URL-encoded secrets', () => {
  assert.equal(scrub('ftp://u:p%40ss@h pass p@ss', ['p@ss']), 'ftp://u:***@h pass ***');
  assert.equal(scrub('nothing', ['']), 'nothing');
});
