// The `cfx plugin new` / `cfx plugins check` commands, registered without their implementation
// (plugin-dev.ts: ajv, the plugin host, tsyringe), which each action imports when it runs, so the
// other commands do not load it (issue 20, start-up).
import { relative, resolve } from 'node:path';
import { Argument, type Command } from 'commander';
import type { CliContext } from './context.js';
import { Exit } from './exit.js';
import { printJson, println } from './output.js';
import { PLUGIN_KINDS } from './plugin-templates.js';

export function registerPluginDevCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const plugin = program.command('plugin').description('for plugin authors: scaffold a plugin package');
  plugin
    .command('new')
    .description('scaffold a plugin package (manifest, TypeScript config, src/index.ts with the contract stubbed, a conformance test that fails until the TODOs are done, README)')
    .addArgument(new Argument('<kind>', 'transport, format, backoffice or job').choices(PLUGIN_KINDS))
    .argument('<name>', 'the contribution id: URL scheme (transport), format id or back-office id')
    .option('--dir <dir>', 'where to write it (default ./<name>)')
    .option('--package <name>', 'npm package name (default cfx-<kind>-<name>)')
    .option('--core <path>', 'use this @cfx/core checkout (a file: dependency) instead of the published version')
    .option('--force', 'write into a non-empty dir')
    .action(async (kind: string, name: string, o: { dir?: string; package?: string; core?: string; force?: boolean }) => {
      const { scaffoldPlugin } = await import('./plugin-dev.js');
      const r = scaffoldPlugin({
        kind,
        id: name,
        dir: resolve(io.cwd, o.dir ?? name),
        ...(o.package !== undefined ? { packageName: o.package } : {}),
        ...(o.core !== undefined ? { core: resolve(io.cwd, o.core) } : {}),
        ...(o.force ? { force: true } : {}),
      });
      if (ctx.json()) return printJson(io.out, r);
      println(io.out, `wrote ${r.packageName} (${r.kind} "${r.id}") to ${r.dir}:`);
      for (const f of r.files) println(io.out, `  ${f}`);
      const cd = relative(io.cwd, r.dir) || '.';
      println(io.out, `next:\n  cd ${cd}\n  npm install\n  npm test                  # builds, runs the ${r.kind} conformance kit: fails until the TODOs in src/index.ts are done\n  npx cfx plugins check .   # manifest, engines range, option schemas, activation in a test host`);
    });

  const plugins = program.commands.find((c) => c.name() === 'plugins') ?? program.command('plugins').description('installed plugins');
  plugins
    .command('check')
    .argument('<plugin>', 'a plugin package dir, or an installed package name')
    .description('validate one plugin: manifest and engines range, option schemas (strict ajv), activation in a test host, declared == registered; every problem at once, exit 2 when there is any')
    .action(async (spec: string) => {
      const { checkPlugin, renderCheck } = await import('./plugin-dev.js');
      const r = await checkPlugin(spec, io.cwd);
      if (ctx.json()) printJson(io.out, r);
      else println(io.out, renderCheck(r));
      if (!r.ok) ctx.setExit(Exit.USAGE);
    });
}
