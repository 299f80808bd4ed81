/**
 * The build worker of a fresh catalog file (FreshCatalogBuild): owns the only connection to the
 * new file and handles the messages of catalog-build-writer.ts in order. Replies to the calls the
 * main thread waits for (open, count, finish, close) go on `port`, then `sig[0]` is set and
 * notified; each rows batch done decrements `sig[1]` (the main thread's bound on batches in flight).
 * An error stops the build: it is reported at once (the main thread checks before each batch) and
 * again as the reply to the next call.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { BuildWriter, toWire, type BuildMessage, type WireError } from './catalog-build-writer.js';

const { file, prev, port, sig } = workerData as { file: string; prev: string; port: MessagePort; sig: Int32Array };
let writer: BuildWriter | undefined;
let failed: WireError | undefined;
try {
  writer = new BuildWriter(file, prev);
} catch (e) {
  failed = toWire(e);
}

parentPort!.on('message', (m: BuildMessage) => {
  const call = m.t === 'open' || m.t === 'count' || m.t === 'finish' || m.t === 'close';
  let value: unknown;
  if (!failed || m.t === 'close') {
    try {
      value = writer?.handle(m);
    } catch (e) {
      if (!failed) {
        failed = toWire(e);
        if (!call) port.postMessage({ t: 'error', error: failed });
      }
    }
  }
  if (m.t === 'rows') {
    Atomics.sub(sig, 1, 1);
    Atomics.notify(sig, 1);
  }
  if (call) {
    port.postMessage(failed && m.t !== 'close' ? { t: 'reply', error: failed } : { t: 'reply', value });
    Atomics.store(sig, 0, 1);
    Atomics.notify(sig, 0);
  }
});
