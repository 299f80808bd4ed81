import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { CfxError, ErrorCodes, errorMessage, isCfxError } from '../api/index.js';
// Only types (erased) from the heavy modules: every command imports what it uses in its action,
// so `cfx --version`/`--help` load commander and this file, and no command pays for ajv, the
// scheduler, the daemon or the admin server it does not run (issue 20, start-up).
import type { App } from '../app/app.js';
import type { PluginHost } from '../host/index.js';
import type { PullProgress, PullResult } from '../jobs/prices-pull/price-pull.js';
import { needsAttention } from '../jobs/prices-pull/messages.js';
import { EXIT_HELP, Exit, errorJson, exitCodeFor } from './exit.js';
import { defaultIo, milli, money, printJson, println, table, type Io } from './output.js';
import type { CliContext } from './context.js';
import { registerQuarantineCommands } from './quarantine.js';
import { registerDebugCommands } from './debug.js';
import { registerSalesCommands } from './sales.js';
import { registerShiftCommands } from './shift.js';
import { registerJobCommands } from './job.js';
import { registerOfficeCommands } from './office.js';
import { registerPluginDevCommands } from './plugin-dev-commands.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Globals {
  config: string;
  json?: boolean;
  logLevel?: string;
  quiet?: boolean;
}

const DESCRIPTION = `cfx (CashFront exchange) moves price files from the back office (1C/BAS) to the
box office terminals and every sale back, over a plain FTP server (SFTP and others as plugins).
Nothing is lost or delivered twice: every file that crosses the wire has a local copy, and a
crash at any moment leaves a state the next run completes.`;

