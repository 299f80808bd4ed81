// `cfx service install|uninstall`: run this config as a service (systemd on Linux, WinSW on Windows).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CfxError, ErrorCodes } from '../api/index.js';
import { App } from '../app/app.js';
import { envReferences, type CfxConfig, type EnvReference } from '../config/index.js';
import { silentLogger } from '../util/logger.js';
import type { CliContext } from './context.js';
import { printJson, println } from './output.js';
import { envFileTemplate, serviceName, servicePaths, systemdUnit, winswXml, type ServicePlatform, type ServiceSpec } from './service-files.js';

/** core's own bin script: what the service runs, wherever cfx is installed (global, a checkout) */
export const CFX_BIN_SCRIPT = fileURLToPath(new URL('../../bin/cfx.js', import.meta.url));

/** the `${NAME}`s of a config file, read before any expansion (an unreadable file: none) */
export function configEnvReferences(file: string): EnvReference[] {
  try {
    return envReferences(parseYaml(readFileSync(file, 'utf8')));
  } catch {
    return [];
  }
}

/**
 * The config loaded for a command that does not need the secrets themselves (service install,
 * doctor's offline checks): a `${NAME}` that is not set gets a placeholder, so only real config
 * errors fail. Returns which ones were missing.
 */
export function openWithoutSecrets(file: string, env: NodeJS.ProcessEnv): { app: App; missing: string[] } {
  const missing = [...new Set(configEnvReferences(file).filter((r) => !r.hasDefault && env[r.name] === undefined).map((r) => r.name))];
  const filled = { ...env, ...Object.fromEntries(missing.map((n) => [n, 'unset'])) };
  return { app: App.open({ configFile: file, env: filled, store: false, logger: silentLogger(), strictPlugins: false }), missing };
}

/** what the service writes (ReadWritePaths=): dataDir, the log's dir, the spool, the back office's dirs */
export function writablePaths(c: CfxConfig, extra: string[] = []): string[] {
  const base = c.file ? dirname(c.file) : process.cwd();
  const dirs = [c.dataDir, ...(c.log.file ? [dirname(c.log.file)] : []), ...(c.sales.spool ? [c.sales.spool] : [])];
  if (c.role === 'office') {
    // the adapters' folders (outDir, exchangeDir, commerceml.dir, per-terminal exchangeDir): by name
    const walk = (v: unknown): void => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' && /(^dir|Dir)$/.test(k)) dirs.push(resolve(base, x));
        else walk(x);
      }
    };
    walk(c.backoffice.options);
  }
  return [...new Set([...dirs, ...extra.map((d) => resolve(base, d))])].sort();
}

interface InstallOptions {
  user?: boolean;
  print?: boolean;
  dryRun?: boolean;
  platform: ServicePlatform;
  name?: string;
  runAs?: string;
  unitDir?: string;
  envFile?: string;
  rw?: string[];
}

/** where the definition and the env file go: the defaults, or --unit-dir / --env-file */
function placesOf(ctx: CliContext, o: InstallOptions, name: string): { definition: string; envFile: string } {
  const defaults = servicePaths(name, { platform: o.platform, user: o.user === true, configDir: dirname(ctx.cfgPath()), ...(ctx.io.env.HOME ? { home: ctx.io.env.HOME } : {}) });
  return {
    definition: o.unitDir ? resolve(ctx.io.cwd, o.unitDir, `${name}.${o.platform === 'windows' ? 'xml' : 'service'}`) : defaults.definition,
    envFile: o.envFile ? resolve(ctx.io.cwd, o.envFile) : defaults.envFile,
  };
}

