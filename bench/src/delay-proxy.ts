// A TCP relay that holds every chunk for `oneWayMs` before passing it on, both ways: an FTP
// server "far away" on a machine whose kernel has no netem (`tc qdisc … netem` is refused here).
// Only the control connection goes through it: a passive reply names a port (EPSV) or the
// server's own 127.0.0.1 (PASV), so data connections go straight to the server — every client
// pays the same for them. What it shows is the control round trips per file: the cost that
// decides a backlog's time once the server is not on loopback.
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

/** Chunks leave in order, each `ms` after it arrived (one timer per direction at a time). */
function delayed(from: Socket, to: Socket, ms: number): void {
  const queue: { at: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) to.write(queue.shift()!.chunk);
    if (queue.length) timer = setTimeout(pump, Math.max(0, queue[0]!.at - now));
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: performance.now() + ms, chunk });
    timer ??= setTimeout(pump, ms);
  });
  from.on('end', () => {
    ended = true;
    if (!timer && !queue.length) to.end();
  });
}

export async function startDelayProxy(host: string, port: number, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const srv = createServer((client) => {
    const server = connect(port, host);
    for (const s of [client, server]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        server.destroy();
      });
    }
    delayed(client, server, oneWayMs);
    delayed(server, client, oneWayMs);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}
