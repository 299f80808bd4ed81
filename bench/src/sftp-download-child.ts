// Child process of the SFTP download bench: downloads as a terminal's price pull does: the transport
// cfx.yaml picks (sftp://, host key pinned), its streaming read(), sha256 on the way, written to a
// local file, fsync. Prints one JSON line on stdout per download.
//   node sftp-download-child.js <cfx.yaml> <remote file> <local file>   one download in a fresh process
//   node sftp-download-child.js <cfx.yaml>                              a running terminal: one download
//                                                                        per stdin line "<remote>\t<local>"
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { App, downloadToStaging, silentLogger, type Transport } from '@cfx/core';

const [configFile, remoteArg, localArg] = process.argv.slice(2);
if (!configFile || (remoteArg !== undefined && localArg === undefined)) {
  process.stderr.write('usage: sftp-download-child <cfx.yaml> [<remote file> <local file>]\n');
  process.exit(2);
}

async function login(transport: Transport, remote: string): Promise<{ size: number; connectMs: number }> {
  const t = performance.now();
  const dir = remote.slice(0, remote.lastIndexOf('/')) || '/';
  const entry = (await transport.list(dir)).find((e) => `${dir}/${e.name}` === remote);
  if (!entry) throw new Error(`${remote} is not on the server`);
  return { size: entry.size, connectMs: performance.now() - t };
}

/** the price pull's own download step (core's downloadToStaging): sha256 on the way, file, fsync */
async function download(transport: Transport, remote: string, local: string): Promise<Record<string, unknown>> {
  const c0 = process.cpuUsage();
  const start = performance.now();
  const { sha256, bytes } = await downloadToStaging(transport, remote, local);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(c0);
  return { ok: true, bytes, sha256, ms, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 };
}

const t0 = performance.now();
const app = App.open({ configFile, env: {}, store: 'rw', logger: silentLogger() });
try {
  const transport = await app.transport();
  if (remoteArg !== undefined && localArg !== undefined) {
    const tc = performance.now();
    // log in before the clock starts: a running terminal keeps its connection open
    const { size, connectMs } = await login(transport, remoteArg);
    const r = await download(transport, remoteArg, localArg);
    process.stdout.write(JSON.stringify({ ...r, size, connectMs, openMs: tc - t0 }) + '\n');
  } else {
    let connected = false;
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      const [remote, local] = line.split('\t');
      const l = connected ? { size: -1, connectMs: 0 } : await login(transport, remote!);
      connected = true;
      const r = await download(transport, remote!, local!);
      process.stdout.write(JSON.stringify({ ...r, connectMs: l.connectMs }) + '\n');
    }
  }
} finally {
  await app.close();
}
