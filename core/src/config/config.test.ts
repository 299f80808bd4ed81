import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, isAbsolute } from 'node:path';
import { CfxError, ErrorCodes } from '../api/errors.js';
import { loadConfig, parseConfig, formatProblems, configFromObject, type ConfigProblem, type PluginSchemas } from './index.js';

const ENV = { CFX_FTP_PASSWORD: 'hunter2' };
const BASE = '/srv/cfx';

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CfxError, `expected a CfxError, got ${String(e)}`);
    assert.equal(e.code, ErrorCodes.CONFIG_INVALID, e.message);
    return (e.details.problems as ConfigProblem[]).map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('expected the config to be rejected');
}

const parse = (yaml: string, pluginSchemas?: PluginSchemas) => parseConfig(yaml, { baseDir: BASE, env: ENV, ...(pluginSchemas ? { pluginSchemas } : {}) });

const MINIMAL = 'role: terminal\nterminal: till-01\nserver: "ftp://cfx:${CFX_FTP_PASSWORD}@ftp.example.com"\n';
const OFFICE = 'role: office\nterminals: [till-01]\nserver: "ftp://cfx:${CFX_FTP_PASSWORD}@ftp.example.com"\n';

test('a valid config gets its defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-config-'));
  try {
    const file = join(dir, 'cfx.yaml');
    writeFileSync(file, MINIMAL + 'backoffice: 1c\n');
    const cfg = loadConfig(file, { env: ENV });
    assert.equal(cfg.file, file);
    assert.equal(cfg.role, 'terminal');
    assert.equal(cfg.terminal, 'till-01');
    assert.deepEqual(cfg.terminals, []);
    assert.ok(isAbsolute(cfg.dataDir));
    assert.equal(cfg.dataDir, join(dir, 'cfx-data'));
    assert.equal(cfg.server, 'ftp://cfx:hunter2@ftp.example.com');
    assert.deepEqual(cfg.serverOptions, {});
    assert.equal(cfg.timeoutMs, 30_000);
    assert.deepEqual(cfg.prices, {
      dir: '/ftpbox/{terminal}',
      format: 'csv',
      pollMs: 1000,
      watchPollMs: 30_000,
      options: {},
      maxFileBytes: 512 * 1024 * 1024,
      maxLineBytes: 1024 * 1024,
      stableMs: 0,
      order: 'natural',
      allowEmptyFull: false,
    });
    assert.deepEqual(cfg.sales, { dir: '/ftpbox/sales', format: 'csv', options: {}, connections: 1, maxFileBytes: 16 * 1024 * 1024 });
    assert.deepEqual(cfg.backoffice, { use: '1c', options: {} });
    assert.deepEqual(cfg.plugins, []);
    assert.deepEqual(cfg.pluginOptions, {});
    assert.deepEqual(cfg.schedule, []);
    assert.deepEqual(cfg.archive, { keepDays: 30 });
    assert.deepEqual(cfg.log, { level: 'info' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('values are converted and relative paths resolved against the config dir', () => {
  const cfg = parse(`role: office
terminals: [till-01, till-02]
dataDir: data
server: sftp://cfx@files.example.com:2222
timeout: 1m
prices:
  poll: 500ms
  watchPoll: 2m
  maxFileSize: 64KB
  maxLineLength: 4096
  stable: 2s
sales:
  connections: 4
  spool: ./spool
backoffice:
  use: 1c
  options: { dir: C:/1c/exchange }
schedule:
  - { job: archive.prune, cron: "0 3 * * *" }
log: { level: debug, file: logs/cfx.log }
`);
  assert.equal(cfg.role, 'office');
  assert.equal(cfg.terminal, undefined);
  assert.deepEqual(cfg.terminals, ['till-01', 'till-02']);
  assert.equal(cfg.dataDir, join(BASE, 'data'));
  assert.equal(cfg.timeoutMs, 60_000);
  assert.equal(cfg.prices.pollMs, 500);
  assert.equal(cfg.prices.watchPollMs, 120_000);
  assert.equal(cfg.prices.maxFileBytes, 65_536);
  assert.equal(cfg.prices.maxLineBytes, 4096);
  assert.equal(cfg.prices.stableMs, 2000);
  assert.equal(cfg.sales.connections, 4);
  assert.equal(cfg.sales.spool, join(BASE, 'spool'));
  assert.deepEqual(cfg.backoffice, { use: '1c', options: { dir: 'C:/1c/exchange' } });
  assert.deepEqual(cfg.schedule, [{ job: 'archive.prune', cron: '0 3 * * *' }]);
  assert.deepEqual(cfg.log, { level: 'debug', file: join(BASE, 'logs/cfx.log'), rotate: { sizeBytes: 10 * 1024 * 1024, frequency: 'daily', keep: 14 } });
});

test('a key with nothing after it takes the default', () => {
  const cfg = parse(MINIMAL + 'prices:\n  poll:\nsales:\nlog:\n');
  assert.equal(cfg.prices.pollMs, 1000);
  assert.equal(cfg.sales.connections, 1);
  assert.equal(cfg.log.level, 'info');
});

test('log.rotate: defaults with log.file, partial values filled, false turns it off, bad values named', () => {
  assert.equal(parse(MINIMAL).log.rotate, undefined, 'no file, no rotation');
  assert.deepEqual(parse(MINIMAL + 'log: { file: cfx.log, rotate: { size: 1MB, keep: 3 } }\n').log.rotate, { sizeBytes: 1024 * 1024, frequency: 'daily', keep: 3 });
  assert.deepEqual(parse(MINIMAL + 'log: { file: cfx.log, rotate: { frequency: hourly } }\n').log.rotate, { sizeBytes: 10 * 1024 * 1024, frequency: 'hourly', keep: 14 });
  assert.deepEqual(parse(MINIMAL + 'log: { file: cfx.log, rotate: true }\n').log.rotate, { sizeBytes: 10 * 1024 * 1024, frequency: 'daily', keep: 14 });
  assert.equal(parse(MINIMAL + 'log: { file: cfx.log, rotate: false }\n').log.rotate, false);
  const bad = problemsOf(() => parse(MINIMAL + 'log: { file: cfx.log, rotate: { size: 10, frequency: weekly, keep: 0 } }\n'));
  assert.deepEqual(bad.map((p) => p.path), ['log.rotate.size', 'log.rotate.frequency', 'log.rotate.keep']);
});

test('an unknown key is reported at the top level and inside a section', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'foo: 1\n')), [{ path: 'foo', message: 'unknown key "foo"' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  foo: 1\n')), [{ path: 'prices.foo', message: 'unknown key "foo"' }]);
});

test('a duration longer than a Node timer can wait (2^31-1 ms, ~24.8 days) is an error naming the key, not a busy loop', () => {
  const tooLong = (got: string) => `must be at most 2147483647ms (about 24.8 days: Node fires a longer timer at once, a busy loop), got ${got}`;
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'timeout: 30d\nprices:\n  poll: 30d\n  stable: 2147483648\n')), [
    { path: 'timeout', message: tooLong('30d') },
    { path: 'prices.poll', message: tooLong('30d') },
    { path: 'prices.stable', message: tooLong('2147483648ms') },
  ]);
  const cfg = parse(MINIMAL + 'timeout: 24d\nprices:\n  poll: 2147483647\n');
  assert.deepEqual([cfg.timeoutMs, cfg.prices.pollMs], [24 * 86_400_000, 2 ** 31 - 1]);
});

