// `cfx doctor`: every way a deployment can be broken, checked in one go and explained.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, posix } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { errorMessage, TransportError, type Transport } from '../api/index.js';
import { App } from '../app/app.js';
import { configWarnings, redactUrl, renderProblems, isLoopbackHost } from '../config/index.js';
import { expandTemplate } from '../jobs/shared/names.js';
import { silentLogger } from '../util/logger.js';
import type { CliContext } from './context.js';
import { Exit } from './exit.js';
import { printJson, println } from './output.js';
import { serviceName, servicePaths } from './service-files.js';
import { configEnvReferences, openWithoutSecrets } from './service.js';

export type Level = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  /** stable id for scripts: config, secrets, server.reachable, server.login, dir.inbox, … */
  id: string;
  level: Level;
  /** what was found */
  message: string;
  /** what to do about it (WARN and FAIL) */
  fix?: string;
}

/** the server's clock may differ this much before it is worth a warning (LIST times have minutes only) */
export const CLOCK_SKEW_WARN_MS = 2 * 60_000;
/** free space under this on the data dir's disk is a warning: a price file and its archive copy must fit */
export const FREE_SPACE_WARN_BYTES = 1024 ** 3;

const DEFAULT_PORTS: Record<string, number> = { ftp: 21, ftps: 21, sftp: 22, nats: 4222, tls: 4222 };

/** the env file `cfx service install` wrote for this config (system, user or Windows), when readable */
function serviceEnv(name: string, configDir: string, env: NodeJS.ProcessEnv): { file: string; vars: Record<string, string> } | undefined {
  const candidates = [
    ...(process.platform === 'win32' ? [servicePaths(name, { platform: 'windows', user: false, configDir })] : []),
    servicePaths(name, { platform: 'linux', user: false, configDir }),
    servicePaths(name, { platform: 'linux', user: true, configDir, ...(env.HOME ? { home: env.HOME } : {}) }),
  ].map((p) => p.envFile);
  for (const file of candidates) {
    try {
      return { file, vars: parseEnvFile(readFileSync(file, 'utf8')) };
    } catch {
      /* not there, or not ours to read */
    }
  }
  return undefined;
}

/** NAME=value lines as systemd's EnvironmentFile= and node --env-file read them (comments, optional quotes) */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return vars;
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (err?: string) => {
      s.destroy();
      resolve(err);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    s.once('connect', () => done());
    s.once('error', (e) => done(e.message));
  });
}