function specFor(ctx: CliContext, o: InstallOptions): { spec: ServiceSpec; vars: string[]; definition: string } {
  const cfgFile = ctx.cfgPath();
  const { app } = openWithoutSecrets(cfgFile, ctx.io.env);
  const c = app.config;
  const name = o.name ?? serviceName(c);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new CfxError(ErrorCodes.USAGE, `--name: letters, digits, _ . - only, got "${name}"`);
  const user = o.user === true;
  const { definition, envFile } = placesOf(ctx, o, name);
  const who = c.role === 'terminal' ? `terminal ${c.terminal}` : `office for ${c.terminals.length} terminal(s)`;
  const spec: ServiceSpec = {
    name,
    description: `cfx (CashFront exchange) ${who}`,
    node: process.execPath,
    bin: CFX_BIN_SCRIPT,
    config: cfgFile,
    envFile,
    readWrite: writablePaths(c, o.rw ?? []),
    user,
    ...(o.runAs ? { runAs: o.runAs } : {}),
  };
  const vars = [...new Set(configEnvReferences(cfgFile).map((r) => r.name))];
  return { spec, vars, definition };
}

function enableCommands(spec: ServiceSpec, platform: ServicePlatform, definition: string): string[] {
  if (platform === 'windows') {
    const exe = resolve(dirname(definition), `${spec.name}.exe`);
    return [`copy WinSW-x64.exe "${exe}"`, `"${exe}" install`, `"${exe}" start`];
  }
  const sc = spec.user ? 'systemctl --user' : 'systemctl';
  return [`${sc} daemon-reload`, `${sc} enable --now ${spec.name}`];
}

/** chown -R of the service's dirs to `user` (only root may; others get a hint) */
function handOver(dirs: string[], user: string): void {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' });
  const u = id('-u');
  if (u.status !== 0) throw new CfxError(ErrorCodes.USAGE, `--run-as ${user}: no such account (create it: useradd --system ${user})`);
  const uid = Number(u.stdout.trim());
  const gid = Number(id('-g').stdout.trim());
  if (process.getuid?.() !== 0) return;
  for (const d of dirs) {
    chownSync(d, uid, gid);
    for (const f of readdirSync(d, { recursive: true }) as string[]) chownSync(join(d, f), uid, gid);
  }
}

