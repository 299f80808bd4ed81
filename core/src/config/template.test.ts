import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTemplate, parseConfig, type PluginSchemas } from './index.js';

const schemas: PluginSchemas = {
  transports: { ftp: undefined, ftps: undefined, sftp: { type: 'object', required: ['hostKey'], properties: { hostKey: { type: 'string' } } } },
  formats: { csv: undefined, xml: undefined, atol: undefined },
  backoffices: { generic: undefined, '1c': undefined },
  knownTransports: ['ftp', 'ftps', 'sftp'],
  knownFormats: ['csv', 'xml', 'atol'],
  knownBackoffices: ['generic', '1c'],
};

for (const role of ['terminal', 'office'] as const) {
  test(`initTemplate(${role}) validates`, () => {
    const text = initTemplate(role);
    const cfg = parseConfig(text, { baseDir: '/srv/cfx', file: 'cfx.yaml', env: { CFX_FTP_PASSWORD: 'x' }, pluginSchemas: schemas });
    assert.equal(cfg.role, role);
    assert.equal(cfg.dataDir, '/srv/cfx/cfx-data');
    assert.equal(cfg.prices.pollMs, 1000);
    assert.deepEqual(cfg.schedule, [{ job: 'archive.prune', cron: '0 3 * * *' }]);
    if (role === 'terminal') assert.equal(cfg.terminal, 'till-01');
    else assert.deepEqual(cfg.terminals, ['till-01', 'till-02']);
    assert.match(text, /\$\{CFX_FTP_PASSWORD\}@/);
    assert.match(text, /^# server: "sftp:\/\//m);
    assert.match(text, /^#\s+hostKey: "SHA256:/m);
  });

  test(`initTemplate(${role}): every uncommented key has a comment`, () => {
    for (const line of initTemplate(role).split('\n')) {
      if (/^\s*[A-Za-z]+:/.test(line) || /^\s*- job:/.test(line)) assert.match(line, /\s#\s\S/, `no comment on: ${line}`);
    }
  });

  test(`initTemplate(${role}): the commented sftp example validates once uncommented`, () => {
    const text = initTemplate(role)
      .replace(/^server: .*$/m, '')
      .replace(/^serverOptions: .*$/m, '')
      .replace(/^# (server: "sftp.*)$/m, '$1')
      .replace(/^# (serverOptions:)$/m, '$1')
      .replace(/^# (  hostKey: .*)$/m, '$1');
    const cfg = parseConfig(text, { baseDir: '/srv/cfx', env: { CFX_FTP_PASSWORD: 'x' }, pluginSchemas: schemas });
    assert.match(cfg.server, /^sftp:/);
    assert.match(String(cfg.serverOptions.hostKey), /^SHA256:/);
  });
}