/** the nearest existing dir at or above `dir` (a dataDir not made yet is made by the first run) */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function probeLocalWrite(dir: string): string | undefined {
  const f = join(dir, `.cfx-doctor-${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(f, 'cfx doctor\n');
    rmSync(f);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

const mb = (n: number) => `${Math.round(n / 1024 ** 2)} MB`;

/** Runs every check; never throws (a check that cannot run says why). */
export async function runDoctor(cfgFile: string, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (id: string, level: Level, message: string, fix?: string) => checks.push({ id, level, message, ...(fix ? { fix } : {}) });

  // 1. the config, without needing its secrets yet (they are the next check)
  let loaded: ReturnType<typeof openWithoutSecrets>;
  try {
    loaded = openWithoutSecrets(cfgFile, env);
  } catch (e) {
    const problems = (e as { details?: { problems?: Parameters<typeof renderProblems>[0] } }).details?.problems;
    add('config', 'FAIL', problems?.length ? `${cfgFile}:\n${renderProblems(problems)}` : errorMessage(e), 'fix the config (cfx config check shows every problem with its line); the other checks need a valid config');
    return checks;
  }
  const c0 = loaded.app.config;
  await loaded.app.close();
  const name = serviceName(c0);
  add('config', 'OK', `${cfgFile}: ${c0.role === 'terminal' ? `terminal ${c0.terminal}` : `office for ${c0.terminals.length} terminal(s)`}, server ${redactUrl(c0.server)}`);

  // 2. secrets: every ${NAME} without a default, from the environment or the service's env file
  const refs = configEnvReferences(cfgFile).filter((r) => !r.hasDefault);
  const svcEnv = loaded.missing.length ? serviceEnv(name, dirname(cfgFile), env) : undefined;
  const fullEnv = { ...(svcEnv?.vars ?? {}), ...env };
  const stillMissing = loaded.missing.filter((n) => fullEnv[n] === undefined);
  if (stillMissing.length) {
    const where = refs.filter((r) => stillMissing.includes(r.name)).map((r) => `${r.name} (${r.path})`);
    add('secrets', 'FAIL', `not set: ${[...new Set(where)].join(', ')}`, `export ${stillMissing.join(', ')} in this shell, or put NAME=value in ${svcEnv?.file ?? servicePaths(name, { platform: process.platform === 'win32' ? 'windows' : 'linux', user: false, configDir: dirname(cfgFile) }).envFile} (what the service reads; cfx service install creates it)`);
  } else {
    const names = [...new Set(refs.map((r) => r.name))];
    add('secrets', 'OK', names.length ? `set: ${names.join(', ')}${svcEnv && loaded.missing.length ? ` (${loaded.missing.join(', ')} from ${svcEnv.file})` : ''}` : 'the config refers to no environment variable');
  }
  for (const w of configWarnings(c0)) add('secrets', 'WARN', `${w.path}: ${w.message}`, 'move the value into the environment / the service env file and write ${NAME} in cfx.yaml');

  // 3. the deployment as it really runs
  let app: App;
  try {
    app = App.open({ configFile: cfgFile, env: stillMissing.length ? { ...fullEnv, ...Object.fromEntries(stillMissing.map((n) => [n, 'unset'])) } : fullEnv, store: false, logger: silentLogger(), strictPlugins: false });
  } catch (e) {
    add('config', 'FAIL', errorMessage(e), 'fix the config (cfx config check)');
    return checks;
  }
  try {
    const c = app.config;

    // plugins: every one activated, as `cfx run` would
    try {
      await app.host.activateAll();
    } catch {
      /* each failure is in its status below */
    }
    const plugins = app.host.list();
    const failed = plugins.filter((p) => p.state === 'failed');
    for (const r of app.host.refused) add('plugins', 'FAIL', `${r.plugin} refused: ${r.message}`, 'fix or remove it from "plugins:" (cfx plugins check PATH)');
    for (const p of failed) add('plugins', 'FAIL', `${p.id} (${p.packageName}) failed to activate: ${p.error?.message ?? 'unknown error'}`, 'reinstall the plugin or remove it from "plugins:"');
    if (!failed.length && !app.host.refused.length) add('plugins', 'OK', `${plugins.length} loaded: ${plugins.map((p) => p.id).join(', ')}`);

    await serverChecks(app, add, stillMissing);
    localChecks(c.dataDir, add);
    add(...serviceCheck(name));
  } finally {
    await app.close();
  }
  return checks;
}

type Add = (id: string, level: Level, message: string, fix?: string) => void;

async function serverChecks(app: App, add: Add, missingSecrets: string[]): Promise<void> {
  const c = app.config;
  const url = new URL(c.server);
  const scheme = url.protocol.replace(/:$/, '');
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];

  // identity: is it the server we mean (host key, certificate), is the password safe on the wire
  const opts = c.serverOptions as { hostKey?: unknown; tls?: { rejectUnauthorized?: boolean } };
  if (scheme === 'sftp') {
    if (opts.hostKey === 'tofu') add('server.identity', 'WARN', 'hostKey: tofu trusts whatever key the server shows first', 'pin it: serverOptions.hostKey: "SHA256:…" (ssh-keyscan HOST | ssh-keygen -lf -), see docs/sftp.md');
    else if (opts.hostKey === undefined) add('server.identity', 'FAIL', 'no serverOptions.hostKey: every connection is refused', 'pin the host key: serverOptions.hostKey: "SHA256:…" (docs/sftp.md)');
    else add('server.identity', 'OK', 'host key pinned');
  } else if (scheme === 'ftps') {
    if (opts.tls?.rejectUnauthorized === false) add('server.identity', 'WARN', 'the server certificate is not verified (tls.rejectUnauthorized: false)', 'give the CA instead: serverOptions.tls.ca: /path/ca.pem');
    else add('server.identity', 'OK', 'TLS, certificate verified');
  } else if (scheme === 'nats') {
    if (isLoopbackHost(url.hostname)) add('server.identity', 'OK', 'NATS on this machine');
    else add('server.identity', 'WARN', `nats:// to ${url.hostname}: unless the server requires TLS, the password and the files cross the network in clear text`, 'use tls:// (serverOptions.tls.ca for a private CA), see docs/scale.md');
  } else if (scheme === 'ftp') {
    if (isLoopbackHost(url.hostname)) add('server.identity', 'OK', 'plain FTP on this machine');
    else add('server.identity', 'WARN', `plain FTP to ${url.hostname}: the password and the files cross the network in clear text`, 'over the internet use ftps:// or sftp://');
  }

  if (port !== undefined && url.hostname) {
    const err = await tcpReachable(url.hostname, port, Math.min(c.timeoutMs, 10_000));
    if (err) {
      add('server.reachable', 'FAIL', `${url.hostname}:${port}: ${err}`, 'check the host and port in "server:", the network, and that the server runs (a firewall may drop the connection)');
      return;
    }
    add('server.reachable', 'OK', `${url.hostname}:${port} answers`);
  }
  if (missingSecrets.length) {
    add('server.login', 'WARN', `not tried: ${missingSecrets.join(', ')} not set`, 'set the secrets (above), then run cfx doctor again');
    return;
  }

  let t: Transport;
  try {
    t = await app.newTransport();
    await t.list('/');
    add('server.login', 'OK', `logged in as ${decodeURIComponent(url.username) || '(no user)'}`);
  } catch (e) {
    const kind = e instanceof TransportError ? e.kind : undefined;
    add('server.login', 'FAIL', `login or first listing failed${kind ? ` (${kind})` : ''}: ${errorMessage(e)}`, kind === 'PermissionDenied' || /530|auth|password|login/i.test(errorMessage(e)) ? 'check the user and the password (its ${NAME} in the env file), and that the account may log in' : 'check the server settings (serverOptions) and its log');
    return;
  }

  // the dirs this role lists and writes, each probed with a temp file (a name the jobs never take)
  const dirs: { id: string; dir: string; what: string }[] = [];
  if (c.role === 'terminal') {
    dirs.push({ id: 'dir.inbox', dir: expandTemplate(c.prices.dir, { terminal: c.terminal }), what: 'prices.dir' });
    dirs.push({ id: 'dir.sales', dir: expandTemplate(c.sales.dir, { terminal: c.terminal }), what: 'sales.dir' });
  } else {
    for (const term of c.terminals) dirs.push({ id: `dir.inbox.${term}`, dir: expandTemplate(c.prices.dir, { terminal: term }), what: 'prices.dir' });
    const sales = c.sales.dir.includes('{terminal}') ? c.terminals.map((term) => expandTemplate(c.sales.dir, { terminal: term })) : [c.sales.dir];
    for (const d of sales) dirs.push({ id: 'dir.sales', dir: d, what: 'sales.dir' });
  }
  const skews: number[] = [];
  for (const { id, dir, what } of dirs) {
    try {
      await t.list(dir);
    } catch (e) {
      const missing = e instanceof TransportError && e.kind === 'NotFound';
      add(id, 'FAIL', missing ? `${dir} does not exist on the server` : `${dir}: cannot list it: ${errorMessage(e)}`, missing ? `create it on the server (writable by this account), or correct ${what}` : 'give the account read access to it');
      continue;
    }
    const probe = posix.join(dir, `.cfx-doctor-${randomBytes(4).toString('hex')}.tmp`);
    const before = Date.now();
    try {
      await t.write(probe, Buffer.from('cfx doctor\n'));
    } catch (e) {
      add(id, 'FAIL', `${dir} exists but a file cannot be written there: ${errorMessage(e)}`, 'give the account write (and delete) permission on it');
      continue;
    }
    const after = Date.now();
    try {
      const entry = (await t.list(dir)).find((x) => x.name === posix.basename(probe));
      if (entry?.mtime) skews.push(skewMs(entry.mtime, before, after));
    } finally {
      try {
        await t.delete(probe);
        add(id, 'OK', `${dir} exists, a test file was written and removed`);
      } catch (e) {
        add(id, 'FAIL', `${dir}: the test file ${probe} was written but cannot be deleted: ${errorMessage(e)}`, 'give the account delete permission there (a price file is deleted after it is applied), and remove the file');
      }
    }
  }
  if (skews.length) {
    const worst = skews.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
    const s = Math.round(worst / 1000);
    if (Math.abs(worst) > CLOCK_SKEW_WARN_MS) add('server.clock', 'WARN', `the server's clock is ${Math.abs(s)} s ${s > 0 ? 'ahead' : 'behind'} (a file it just wrote has that mtime)`, 'sync both clocks (NTP: timedatectl set-ntp true); file times and archive days come from them');
    else add('server.clock', 'OK', `within ${CLOCK_SKEW_WARN_MS / 60_000} min of this machine's clock`);
  } else if (dirs.length) add('server.clock', 'WARN', 'not measured: the server lists no modification times', 'nothing to do unless files are taken too early; then set prices.stable');
}

