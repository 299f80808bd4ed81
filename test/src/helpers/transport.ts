// Small helpers shared by the whole-system tests of transports and jobs.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { TransportError } from '@cfx/core/api';
import type { FileOutcome, PricePull } from '@cfx/core';

/** every byte of a stream */
export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** the TransportError `p` fails with; a success or another error fails the test */
export async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TransportError, `expected a TransportError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure, the call succeeded');
}

/** cycles until nothing is waiting (a new file needs two listings to count as complete) */
export async function pullAll(p: PricePull): Promise<FileOutcome[]> {
  const all: FileOutcome[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await p.cycle();
    all.push(...r.files);
    if (r.waiting.length === 0 && i > 0) break;
  }
  return all;
}
