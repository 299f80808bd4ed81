#!/usr/bin/env node
// `npm run release`: installable tarballs in dist-release/ (gitignored), one per package, so an
// integrator can depend on @cfx/core alone while a shop installs the `cfx` command:
//   cfx-core-<v>.tgz, cfx-<plugin>-<v>.tgz ×6   `npm pack` of each workspace (their "files": dist + bin)
//   cfx-<v>.tgz                                 a small meta package: the `cfx` bin, depending on core
//                                               and the six plugins at exactly the packed versions
// Install them all at once, outside any checkout:  npm install -g ./dist-release/*.tgz
// The build must be done first (`npm run release` runs `tsc -b`). `--out DIR` packs elsewhere
// (the install test packs into a temp dir, so it never races a developer's dist-release/).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist-release');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// the workspaces: core and the built-in plugins (the ones core finds by name, BUILTIN_PLUGINS)
const packed = [];
for (const ws of rootPkg.workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  const res = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: join(root, ws), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' }));
  packed.push({ name: pkg.name, version: pkg.version, file: res[0].filename });
}

// the meta package: built in a temp dir here, packed, the dir removed
const core = packed.find((p) => p.name === '@cfx/core');
if (!core) throw new Error('no @cfx/core among the workspaces');
const metaDir = join(out, '.meta');
mkdirSync(join(metaDir, 'bin'), { recursive: true });
const meta = {
  name: 'cfx',
  version: rootPkg.version,
  description: `${rootPkg.description} — the cfx command with the built-in plugins`,
  license: rootPkg.license,
  type: 'module',
  bin: { cfx: './bin/cfx.js' },
  engines: rootPkg.engines,
  // exact versions: the meta package is the release, and a release is one tested set
  dependencies: Object.fromEntries(packed.map((p) => [p.name, p.version])),
};
writeFileSync(join(metaDir, 'package.json'), JSON.stringify(meta, null, 2) + '\n');
writeFileSync(
  join(metaDir, 'bin', 'cfx.js'),
  `#!/usr/bin/env node
// The installed \`cfx\` command: runs @cfx/core's CLI, wherever npm put core (nested or beside).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const core = dirname(createRequire(import.meta.url).resolve('@cfx/core/package.json'));
await import(pathToFileURL(join(core, 'bin', 'cfx.js')).href);
`,
);
chmodSync(join(metaDir, 'bin', 'cfx.js'), 0o755);
writeFileSync(join(metaDir, 'README.md'), `# cfx ${rootPkg.version}\n\nThe \`cfx\` command (CashFront exchange) with its six built-in plugins. Install every tarball of the release at once:\n\n    npm install -g ./cfx-${rootPkg.version}.tgz ./cfx-core-${core.version}.tgz ./cfx-transport-ftp-*.tgz ...\n`);
const metaRes = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: metaDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' }));
rmSync(metaDir, { recursive: true, force: true });

const files = [metaRes[0].filename, ...packed.map((p) => p.file)];
writeFileSync(join(out, 'FILES'), files.join('\n') + '\n');
process.stdout.write(`release ${rootPkg.version} in ${out}:\n${files.map((f) => `  ${f}`).join('\n')}\ninstall: cd ${out} && npm install -g ${files.map((f) => `./${f}`).join(' ')}\n`);
