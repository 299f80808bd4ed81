import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured } from '../testing/index.js';
import { CFX_BIN_SCRIPT } from './service.js';

/** a deployment in a dir whose name needs quoting everywhere: a space, & (XML), % (systemd specifier), $ */
function deployment(): { dir: string; config: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'cfx-svc-')), 'Box Office & Café 100% $HOME');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    'role: terminal\nterminal: box-1\ndataDir: ./data dir\nserver: "ftp://cfx:${CFX_FTP_PASSWORD}@127.0.0.1:21"\nadmin: { token: "${CFX_ADMIN_TOKEN:-0123456789abcdef}" }\nlog: { file: ./logs/cfx.log }\n',
  );
  return { dir, config };
}

const cli = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runCliCaptured(['node', 'cfx', ...args], { cwd, env: { HOME: join(cwd, 'home'), ...env } });

/** systemd's word splitting of a command line (quotes, C escapes), `%%` → `%` and `$$` → `$` after */
function systemdWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push((m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!).replace(/%%/g, '%').replace(/\$\$/g, '$'));
  return words;
}

function systemdAnalyze(): string | undefined {
  const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `systemd-analyze cannot run here (${r.error?.message ?? r.stderr.trim()}): install Debian's systemd package (test/servers/install.sh)` : undefined;
}

test('the systemd unit: absolute node, bin and config quoted, env file, restart, hardening; systemd-analyze verify finds nothing', async (t) => {
  const { dir, config } = deployment();
  const r = await cli(['service', 'install', '--print'], dir);
  assert.equal(r.code, 0, r.err);
  const unit = r.out;
  const get = (k: string) => unit.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
  assert.deepEqual(systemdWords(get('ExecStart')[0]!), [process.execPath, CFX_BIN_SCRIPT, '--config', config, 'run']);
  assert.deepEqual(systemdWords(get('ReadWritePaths')[0]!), [join(dir, 'data dir'), join(dir, 'logs')]);
  assert.deepEqual(get('EnvironmentFile'), ['/etc/cfx/cfx-box-1.env']);
  assert.deepEqual(get('WorkingDirectory'), [dir.replace(/%/g, '%%')]);
  for (const [k, v] of [['Restart', 'on-failure'], ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['WantedBy', 'multi-user.target']]) assert.deepEqual(get(k!), [v], k);

  const why = systemdAnalyze();
  if (why) return t.skip(why);
  // verify reads the unit by its file name; it checks ExecStart's binary exists and every key parses
  const file = join(mkdtempSync(join(tmpdir(), 'cfx-unit-')), 'cfx-box-1.service');
  writeFileSync(file, unit);
  const v = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 60_000 });
  if (/System has not been booted|Failed to connect to bus|Failed to initialize manager/i.test(v.stderr) && v.status !== 0) return t.skip(`systemd-analyze verify cannot run in this container: ${v.stderr.trim()}`);
  // a key it cannot parse is only a warning with exit 0: any line about our unit fails the test
  const ours = v.stderr.split('\n').filter((l) => l.includes('cfx-box-1'));
  assert.equal(v.status, 0, v.stderr);
  assert.deepEqual(ours, [], v.stderr);

  const user = await cli(['service', 'install', '--print', '--user'], dir);
  const uf = join(mkdtempSync(join(tmpdir(), 'cfx-unit-')), 'cfx-box-1.service');
  writeFileSync(uf, user.out);
  const uv = spawnSync('systemd-analyze', ['--user', 'verify', uf], { encoding: 'utf8', timeout: 60_000 });
  if (uv.status === 0) assert.deepEqual(uv.stderr.split('\n').filter((l) => l.includes('cfx-box-1')), [], uv.stderr);
  assert.match(user.out, /^WantedBy=default\.target$/m);
  assert.match(user.out, /^EnvironmentFile=.*\/home\/\.config\/cfx\/cfx-box-1\.env$/m);
});