test('a near miss of a key suggests the right one', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  pol: 1s\n')), [{ path: 'prices.pol', message: 'unknown key "pol" (did you mean "poll"?)' }]);
});

test('wrong types name the path and the rule', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  poll: true\n')), [
    { path: 'prices.poll', message: 'must be a duration of at least 100ms (e.g. "500ms", "1s", "2m") or a number of milliseconds' },
  ]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'sales:\n  connections: "x"\n')), [{ path: 'sales.connections', message: 'must be integer' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'sales:\n  connections: 17\n')), [{ path: 'sales.connections', message: 'must be <= 16' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  poll: 50ms\n')), [
    { path: 'prices.poll', message: 'must be a duration of at least 100ms (e.g. "500ms", "1s", "2m") or a number of milliseconds' },
  ]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  maxFileSize: lots\n')), [
    { path: 'prices.maxFileSize', message: 'must be a size (e.g. "64KB", "512MB", "1GB") or a number of bytes, at least 1' },
  ]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'plugins: [a, 2]\n')), [{ path: 'plugins.1', message: 'must be string (put the value in quotes)' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'backoffice: 5\n')), [{ path: 'backoffice', message: 'must be string or object' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'plugins: [a, [b]]\n')), [{ path: 'plugins.1', message: 'must be string' }]);
});