export function registerServiceCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const service = program.command('service').description('run this config as a service: a systemd unit (Linux) or a WinSW service definition (Windows)');
  const platformOption = () =>
    new Option('--platform <platform>', 'the service manager to write for (windows: a WinSW XML, generated on any OS)').choices(['linux', 'windows']).default(process.platform === 'win32' ? 'windows' : 'linux');

  service
    .command('install')
    .description('write the service definition for this config and an env file for its secrets (mode 0600, created with a comment if absent), then print the commands that enable it')
    .option('--user', 'a systemd user unit (~/.config/systemd/user; systemctl --user) instead of a system one')
    .option('--print', 'print the definition instead of writing anything')
    .option('--dry-run', 'same as --print')
    .addOption(platformOption())
    .option('--name <name>', 'the service name (default cfx-<terminal> or cfx-office)')
    .option('--run-as <user>', 'system unit: the account it runs as (User=); default root')
    .option('--unit-dir <dir>', 'write the definition here instead of the default place')
    .option('--env-file <file>', 'the secrets file (default /etc/cfx/<name>.env, ~/.config/cfx/<name>.env, or beside the config on Windows)')
    .option('--rw <dir...>', 'more directories the service may write to (ReadWritePaths=)')
    .action((o: InstallOptions) => {
      const { spec, vars, definition } = specFor(ctx, o);
      const text = o.platform === 'windows' ? winswXml(spec) : systemdUnit(spec);
      if (o.print || o.dryRun) {
        if (ctx.json()) printJson(io.out, { definition, envFile: spec.envFile, content: text });
        else io.out.write(text);
        return;
      }
      const existed = existsSync(definition);
      mkdirSync(dirname(definition), { recursive: true });
      writeFileSync(definition, text);
      // ReadWritePaths= of a path that does not exist fails the unit at start: make them now
      for (const d of spec.readWrite) mkdirSync(d, { recursive: true });
      // User=: the account must own what it writes (a `cfx pull` run as root before left root's files)
      if (o.runAs && !spec.user && o.platform === 'linux') handOver(spec.readWrite, o.runAs);
      let envCreated = false;
      if (!existsSync(spec.envFile)) {
        mkdirSync(dirname(spec.envFile), { recursive: true, mode: 0o700 });
        writeFileSync(spec.envFile, envFileTemplate(spec.name, vars, o.platform), { mode: 0o600 });
        envCreated = true;
      }
      // secrets: only the owner reads them, whatever the umask or an earlier file said
      if (process.platform !== 'win32') chmodSync(spec.envFile, 0o600);
      const commands = enableCommands(spec, o.platform, definition);
      if (ctx.json()) {
        printJson(io.out, { definition, envFile: spec.envFile, envFileCreated: envCreated, updated: existed, variables: vars, commands });
        return;
      }
      println(io.out, `${existed ? 'updated' : 'wrote'} ${definition}`);
      println(io.out, `secrets: ${spec.envFile} (mode 0600${envCreated ? ', created' : ''})${vars.length ? ` — put ${vars.join(', ')} there as NAME=value` : ''}`);
      if (o.platform === 'windows') {
        println(io.out, `register it (an administrator's prompt; WinSW's exe from its releases, see docs/windows.md):`);
        println(io.out, `  icacls "${spec.envFile}" /inheritance:r /grant:r SYSTEM:F Administrators:F`);
      } else println(io.out, 'enable and start it:');
      for (const c of commands) println(io.out, `  ${c}`);
      if (o.platform === 'linux' && spec.user) println(io.out, `  loginctl enable-linger ${io.env.USER ?? '$USER'}   # keep it running when you are logged out`);
      // PrivateTmp= gives the service a /tmp of its own: a config or data there is not the one it sees
      const inTmp = [spec.config, ...spec.readWrite].filter((p) => /^\/(var\/)?tmp\//.test(p));
      if (o.platform === 'linux' && !spec.user && inTmp.length) println(io.out, `warning: ${inTmp.join(', ')} under /tmp: the service has a private /tmp (PrivateTmp=) and will not see it; move it (e.g. /srv/cfx)`);
      if (o.platform === 'linux') println(io.out, `then: cfx doctor -c ${spec.config}`);
    });

  service
    .command('uninstall')
    .description('stop and disable the service (systemd, when it runs) and remove its definition; the env file stays unless --purge')
    .option('--user', 'the systemd user unit')
    .addOption(platformOption())
    .option('--name <name>', 'the service name (default from the config)')
    .option('--unit-dir <dir>', 'where it was written, when not the default place')
    .option('--env-file <file>', 'the secrets file, for --purge')
    .option('--purge', 'also delete the env file with the secrets')
    .action((o: InstallOptions & { purge?: boolean }) => {
      const name = o.name ?? serviceName(openWithoutSecrets(ctx.cfgPath(), io.env).app.config);
      const user = o.user === true;
      const { definition, envFile } = placesOf(ctx, o, name);
      const notes: string[] = [];
      const systemd = o.platform === 'linux' && !o.unitDir;
      const sc = (...args: string[]) => {
        const r = spawnSync('systemctl', [...(user ? ['--user'] : []), ...args], { encoding: 'utf8', timeout: 120_000 });
        if (r.error || r.status !== 0) notes.push(`systemctl ${user ? '--user ' : ''}${args.join(' ')}: ${(r.error?.message ?? r.stderr.trim()) || `exit ${r.status}`}`);
      };
      if (systemd && existsSync(definition)) sc('disable', '--now', name);
      if (o.platform === 'windows') notes.push(`stop and unregister it first, if registered: "${resolve(dirname(definition), `${name}.exe`)}" stop, then ... uninstall`);
      const removed = existsSync(definition);
      rmSync(definition, { force: true });
      if (systemd && removed) sc('daemon-reload');
      const purged = o.purge === true && existsSync(envFile);
      if (o.purge) rmSync(envFile, { force: true });
      if (ctx.json()) return printJson(io.out, { name, definition, removed, envFile, purged, notes });
      println(io.out, removed ? `removed ${definition}` : `no ${definition}: nothing to remove`);
      if (purged) println(io.out, `removed ${envFile}`);
      else if (existsSync(envFile)) println(io.out, `kept ${envFile} (the secrets; --purge deletes it)`);
      for (const n of notes) println(io.out, `note: ${n}`);
    });
}