/**
 * How far the server's mtime is from the time the write happened ([before, after] here). A LIST
 * mtime without seconds means "some time in that minute": only the distance outside it counts.
 */
export function skewMs(mtime: Date, before: number, after: number): number {
  const lo = mtime.getTime();
  const hi = lo + (mtime.getUTCSeconds() === 0 && mtime.getUTCMilliseconds() === 0 ? 60_000 : 1000);
  if (hi < before) return hi - before;
  if (lo > after) return lo - after;
  return 0;
}

function localChecks(dataDir: string, add: Add): void {
  const at = existingAncestor(dataDir);
  const err = probeLocalWrite(at);
  if (err) add('data.writable', 'FAIL', `${at === dataDir ? dataDir : `${dataDir} (not there yet; its parent ${at})`} is not writable: ${err}`, `give the service's account write permission (e.g. chown -R <user> ${dataDir}), or point dataDir elsewhere`);
  else add('data.writable', 'OK', at === dataDir ? `${dataDir} is writable` : `${dataDir} will be created (${at} is writable)`);

  try {
    const fs = statfsSync(at);
    const free = fs.bavail * fs.bsize;
    if (free < FREE_SPACE_WARN_BYTES) add('data.space', 'WARN', `${mb(free)} free on the disk of ${at}`, `free some space: a price file is staged and archived there (archive.keepDays, log.rotate bound the rest)`);
    else add('data.space', 'OK', `${mb(free)} free`);
  } catch (e) {
    add('data.space', 'WARN', `cannot tell the free space: ${errorMessage(e)}`);
  }

  for (const db of ['catalog.db', 'journal.db']) {
    const file = join(dataDir, db);
    if (!existsSync(file)) {
      add(`store.${db.split('.')[0]}`, 'OK', `${db} not created yet (the first run creates it)`);
      continue;
    }
    try {
      accessSync(file, constants.R_OK);
      const conn = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const rows = conn.pragma('integrity_check') as { integrity_check: string }[];
        const bad = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
        if (bad.length) add(`store.${db.split('.')[0]}`, 'FAIL', `${file}: integrity_check: ${bad.slice(0, 5).join('; ')}`, 'stop cfx, keep a copy of the file, then restore it from a backup (docs/reliability.md); the catalog can be rebuilt from the next full price file');
        else add(`store.${db.split('.')[0]}`, 'OK', `${db}: integrity_check ok`);
      } finally {
        conn.close();
      }
    } catch (e) {
      add(`store.${db.split('.')[0]}`, 'FAIL', `${file}: ${errorMessage(e)}`, 'check its permissions, or whether the disk is failing');
    }
  }
}

