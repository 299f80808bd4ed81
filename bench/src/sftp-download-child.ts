// Child process of the SFTP download bench: one download in a fresh process, as a terminal's price
// pull does it: the transport cfx.yaml picks (sftp://, host key pinned), its streaming read(),
// sha256 on the way, written to a local file, fsync. Prints one JSON line on stdout.
//   node sftp-download-child.js <cfx.yaml> <remote file> <local file>
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { App, silentLogger } from '@cfx/core';

const [configFile, remote, local] = process.argv.slice(2);
if (!configFile || !remote || !local) {
  process.stderr.write('usage: sftp-download-child <cfx.yaml> <remote file> <local file>\n');
  process.exit(2);
}

const t0 = performance.now();
const app = App.open({ configFile, env: {}, store: 'rw', logger: silentLogger() });
try {
  const transport = await app.transport();
  const tc = performance.now();
  // log in before the clock starts: a running terminal keeps its connection open
  const dir = remote.slice(0, remote.lastIndexOf('/')) || '/';
  const entry = (await transport.list(dir)).find((e) => `${dir}/${e.name}` === remote);
  if (!entry) throw new Error(`${remote} is not on the server`);
  const connectMs = performance.now() - tc;

  const c0 = process.cpuUsage();
  const start = performance.now();
  // core's stageStream (file-steps.ts), which the price pull downloads through: hash tap, file, fsync
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(transport.read(remote), tap, createWriteStream(local));
  const fh = await open(local, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(c0);
  process.stdout.write(
    JSON.stringify({ ok: true, bytes, size: entry.size, sha256: hash.digest('hex'), ms, connectMs, openMs: tc - t0, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 }) + '\n',
  );
} finally {
  await app.close();
}