test('role, terminal id and server are checked', () => {
  assert.deepEqual(problemsOf(() => parse('role: till\nserver: ftp://h\n')), [{ path: 'role', message: 'must be one of: terminal, office' }]);
  assert.deepEqual(problemsOf(() => parse('role: terminal\nserver: ftp://h\n')), [{ path: 'terminal', message: 'is required when role is terminal' }]);
  assert.deepEqual(problemsOf(() => parse('role: terminal\nterminal: ../x\nserver: ftp://h\n')), [
    { path: 'terminal', message: 'must match "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"' },
  ]);
  assert.deepEqual(problemsOf(() => parse('role: office\nterminals: [a, ok, "a/b"]\nserver: ftp.example.com\n')), [
    { path: 'terminals.2', message: 'must match "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"' },
    { path: 'server', message: 'must be a URL with a scheme, e.g. "ftp://user:${CFX_FTP_PASSWORD}@host:21"' },
  ]);
  assert.deepEqual(problemsOf(() => parse('terminal: t\n')), [
    { path: 'role', message: 'is required' },
    { path: 'server', message: 'is required' },
  ]);
});

test('a number where a string belongs hints at quotes', () => {
  assert.deepEqual(problemsOf(() => parse('role: terminal\nterminal: 001\nserver: ftp://h\n')), [{ path: 'terminal', message: 'must be string (put the value in quotes)' }]);
});

test('schedule entries are checked, cron expressions with node-cron', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'schedule:\n  - job: archive.prune\n    cron: "61 * * * *"\n  - job: x\n')), [
    { path: 'schedule.0.cron', message: 'must be a cron expression like "0 3 * * *" (minute: 61 is a invalid expression for minute)' },
    { path: 'schedule.1.cron', message: 'is required' },
  ]);
});

test('schedule entries name known jobs, in their role', () => {
  const jobs: PluginSchemas = {
    transports: {},
    formats: {},
    backoffices: {},
    knownJobs: [{ id: 'archive.prune', roles: ['terminal', 'office'] }, { id: 'sales.collect', roles: ['office'] }, { id: 'stock.upload' }],
  };
  const yaml = MINIMAL + 'schedule:\n  - { job: archive.prune, cron: "0 3 * * *" }\n  - { job: archive.prunee, cron: "0 3 * * *" }\n  - { job: sales.collect, cron: "0 3 * * *" }\n  - { job: stock.upload, cron: "0 3 * * *" }\n';
  assert.deepEqual(problemsOf(() => parse(yaml, jobs)), [
    { path: 'schedule.1.job', message: 'unknown job "archive.prunee" (did you mean "archive.prune"?); available: archive.prune, sales.collect, stock.upload' },
    { path: 'schedule.2.job', message: 'job "sales.collect" runs in the office role, not in this terminal config' },
  ]);
});

