import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CfxError, ErrorCodes } from '../api/errors.js';
import { configWarnings, parseConfig, type ConfigProblem } from './index.js';

const ENV = { CFX_FTP_PASSWORD: 'hunter2', CFX_ADMIN_TOKEN: 'a-token-from-the-env-0123' };
const HEAD = 'role: terminal\nterminal: till-01\n';

const warningsOf = (yaml: string): ConfigProblem[] => configWarnings(parseConfig(HEAD + yaml, { baseDir: '/srv/cfx', env: ENV }));

test('a password written in server: is a warning naming the key and the ${ENV} form, never the password', () => {
  const [w, ...rest] = warningsOf('server: "ftp://cfx:pa55-in-file@ftp.example.com:21/x"\n');
  assert.deepEqual(rest, []);
  assert.equal(w!.path, 'server');
  assert.equal(w!.line, 3);
  assert.equal(w!.message, 'the password is written in the file; use ${CFX_FTP_PASSWORD} ("ftp://cfx:${CFX_FTP_PASSWORD}@ftp.example.com:21/x") and set CFX_FTP_PASSWORD in the environment');
  assert.match(warningsOf('server: "sftp://cfx:pw@h"\n')[0]!.message, /\$\{CFX_SFTP_PASSWORD\}/);
  assert.match(warningsOf('server: "ftps://cfx:pw@h"\n')[0]!.message, /\$\{CFX_FTP_PASSWORD\}/);
  // partly from the environment, or a default written in the file: still in the file
  assert.equal(warningsOf('server: "ftp://cfx:x${CFX_FTP_PASSWORD}@h"\n').length, 1);
  assert.equal(warningsOf('server: "ftp://cfx:${CFX_FTP_PASSWORD:-fallback}@h"\n').length, 1);
});

test('secrets from the environment, or no password at all, are no warning', () => {
  for (const server of ['ftp://cfx:${CFX_FTP_PASSWORD}@h', 'ftp://${CFX_FTP_PASSWORD}:${CFX_FTP_PASSWORD}@h', 'ftp://cfx@h', 'ftp://h', 'ftp://anonymous:@h', 'ftp://cfx:${CFX_FTP_PASSWORD:-}@h']) {
    assert.deepEqual(warningsOf(`server: "${server}"\n`), [], server);
  }
  assert.deepEqual(warningsOf('server: "ftp://cfx:${CFX_FTP_PASSWORD}@h"\nadmin:\n  token: "${CFX_ADMIN_TOKEN}"\n'), []);
});

test('admin.token and any secret-named key written in the file are warnings with the variable to use', () => {
  const ws = warningsOf('server: "sftp://cfx@h"\nadmin:\n  token: "0123456789abcdef-in-file"\nserverOptions:\n  passphrase: "in file"\n');
  assert.deepEqual(
    ws.map((w) => [w.path, w.message]),
    [
      ['admin.token', 'the token is written in the file; use "${CFX_ADMIN_TOKEN}" and set CFX_ADMIN_TOKEN in the environment'],
      ['serverOptions.passphrase', 'the passphrase is written in the file; use "${CFX_SFTP_PASSPHRASE}" and set CFX_SFTP_PASSPHRASE in the environment'],
    ],
  );
  for (const w of ws) assert.doesNotMatch(w.message, /in file/);
});

test('strict: the warnings are errors, with every other problem', () => {
  const yaml = HEAD + 'server: "ftp://cfx:pa55-in-file@h"\nadmin: { token: "0123456789abcdef-in-file" }\nprices: { poll: never }\n';
  let err: unknown;
  try {
    parseConfig(yaml, { baseDir: '/srv/cfx', env: ENV, strict: true });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CfxError);
  assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
  assert.deepEqual((err.details.problems as ConfigProblem[]).map((p) => p.path), ['server', 'admin.token', 'prices.poll']);
  assert.doesNotMatch(err.message, /pa55-in-file|0123456789abcdef-in-file/);
  // without strict the same file (its poll fixed) loads, with the warnings beside it
  assert.equal(configWarnings(parseConfig(yaml.replace('never', '1s'), { baseDir: '/srv/cfx', env: ENV })).length, 2);
});