test('install writes the unit and a 0600 env file naming the variables, prints the two commands; uninstall removes the unit, --purge the secrets', async () => {
  const { dir } = deployment();
  const units = join(dir, 'units');
  const env = join(dir, 'secrets', 'cfx.env');
  const r = await cli(['service', 'install', '--unit-dir', units, '--env-file', env], dir);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(units, 'cfx-box-1.service')));
  assert.match(r.out, /^ {2}systemctl daemon-reload$/m);
  assert.match(r.out, /^ {2}systemctl enable --now cfx-box-1$/m);
  assert.equal(statSync(env).mode & 0o777, 0o600);
  const text = readFileSync(env, 'utf8');
  assert.match(text, /^# CFX_FTP_PASSWORD=$/m);
  assert.match(text, /^# CFX_ADMIN_TOKEN=$/m);
  assert.ok(existsSync(join(dir, 'data dir')) && existsSync(join(dir, 'logs')), 'ReadWritePaths exist before the unit starts');

  writeFileSync(env, 'CFX_FTP_PASSWORD=secret\n', { mode: 0o644 });
  const again = await cli(['--json', 'service', 'install', '--unit-dir', units, '--env-file', env], dir);
  assert.equal(again.json().updated, true);
  assert.equal(readFileSync(env, 'utf8'), 'CFX_FTP_PASSWORD=secret\n', 'an existing env file is kept');
  assert.equal(statSync(env).mode & 0o777, 0o600, 'and made 0600');

  const bad = await cli(['service', 'install', '--unit-dir', units, '--env-file', env, '--run-as', 'no-such-account-cfx'], dir);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.err, /no such account/);
  if (process.getuid?.() === 0) {
    writeFileSync(join(dir, 'data dir', 'catalog.db'), '');
    const as = await cli(['service', 'install', '--unit-dir', units, '--env-file', env, '--run-as', 'nobody'], dir);
    assert.equal(as.code, 0, as.err);
    assert.match(readFileSync(join(units, 'cfx-box-1.service'), 'utf8'), /^User=nobody$/m);
    assert.equal(statSync(join(dir, 'data dir', 'catalog.db')).uid, 65534, 'the account owns the data dir, files from before included');
  }

  const un = await cli(['service', 'uninstall', '--unit-dir', units, '--env-file', env], dir);
  assert.equal(un.code, 0, un.err);
  assert.ok(!existsSync(join(units, 'cfx-box-1.service')));
  assert.ok(existsSync(env), 'secrets kept without --purge');
  await cli(['service', 'uninstall', '--unit-dir', units, '--env-file', env, '--purge'], dir);
  assert.ok(!existsSync(env));
});

/** CommandLineToArgvW: how the Windows C runtime splits WinSW's <arguments> */
function windowsArgv(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    let arg = '';
    let quoted = false;
    for (; i < s.length && (quoted || s[i] !== ' '); i++) {
      let bs = 0;
      while (s[i] === '\\') (bs++, i++);
      if (s[i] === '"') {
        arg += '\\'.repeat(Math.floor(bs / 2));
        if (bs % 2) arg += '"';
        else quoted = !quoted;
      } else {
        arg += '\\'.repeat(bs);
        if (i < s.length && (quoted || s[i] !== ' ')) arg += s[i];
        else i--;
      }
    }
    out.push(arg);
  }
  return out;
}

test('--platform windows: a well-formed WinSW XML whose arguments split back into the paths with spaces', async (t) => {
  const { dir, config } = deployment();
  const r = await cli(['service', 'install', '--platform', 'windows', '--print'], dir);
  assert.equal(r.code, 0, r.err);
  const xml = r.out;
  const tag = (name: string) => {
    const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
    assert.ok(m, `<${name}>`);
    return m[1]!.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  };
  assert.equal(tag('id'), 'cfx-box-1');
  assert.equal(tag('executable'), process.execPath);
  assert.deepEqual(windowsArgv(tag('arguments')), [`--env-file=${join(dir, 'cfx-box-1.env')}`, CFX_BIN_SCRIPT, '--config', config, 'run']);
  assert.equal(tag('workingdirectory'), dir);
  assert.match(xml, /<onfailure action="restart"/);
  const lint = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
  if (lint.error) return t.skip(`xmllint not installed (libxml2-utils): ${lint.error.message}`);
  assert.equal(lint.status, 0, lint.stderr);
});