test('a missing environment variable names the variable and the path; all are collected', () => {
  const err = (() => {
    try {
      parseConfig(MINIMAL + 'serverOptions:\n  user: ${CFX_USER}\n  dir: ${CFX_DIR:-/in}\n', { baseDir: BASE, env: {} });
    } catch (e) {
      return e as CfxError;
    }
    assert.fail('expected an error');
  })();
  assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
  assert.deepEqual(err.details.problems, [
    { path: 'server', message: 'environment variable CFX_FTP_PASSWORD is not set', line: 3 },
    { path: 'serverOptions.user', message: 'environment variable CFX_USER is not set', line: 5 },
  ]);
  assert.deepEqual(err.details.missingEnv, ['CFX_FTP_PASSWORD', 'CFX_USER']);
  assert.match(err.message, /^server: environment variable CFX_FTP_PASSWORD is not set \(line 3\)$/m);
});

test('env expansion: defaults, escapes, and a password that needs encoding', () => {
  const cfg = parseConfig(
    'role: terminal\nterminal: ${TILL:-till-09}\nserver: "ftp://cfx:${CFX_FTP_PASSWORD}@h/${DIR}"\nserverOptions:\n  note: "$${NOT_A_VAR} ${EMPTY:-x}"\n',
    { baseDir: BASE, env: { CFX_FTP_PASSWORD: 'p@ss/w:rd', DIR: 'in', EMPTY: '' } },
  );
  assert.equal(cfg.terminal, 'till-09');
  assert.equal(cfg.server, 'ftp://cfx:p%40ss%2Fw%3Ard@h/in');
  assert.equal(decodeURIComponent(new URL(cfg.server).password), 'p@ss/w:rd');
  assert.equal(new URL(cfg.server).hostname, 'h');
  assert.deepEqual(cfg.serverOptions, { note: '${NOT_A_VAR} x' });
});

test('several problems are reported together, in file order, with lines', () => {
  try {
    parseConfig(
      `role: terminal
terminal: till-01
server: "ftp://cfx:\${CFX_FTP_PASSWORD}@h"
prices:
  poll: true
  foo: 1
sales:
  connections: "x"
bar: 2
`,
      { baseDir: BASE, env: {}, file: 'cfx.yaml' },
    );
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof CfxError);
    assert.equal(e.code, ErrorCodes.CONFIG_INVALID);
    assert.deepEqual(e.details.problems, [
      { path: 'server', message: 'environment variable CFX_FTP_PASSWORD is not set', line: 3 },
      { path: 'prices.poll', message: 'must be a duration of at least 100ms (e.g. "500ms", "1s", "2m") or a number of milliseconds', line: 5 },
      { path: 'prices.foo', message: 'unknown key "foo"', line: 6 },
      { path: 'sales.connections', message: 'must be integer', line: 8 },
      { path: 'bar', message: 'unknown key "bar"', line: 9 },
    ]);
    assert.equal(e.details.file, join(BASE, 'cfx.yaml'));
    const lines = e.message.split('\n');
    assert.equal(lines[0], `invalid config ${join(BASE, 'cfx.yaml')}: 5 problems`);
    assert.equal(lines[3], 'prices.foo: unknown key "foo" (line 6)');
    assert.equal(formatProblems(e).split('\n').length, 5);
    assert.equal(formatProblems(e).split('\n')[4], 'bar: unknown key "bar" (line 9)');
  }
});

const SFTP_SCHEMA = {
  $id: 'cfx:plugin/transport-sftp',
  type: 'object',
  required: ['hostKey'],
  properties: {
    hostKey: { type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}=?$' },
    privateKeyPassphrase: { type: 'string' },
    keepalive: { type: 'integer', default: 10 },
  },
};

const SCHEMAS: PluginSchemas = {
  transports: { ftp: undefined, ftps: undefined, sftp: SFTP_SCHEMA },
  formats: { csv: { type: 'object', properties: { delimiter: { type: 'string', maxLength: 1 } } }, xml: undefined },
  backoffices: { generic: undefined, '1c': { type: 'object', properties: { apiKey: { type: 'string', 'x-secret': true } } } },
  knownTransports: ['ftp', 'ftps', 'sftp'],
  knownFormats: ['csv', 'xml'],
  knownBackoffices: ['generic', '1c'],
};

