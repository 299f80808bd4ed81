import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from './errors.js';

// Fastify-style: the catalogue and its documentation are kept in step by a test, so a new code
// cannot ship without "what to do", and the docs cannot promise a code that does not exist.
const doc = readFileSync(fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)), 'utf8');
const documented = [...doc.matchAll(/^### (CFX_E_[A-Z_]+)\s*$/gm)].map((m) => m[1]!);

it('every error code has a section in docs/errors.md', () => {
  const missing = Object.values(ErrorCodes).filter((c) => !documented.includes(c));
  assert.deepEqual(missing, []);
});

it('docs/errors.md documents no code that does not exist, and each once', () => {
  const known = new Set<string>(Object.values(ErrorCodes));
  assert.deepEqual(documented.filter((c) => !known.has(c)), []);
  assert.equal(new Set(documented).size, documented.length);
});

it('codes are unique and spelled CFX_E_<KEY>', () => {
  for (const [k, v] of Object.entries(ErrorCodes)) assert.equal(v, `CFX_E_${k}`);
});