const EXAMPLES = `
Examples:
  cfx init --role terminal          write a commented cfx.yaml to start from
  cfx config check                  validate it (every problem as "path: message")
  cfx pull                          take the price files waiting on the server now
  cfx catalog --code 1001           show one product (prices as decimal strings)
  cfx run                           the service: poll prices every second, run scheduled jobs
  cfx status --json                 what happened last, for scripts and monitoring

Files (under dataDir, default ./cfx-data):
  catalog-<n>.db, journal.db        the SQLite store (catalog + inbox log; sales journal, runs);
  catalog.current                   names the catalog file in use (none yet: catalog.db)
  archive/prices/YYYY-MM-DD/        a copy of every price file applied
  quarantine/                       rejected files, each with a .reason.json (file, line, field)

Environment:
  \${NAME} in cfx.yaml expands from the environment (e.g. CFX_FTP_PASSWORD).

${EXIT_HELP}
`;

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let exitCode: number = Exit.OK;
  const program = new Command('cfx')
    .description(DESCRIPTION)
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'the config file', 'cfx.yaml')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .option('-q, --quiet', 'no logs on the terminal (same as --log-level silent)')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run "cfx --help" for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  program.enablePositionalOptions(false);
  program.hook('preAction', async () => {
    AppClass ??= (await import('../app/app.js')).App;
  });

  const g = (): Globals => program.opts<Globals>();
  const cfgPath = () => resolve(io.cwd, g().config);
  const logLevel = () => (g().quiet ? 'silent' : g().logLevel);
  // ctx.open stays synchronous for the command modules: the App class is imported once, by the
  // preAction hook below, before any action runs (never for --version/--help, which have none)
  let AppClass: typeof App | undefined;
  const open = (store: 'rw' | 'ro' | false) => {
    const lvl = logLevel();
    return AppClass!.open({ configFile: cfgPath(), env: io.env, store, ...(lvl ? { logLevel: lvl } : {}) });
  };
  const set = (c: number) => {
    exitCode = c;
  };
  const ctx: CliContext = { io, json: () => g().json === true, cfgPath, open, setExit: set };

  program
    .command('init')
    .description('write a commented cfx.yaml for a terminal (box office) or the office')
    .addOption(new Option('--role <role>', 'terminal or office').choices(['terminal', 'office']).default('terminal'))
    .option('--force', 'overwrite an existing file')
    .action(async (o: { role: 'terminal' | 'office'; force?: boolean }) => {
      const { initTemplate } = await import('../config/template.js');
      const file = cfgPath();
      if (existsSync(file) && !o.force) throw new CfxError(ErrorCodes.USAGE, `${file} exists; use --force to overwrite it`);
      writeFileSync(file, initTemplate(o.role));
      if (g().json) printJson(io.out, { written: file, role: o.role });
      else println(io.out, `wrote ${file} (role: ${o.role}); edit it, then run: cfx config check`);
    });

  const config = program.command('config').description('configuration commands');
  config
    .command('check')
    .description('validate the config file: exit 0 with a summary (and any warning, e.g. a secret written in the file), or exit 2 with every problem as "path: message"')
    .option('--print', 'also print the resolved config with secrets redacted')
    .option('--strict', 'warnings are errors (exit 2): e.g. a password or token written in the file instead of ${ENV}')
    .action(async (o: { print?: boolean; strict?: boolean }) => {
      const { configWarnings, redactConfig, redactUrl, renderProblems } = await import('../config/index.js');
      const { silentLogger } = await import('../util/logger.js');
      const app = AppClass!.open({ configFile: cfgPath(), env: io.env, store: false, logger: silentLogger(), ...(o.strict ? { strictConfig: true } : {}) });
      const c = app.config;
      const red = redactConfig(c, app.host.schemas());
      const warnings = configWarnings(c);
      if (g().json) printJson(io.out, { ok: true, file: c.file, warnings, config: red });
      else {
        if (warnings.length) println(io.err, renderProblems(warnings).split('\n').map((l) => `warning: ${l}`).join('\n'));
        const who = c.role === 'terminal' ? `terminal ${c.terminal}` : `office for ${c.terminals.length} terminal(s)`;
        println(io.out, `${c.file}: OK${warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})` : ''} — ${who}, server ${redactUrl(c.server)}, prices ${c.prices.format} every ${c.prices.pollMs} ms from ${c.prices.dir}, sales ${c.sales.format} to ${c.sales.dir}`);
        if (o.print) printJson(io.out, red);
      }
    });

  const plugins = program.command('plugins').description('installed plugins');
  const renderPlugins = (host: PluginHost) => {
    const list = host.list();
    if (g().json) return printJson(io.out, { plugins: list, refused: host.refused });
    const contrib = (p: (typeof list)[number]) =>
      [...p.contributes.transports.map((t) => `${t}://`), ...p.contributes.formats.map((f) => `format:${f}`), ...p.contributes.backoffices.map((b) => `backoffice:${b}`)].join(' ') || '-';
    println(io.out, table(list.map((p) => [p.id, p.version, p.packageName, contrib(p), p.state + (p.error ? `: ${p.error.message}` : '')]), ['ID', 'VERSION', 'PACKAGE', 'CONTRIBUTES', 'STATE']));
    for (const r of host.refused) println(io.out, `refused  ${r.plugin}: ${r.message}`);
  };
  const hostFor = async () => {
    const { silentLogger } = await import('../util/logger.js');
    const file = cfgPath();
    if (existsSync(file)) return AppClass!.open({ configFile: file, env: io.env, store: false, logger: silentLogger(), strictPlugins: false }).host;
    // without a config: the built-ins alone, so `cfx plugins list` works on a fresh install
    const { PluginHost } = await import('../host/index.js');
    return PluginHost.discover({ logger: silentLogger(), dataDir: resolve(io.cwd, 'cfx-data'), baseDir: io.cwd, strict: false });
  };
  plugins
    .command('list')
    .description('plugins found (built-in and from the config), what they contribute, their state; imports no plugin code')
    .action(async () => {
      const host = await hostFor();
      renderPlugins(host);
      if (host.refused.length) set(Exit.USAGE);
    });
  plugins
    .command('status')
    .description('activate every plugin and show its state and last error')
    .action(async () => {
      const host = await hostFor();
      await host.activateAll();
      renderPlugins(host);
      if (host.refused.length || host.list().some((p) => p.state === 'failed')) set(Exit.FAILED);
      await host.dispose();
    });

  program
    .command('status')
    .description('role, server, catalog, last exchanges, pending sales, quarantined files (reads the store; connects nowhere)')
    .action(async () => {
      const [{ collectStatus, renderStatus }, { silentLogger }] = await Promise.all([import('./status.js'), import('../util/logger.js')]);
      const app = AppClass!.open({ configFile: cfgPath(), env: io.env, store: false, logger: silentLogger() });
      const st = collectStatus(app);
      if (g().json) printJson(io.out, st);
      else println(io.out, renderStatus(st));
    });

  program
    .command('pull')
    .description('terminal: take every complete price file waiting on the server now, apply it, archive it, delete it remotely')
    .action(async () => {
      const { interruptible } = await import('./interrupt.js');
      const app = open('rw');
      try {
        await interruptible(ctx, app, 'cfx pull', async (stop) => {
          const result = await pullOnce(app, io, g().json === true, stop);
          if (g().json) printJson(io.out, result);
          else printPull(io, result);
          // no silent success: a file quarantined, lines skipped or a non-empty file that applied nothing
          if (result.files.some(needsAttention)) set(Exit.REJECTED);
        });
      } finally {
        await app.close();
      }
    });

  program
    .command('catalog')
    .description('show the local catalog (prices as decimal strings)')
    .option('--code <code>', 'one product by code')
    .option('--barcode <barcode>', 'one product by barcode')
    .option('--search <text>', 'code, barcode or name prefix')
    .option('--limit <n>', 'rows to show', (v) => parseInt(v, 10), 50)
    .option('--offset <n>', 'rows to skip', (v) => parseInt(v, 10), 0)
    .action((o: { code?: string; barcode?: string; search?: string; limit: number; offset: number }) => {
      const app = open('ro');
      try {
        const s = app.store;
        const one = o.code !== undefined ? s.catalog.get(o.code) : o.barcode !== undefined ? s.catalog.findByBarcode(o.barcode) : undefined;
        if ((o.code !== undefined || o.barcode !== undefined) && !one) {
          throw new CfxError(ErrorCodes.USAGE, `no product with ${o.code !== undefined ? `code ${o.code}` : `barcode ${o.barcode}`}`);
        }
        const items = one ? [one] : s.catalog.list({ limit: o.limit, offset: o.offset, ...(o.search ? { q: o.search } : {}) });
        const view = items.map((p) => ({ ...p, price: money(p.price), ...(p.stock !== undefined ? { stock: milli(p.stock) } : {}) }));
        if (g().json) printJson(io.out, one ? view[0] : { total: s.catalog.count(), offset: o.offset, items: view });
        else {
          println(io.out, table(view.map((p) => [p.code, p.barcodes.join(','), p.name, p.price, p.enabled === false ? 'disabled' : '']), ['CODE', 'BARCODES', 'NAME', 'PRICE', '']));
          if (!one) println(io.out, `${items.length} of ${s.catalog.count()} products`);
        }
      } finally {
        void app.close();
      }
    });

  program
    .command('run')
    .description('the service: poll prices (prices.poll, default 1s), run the cron jobs of "schedule"; SIGINT/SIGTERM finish the current step and exit 0')
    .action(async () => {
      const [{ configWarnings }, { runDaemon }] = await Promise.all([import('../config/index.js'), import('../scheduler/daemon.js')]);
      const app = open('rw');
      for (const w of configWarnings(app.config)) app.logger.warn({ key: w.path, ...(w.line !== undefined ? { line: w.line } : {}) }, `config: ${w.path}: ${w.message}`);
      set(await runDaemon(app));
    });

  registerSalesCommands(program, ctx);
  registerShiftCommands(program, ctx);
  registerJobCommands(program, ctx);
  registerOfficeCommands(program, ctx);
  registerQuarantineCommands(program, ctx);
  registerPluginDevCommands(program, ctx);
  registerDebugCommands(program, ctx);
  // service and doctor open the deployment in their own ways and pull much in: their modules load
  // only when the command line names them; otherwise a one-line entry keeps them in --help
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  if (named === 'service') (await import('./service.js')).registerServiceCommands(program, ctx);
  else program.command('service').description('run this config as a service: cfx service install|uninstall (systemd unit or WinSW definition)');
  if (named === 'fleet') (await import('./fleet.js')).registerFleetCommands(program, ctx);
  else program.command('fleet').description("office: every terminal's health, receipt gaps, shifts (cfx fleet --help)");
  if (named === 'doctor') (await import('./doctor.js')).registerDoctorCommand(program, ctx);
  else program.command('doctor').description('check everything a deployment needs, each OK/WARN/FAIL with what to do (cfx doctor --help)');

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return Exit.OK;
      return Exit.USAGE;
    }
    const code = exitCodeFor(e);
    if (g().json) printJson(io.out, { error: errorJson(e) });
    else println(io.err, `cfx: ${errorMessage(e)}${isCfxError(e) ? ` [${(e as CfxError).code}]` : ''}`);
    if (!isCfxError(e) && logLevel() === 'debug') println(io.err, String((e as Error).stack));
    return code;
  }
  return exitCode;
}

