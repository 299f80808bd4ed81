import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, redactConfig, redactUrl, secretValues, type PluginSchemas } from './index.js';

const schemas: PluginSchemas = {
  transports: {
    sftp: {
      type: 'object',
      properties: {
        hostKey: { type: 'string' },
        privateKeyPassphrase: { type: 'string' },
        keyMaterial: { type: 'string', 'x-secret': true },
        nested: { type: 'object', properties: { pin: { type: 'string', 'x-secret': true }, label: { type: 'string' } } },
      },
    },
  },
  formats: {},
  backoffices: { '1c': { type: 'object', properties: { apiKey: { type: 'string', 'x-secret': true }, dir: { type: 'string' } } } },
};

const YAML = `role: terminal
terminal: till-01
server: "sftp://cfx:\${CFX_FTP_PASSWORD}@files.example.com:22/in"
serverOptions:
  hostKey: "SHA256:abc"
  keyMaterial: "-----BEGIN KEY-----xyz"
  nested: { pin: "4242", label: shop }
  privateKeyPassphrase: "open sesame"
backoffice:
  use: 1c
  options: { apiKey: "k-123456", dir: "C:/exchange" }
pluginOptions:
  webhook: { url: "https://bot:tok-98765@hooks.example.com/x", token: "t-55555" }
`;

const PASSWORD = 'S3cr3t@pa/ss';

function load() {
  return parseConfig(YAML, { baseDir: '/srv/cfx', env: { CFX_FTP_PASSWORD: PASSWORD }, pluginSchemas: schemas });
}

test('redactUrl hides only the password', () => {
  assert.equal(redactUrl('ftp://cfx:hunter2@ftp.example.com:21/dir'), 'ftp://cfx:***@ftp.example.com:21/dir');
  assert.equal(redactUrl('sftp://cfx@h:22'), 'sftp://cfx@h:22');
  assert.equal(redactUrl('ftp://h/a@b'), 'ftp://h/a@b');
  assert.equal(redactUrl('ftp://u:p/w@h/x'), 'ftp://u:***@h/x', 'an unencoded "/" in the password is still hidden');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test('the password from the URL never appears in the redacted config', () => {
  const cfg = load();
  assert.ok(cfg.server.includes(encodeURIComponent(PASSWORD)));
  const red = redactConfig(cfg, schemas);
  const text = JSON.stringify(red);
  assert.ok(!text.includes(PASSWORD));
  assert.ok(!text.includes(encodeURIComponent(PASSWORD)));
  assert.ok(!text.includes('S3cr3t'));
  assert.equal(red.server, 'sftp://cfx:***@files.example.com:22/in');
  // the original is untouched
  assert.ok(cfg.server.includes(encodeURIComponent(PASSWORD)));
});

test('secret-named keys and x-secret fields are redacted, the rest kept', () => {
  const cfg = load();
  const red = redactConfig(cfg, schemas);
  assert.deepEqual(red.serverOptions, {
    hostKey: 'SHA256:abc',
    keyMaterial: '***',
    nested: { pin: '***', label: 'shop' },
    privateKeyPassphrase: '***',
  });
  assert.deepEqual(red.backoffice, { use: '1c', options: { apiKey: '***', dir: 'C:/exchange' } });
  assert.deepEqual(red.pluginOptions, { webhook: { url: 'https://bot:***@hooks.example.com/x', token: '***' } });
  assert.equal(red.terminal, 'till-01');
  assert.equal(red.prices.pollMs, 1000);
  // without the plugin schemas, only x-secret fields stay visible
  const plain = redactConfig(cfg);
  assert.equal((plain.serverOptions as Record<string, unknown>).keyMaterial, '-----BEGIN KEY-----xyz');
  assert.equal((plain.serverOptions as Record<string, unknown>).privateKeyPassphrase, '***');
});

test('secretValues lists every raw secret', () => {
  const cfg = load();
  const s = secretValues(cfg, schemas);
  for (const v of [PASSWORD, encodeURIComponent(PASSWORD), '-----BEGIN KEY-----xyz', '4242', 'open sesame', 'k-123456', 'tok-98765', 't-55555']) {
    assert.ok(s.includes(v), `missing ${v}`);
  }
  for (const v of ['SHA256:abc', 'shop', 'C:/exchange', 'till-01']) assert.ok(!s.includes(v), `should not list ${v}`);
});
