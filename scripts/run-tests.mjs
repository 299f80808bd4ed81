#!/usr/bin/env node
// Runs every compiled test (`*.test.js` under a package's dist/) with node's test runner.
// Node 20's --test takes no globs, so the files are listed here.
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs --unit     unit tests only (skip test/, the whole-system tests)
//   node scripts/run-tests.mjs WORD...    only files whose path contains one of the words
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const words = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const tops = ['core/dist', ...readdirSync(join(root, 'plugins')).map((p) => `plugins/${p}/dist`)];
if (!unitOnly) tops.push('test/dist');
let files = [];
for (const t of tops) {
  try { walk(join(root, t), files); } catch { /* package not built yet */ }
}
files = files.map((f) => relative(root, f)).sort();
if (words.length) files = files.filter((f) => words.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error('no test files found (did tsc -b run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