/** `stop` (a signal): the file in flight is finished (applied whole or not at all), no other is started */
async function pullOnce(app: App, io: Io, json: boolean, stop: AbortSignal): Promise<PullResult> {
  const c = app.config;
  if (c.role !== 'terminal') throw new CfxError(ErrorCodes.USAGE, 'cfx pull is for the terminal role (this config has role: office)');
  const progress = json ? undefined : (await import('./progress.js')).progressReporter(io.err);
  try {
    // the job records the run; the office's resend requests in the inbox are served like under `cfx run`
    const s = await app.jobs.run('prices.pull', { trigger: 'cli', signal: stop, ...(progress ? { progress: (p: Record<string, unknown>) => progress.update(p as unknown as PullProgress) } : {}) });
    return s.output as PullResult;
  } finally {
    progress?.done();
  }
}

function printPull(io: Io, r: PullResult): void {
  if (r.files.length === 0) println(io.out, `no complete price files in ${r.dir}${r.waiting.length ? ` (${r.waiting.length} still being written: ${r.waiting.join(', ')})` : ''}`);
  for (const f of r.files) {
    if (f.result === 'applied') {
      println(io.out, `applied      ${f.name}  ${f.mode}, ${f.records} records${f.removed ? `, ${f.removed} removed` : ''}, ${f.products} products now, ${f.bytes} bytes → ${f.archived}`);
      for (const w of f.warnings ?? []) println(io.out, `  WARNING    ${w}`);
    }
    else if (f.result === 'already-applied') println(io.out, `already had  ${f.name}  (applied before; removed from the server) → ${f.archived}`);
    else println(io.out, `QUARANTINED  ${f.name}  ${[f.reason.line !== undefined ? `line ${f.reason.line}` : '', f.reason.field ? `field ${f.reason.field}` : '', f.reason.message].filter(Boolean).join(', ')} → ${f.quarantined}`);
  }
}