const SFTP = 'role: terminal\nterminal: till-01\nserver: "sftp://cfx:${CFX_FTP_PASSWORD}@h"\n';

test('serverOptions are checked with the schema of the transport the URL scheme picks', () => {
  assert.deepEqual(problemsOf(() => parse(SFTP + 'serverOptions:\n  hostKey: "md5:ab:cd"\n', SCHEMAS)), [
    { path: 'serverOptions.hostKey', message: 'must match "^SHA256:[A-Za-z0-9+/]{43}=?$"' },
  ]);
  assert.deepEqual(problemsOf(() => parse(SFTP, SCHEMAS)), [{ path: 'serverOptions.hostKey', message: 'is required' }]);
  assert.deepEqual(problemsOf(() => parse(SFTP + `serverOptions:\n  hostKey: "SHA256:${'a'.repeat(43)}"\n  port: 22\n`, SCHEMAS)), [
    { path: 'serverOptions.port', message: 'unknown key "port"' },
  ]);
  const cfg = parse(SFTP + `serverOptions:\n  hostKey: "SHA256:${'a'.repeat(43)}"\n`, SCHEMAS);
  assert.deepEqual(cfg.serverOptions, { hostKey: `SHA256:${'a'.repeat(43)}`, keepalive: 10 }, 'schema defaults are filled in');
  // ftp has no schema: any object goes
  assert.deepEqual(parse(MINIMAL + 'serverOptions: { anything: [1, 2] }\n', SCHEMAS).serverOptions, { anything: [1, 2] });
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'serverOptions: 5\n', SCHEMAS)), [{ path: 'serverOptions', message: 'must be object' }]);
});

test('format and back-office options are checked with their schemas', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'prices:\n  options: { delimiter: ";;" }\nsales:\n  options: { bad: 1 }\n', SCHEMAS)), [
    { path: 'prices.options.delimiter', message: 'must be at most 1 characters long' },
    { path: 'sales.options.bad', message: 'unknown key "bad"' },
  ]);
  assert.deepEqual(problemsOf(() => parse(OFFICE + 'backoffice:\n  use: 1c\n  options: { apiKey: 5 }\n', SCHEMAS)), [
    { path: 'backoffice.options.apiKey', message: 'must be string (put the value in quotes)' },
  ]);
  assert.deepEqual(parse(MINIMAL + 'sales:\n  format: xml\n  options: { whatever: true }\n', SCHEMAS).sales.options, { whatever: true });
});

test('unknown scheme, format and back office list what is available', () => {
  assert.deepEqual(problemsOf(() => parse('role: office\nserver: s3://bucket\nprices: { format: cvs }\nsales: { format: json }\nbackoffice: sap\n', SCHEMAS)), [
    { path: 'server', message: 'unknown transport (URL scheme) "s3"; available: ftp, ftps, sftp' },
    { path: 'prices.format', message: 'unknown format "cvs" (did you mean "csv"?); available: csv, xml' },
    { path: 'sales.format', message: 'unknown format "json"; available: csv, xml' },
    { path: 'backoffice', message: 'unknown back office "sap"; available: 1c, generic' },
  ]);
  assert.deepEqual(problemsOf(() => parse(OFFICE + 'backoffice: { use: sap }\n', SCHEMAS)), [
    { path: 'backoffice.use', message: 'unknown back office "sap"; available: 1c, generic' },
  ]);
});

test('a broken plugin schema is reported against its section, not thrown', () => {
  const schemas: PluginSchemas = { transports: { ftp: { type: 'object', properties: { a: { type: 'strng' } } } }, formats: {}, backoffices: {} };
  const problems = problemsOf(() => parse(MINIMAL, schemas));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'serverOptions');
  assert.match(problems[0]!.message, /^cannot be checked: the option schema of transport \(URL scheme\) "ftp" is invalid/);
});

