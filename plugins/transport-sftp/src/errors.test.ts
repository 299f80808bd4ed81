import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '@cfx/core/api';
import { classify, scrub, toTransportError } from './errors.js';

const status = (code: number, message: string) => Object.assign(new Error(message), { code });
const sys = (code: string, message: string, level = 'client-socket') => Object.assign(new Error(message), { code, level });
const lvl = (level: string, message: string) => Object.assign(new Error(message), { level });

test('SFTP status replies and ssh2 connection errors map to the closed kinds', () => {
  const cases: Array<[unknown, TransportError['kind']]> = [
    [status(2, 'No such file'), 'NotFound'],
    [status(10, 'No such path'), 'NotFound'],
    [status(3, 'Permission denied'), 'PermissionDenied'],
    [status(12, 'Write protected'), 'PermissionDenied'],
    [status(11, 'File already exists'), 'AlreadyExists'],
    [status(4, 'Failure'), 'Protocol'],
    [status(8, 'Operation unsupported'), 'Protocol'],
    [status(6, 'No connection'), 'Unavailable'],
    [status(7, 'Connection lost'), 'Unavailable'],
    [sys('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:2222'), 'Unavailable'],
    [sys('ECONNRESET', 'read ECONNRESET'), 'Unavailable'],
    [sys('EPIPE', 'write EPIPE'), 'Unavailable'],
    [sys('ETIMEDOUT', 'connect ETIMEDOUT'), 'Timeout'],
    [lvl('client-timeout', 'Timed out while waiting for handshake'), 'Timeout'],
    [lvl('client-timeout', 'Keepalive timeout'), 'Timeout'],
    [lvl('client-authentication', 'All configured authentication methods failed'), 'PermissionDenied'],
    [new Error('getConnection: All configured authentication methods failed'), 'PermissionDenied'],
    [lvl('handshake', 'Host denied (verification failed)'), 'HostKey'],
    [lvl('handshake', 'Handshake failed: no matching key exchange algorithm'), 'Protocol'],
    [new Error('No response from server'), 'Unavailable'],
    [new Error('Not connected'), 'Unavailable'],
    [new Error('getConnection: Unexpected close event'), 'Unavailable'],
    [new Error('something odd'), 'Protocol'],
  ];
  for (const [err, kind] of cases) assert.equal(classify(err).kind, kind, String((err as Error).message));
});

test('messages name the operation, the path and the target, never a secret', () => {
  const e = toTransportError(status(2, 'No such file'), 'rename', '/in/.a.part', ['s3cr3t'], { target: '/in/a' });
  assert.ok(e instanceof TransportError);
  assert.equal(e.kind, 'NotFound');
  assert.equal(e.message, 'sftp rename /in/.a.part → /in/a: No such file');
  assert.equal(e.path, '/in/.a.part');
  assert.equal(e.details.sftpStatus, 2);
  const leak = toTransportError(new Error('bad login for p@ss/wörd and p%40ss%2Fw%C3%B6rd'), 'connect', undefined, ['p@ss/wörd']);
  assert.equal(leak.message, 'sftp connect: bad login for *** and ***');
  assert.equal(scrub('x', ['']), 'x');
  const same = new TransportError('Timeout', 'already mapped');
  assert.equal(toTransportError(same, 'list', '/'), same);
});