/** systemd (or Windows' service control): installed? running? */
function serviceCheck(name: string): [string, Level, string, string?] {
  if (process.platform === 'win32') {
    const r = spawnSync('sc', ['query', name], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return ['service', 'WARN', `no Windows service ${name}`, 'cfx service install --platform windows, then register it with WinSW (docs/windows.md)'];
    return /RUNNING/.test(r.stdout) ? ['service', 'OK', `${name} is running`] : ['service', 'WARN', `${name} is installed but not running`, `${name}.exe start`];
  }
  for (const user of [false, true]) {
    const sc = (...a: string[]) => spawnSync('systemctl', [...(user ? ['--user'] : []), ...a], { encoding: 'utf8', timeout: 10_000 });
    const en = sc('is-enabled', `${name}.service`);
    if (en.error) return ['service', 'WARN', `cannot ask systemd: ${en.error.message}`, 'run cfx under a service manager: cfx service install'];
    const state = en.stdout.trim();
    if (en.status !== 0 && (state === '' || state === 'not-found')) continue;
    const act = sc('is-active', `${name}.service`).stdout.trim();
    const how = `systemctl${user ? ' --user' : ''}`;
    if (act === 'active') return ['service', 'OK', `${name} is ${state} and active`];
    if (act === 'failed') return ['service', 'FAIL', `${name} has failed`, `journalctl${user ? ' --user' : ''} -u ${name} -n 50 shows why; then ${how} restart ${name}`];
    return ['service', 'WARN', `${name} is installed (${state || 'unknown'}) but ${act || 'not active'}`, `${how} enable --now ${name}`];
  }
  const unit = servicePaths(name, { platform: 'linux', user: false, configDir: '' }).definition;
  if (existsSync(unit)) return ['service', 'WARN', `${unit} exists but systemd does not know it (or does not run here)`, 'systemctl daemon-reload && systemctl enable --now ' + name];
  return ['service', 'WARN', `${name} is not installed as a service`, 'cfx service install (then the two systemctl commands it prints)'];
}

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('doctor')
    .description('check everything a deployment needs — config, secrets, server (reachable, login, dirs writable, clock), host key, data dir (writable, free space, SQLite integrity), plugins, service — each OK/WARN/FAIL with what to do; exit 1 when any FAILs')
    .action(async () => {
      const checks = await runDoctor(ctx.cfgPath(), io.env);
      const ok = !checks.some((c) => c.level === 'FAIL');
      if (ctx.json()) printJson(io.out, { ok, checks });
      else {
        const w = Math.max(...checks.map((c) => c.id.length));
        for (const c of checks) {
          const [first, ...rest] = c.message.split('\n');
          println(io.out, `${c.level.padEnd(4)}  ${c.id.padEnd(w)}  ${first}`);
          for (const l of rest) println(io.out, `${' '.repeat(w + 8)}${l}`);
          if (c.fix && c.level !== 'OK') println(io.out, `${' '.repeat(w + 8)}→ ${c.fix}`);
        }
        const n = (l: Level) => checks.filter((c) => c.level === l).length;
        println(io.out, `\n${n('OK')} OK, ${n('WARN')} WARN, ${n('FAIL')} FAIL`);
      }
      ctx.setExit(ok ? Exit.OK : Exit.FAILED);
    });
}