test('pluginOptions are checked when a schema for the plugin is given', () => {
  const schemas: PluginSchemas = { ...SCHEMAS, plugins: { 'cfx-s3': { type: 'object', properties: { bucket: { type: 'string' } } } } };
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'pluginOptions:\n  cfx-s3: { bucket: 1 }\n  other: 5\n', schemas)), [
    { path: 'pluginOptions.cfx-s3.bucket', message: 'must be string (put the value in quotes)' },
    { path: 'pluginOptions.other', message: 'must be object' },
  ]);
});

test('a missing file names the path and suggests cfx init', () => {
  const file = join(tmpdir(), 'cfx-no-such-dir', 'cfx.yaml');
  assert.throws(
    () => loadConfig(file, {}),
    (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.CONFIG_NOT_FOUND && e.message.includes(file) && e.message.includes('cfx init') && e.details.file === file,
  );
});

test('a YAML syntax error gives line and column', () => {
  assert.throws(
    () => parseConfig('role: terminal\nserver: [ftp://h\nterminal: x\n', { baseDir: BASE, file: 'cfx.yaml' }),
    (e: unknown) => {
      assert.ok(e instanceof CfxError);
      assert.equal(e.code, ErrorCodes.CONFIG_PARSE);
      assert.equal(typeof e.details.line, 'number');
      assert.equal(typeof e.details.column, 'number');
      assert.match(e.message, /cfx\.yaml: YAML syntax error at line \d+, column \d+: /);
      return true;
    },
  );
  assert.throws(
    () => parseConfig('role: terminal\nrole: office\n', { baseDir: BASE }),
    (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.CONFIG_PARSE && e.details.line === 2,
  );
});

test('an empty file or a non-mapping is one clear problem', () => {
  assert.deepEqual(problemsOf(() => parse('')), [{ path: '', message: 'the config is empty: it needs at least "role" and "server" (see "cfx init")' }]);
  assert.deepEqual(problemsOf(() => parse('- a\n- b\n')), [{ path: '', message: 'must be a mapping of keys (e.g. "role: terminal")' }]);
});

test('configFromObject validates an in-memory config', () => {
  const cfg = configFromObject({ role: 'office', server: 'ftp://h', terminals: ['a'] }, { baseDir: BASE, env: {} });
  assert.equal(cfg.file, undefined);
  assert.equal(cfg.dataDir, join(BASE, 'cfx-data'));
  assert.deepEqual(problemsOf(() => configFromObject({ role: 'office', server: 'ftp://h', x: 1 }, { baseDir: BASE, env: {} })), [{ path: 'x', message: 'unknown key "x"' }]);
});

test('YAML anchors and merge keys work', () => {
  const cfg = parse(MINIMAL + 'prices:\n  options: &opts { delimiter: ";" }\nsales:\n  options:\n    <<: *opts\n    encoding: cp1251\n');
  assert.deepEqual(cfg.sales.options, { delimiter: ';', encoding: 'cp1251' });
});

test('a terminal does not talk to a back office: its backoffice id is not checked', () => {
  assert.equal(parse(MINIMAL + 'backoffice: sap\n', SCHEMAS).backoffice.use, 'sap');
});

test('admin: absent = no admin server; present = 127.0.0.1:8730 unless listen says otherwise', async () => {
  assert.equal(parse(MINIMAL).admin, undefined);
  assert.deepEqual(parse(MINIMAL + 'admin: {}\n').admin, { listen: '127.0.0.1:8730', host: '127.0.0.1', port: 8730, loopback: true });
  assert.deepEqual(parse(MINIMAL + 'admin:\n').admin, { listen: '127.0.0.1:8730', host: '127.0.0.1', port: 8730, loopback: true }, '"admin:" alone turns it on');
  assert.deepEqual(parse(MINIMAL + 'admin: { listen: "[::1]:9000" }\n').admin, { listen: '[::1]:9000', host: '::1', port: 9000, loopback: true });
  assert.equal(parse(MINIMAL + 'admin: { listen: "localhost:9000" }\n').admin?.loopback, true);
  const wide = parseConfig(MINIMAL + 'admin:\n  listen: 0.0.0.0:8730\n  token: "${CFX_ADMIN_TOKEN}"\n', { baseDir: BASE, env: { ...ENV, CFX_ADMIN_TOKEN: 's3cret-s3cret-s3cret' } });
  assert.deepEqual(wide.admin, { listen: '0.0.0.0:8730', host: '0.0.0.0', port: 8730, loopback: false, token: 's3cret-s3cret-s3cret' });
  // the token is a secret: redacted when printed, scrubbed from logs
  const { redactConfig, secretValues } = await import('./index.js');
  assert.equal(redactConfig(wide).admin?.token, '***');
  assert.ok(secretValues(wide).includes('s3cret-s3cret-s3cret'));
});

test('admin: a non-loopback listen without a token is refused, naming admin.token; bad listen values name admin.listen', () => {
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { listen: "0.0.0.0:8730" }\n')), [
    { path: 'admin.token', message: 'is required when admin.listen is not a loopback address (0.0.0.0): anyone who can reach the port could change data' },
  ]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { listen: "192.168.1.10:8730" }\n')).map((p) => p.path), ['admin.token']);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { listen: "127.0.0.1:99999" }\n')), [
    { path: 'admin.listen', message: 'must be host:port with a port from 1 to 65535, e.g. "127.0.0.1:8730" or "[::1]:8730"' },
  ]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { listen: "8730" }\n')).map((p) => p.path), ['admin.listen']);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { token: short }\n')), [{ path: 'admin.token', message: 'must be at least 16 characters long' }]);
  assert.deepEqual(problemsOf(() => parse(MINIMAL + 'admin: { port: 1 }\n')), [{ path: 'admin.port', message: 'unknown key "port"' }]);
});

test('admin: the commented example of cfx init validates once uncommented', async () => {
  const { initTemplate } = await import('./index.js');
  const text = initTemplate('terminal').replace(/^# (admin:.*)$/m, '$1').replace(/^# (  (listen|token): .*)$/gm, '$1');
  assert.match(text, /^admin:/m);
  const cfg = parseConfig(text, { baseDir: BASE, env: { ...ENV, CFX_ADMIN_TOKEN: 'x'.repeat(32) } });
  assert.deepEqual(cfg.admin, { listen: '127.0.0.1:8730', host: '127.0.0.1', port: 8730, loopback: true, token: 'x'.repeat(32) });
});

test('status and fleet (docs/fleet.md): defaults 1m / 5m / 10m / 6h, durations parsed, unknown keys refused with their path', () => {
  const d = configFromObject({ role: 'office', server: 'ftp://h', terminals: ['a'] }, { baseDir: BASE, env: {} });
  assert.deepEqual([d.status, d.fleet], [{ dir: '/ftpbox/status', everyMs: 60_000 }, { staleAfterMs: 300_000, gapRetryMs: 600_000, gapRetryMaxMs: 21_600_000 }]);
  const c = configFromObject({ role: 'office', server: 'ftp://h', status: { dir: '/s/{terminal}', every: '30s' }, fleet: { staleAfter: '90s', gapRetry: '1m', gapRetryMax: '2h' } }, { baseDir: BASE, env: {} });
  assert.deepEqual([c.status, c.fleet], [{ dir: '/s/{terminal}', everyMs: 30_000 }, { staleAfterMs: 90_000, gapRetryMs: 60_000, gapRetryMaxMs: 7_200_000 }]);
  assert.deepEqual(problemsOf(() => configFromObject({ role: 'office', server: 'ftp://h', fleet: { stale: '1m' } }, { baseDir: BASE, env: {} })), [{ path: 'fleet.stale', message: 'unknown key "stale"' }]);
});
