// Servers that never answer, on loopback: one that accepts the TCP connection and stays silent (or
// says one line, an FTP greeting, then nothing), and a relay to the real vsftpd that stops answering
// in the middle of a transfer. For the tests that every command ends within its timeout.
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Listening {
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<Listening> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Accepts every connection, reads what comes, writes `hello` (if any) and then never a byte more. */
export function silentServer(hello?: string): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined).on('close', () => sockets.delete(c));
    c.resume();
    if (hello !== undefined) c.write(hello);
  });
  return listen(server, sockets);
}

/**
 * An FTP relay to a real server that plays along until a transfer starts: after the client's RETR
 * or STOR it passes the server's next reply (150) and then no reply at all on the control
 * connection; on the data connection it passes the first `dataBytes` and then nothing either way.
 * Passive replies (227 PASV, 229 EPSV) are rewritten to a data relay of its own.
 */
export async function stallingFtpRelay(target: { host: string; port: number }, dataBytes = 64 * 1024): Promise<Listening & { stalled: () => boolean }> {
  const sockets = new Set<Socket>();
  let stalled = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined).on('close', () => sockets.delete(s));
    return s;
  };

  /** a one-shot listener passing `dataBytes` between the client and the server's data port */
  const dataRelay = async (serverPort: number): Promise<number> => {
    const srv = createServer((c) => {
      track(c);
      const up = track(connect(serverPort, target.host));
      const pass = (from: Socket, to: Socket) => {
        let n = 0;
        from.on('data', (chunk: Buffer) => {
          if (n >= dataBytes) return;
          const part = chunk.subarray(0, dataBytes - n);
          n += part.length;
          to.write(part);
          if (n >= dataBytes) stalled = true;
        });
      };
      pass(up, c);
      pass(c, up);
      // a finished upload or download ends the data connection as usual; only the reply is held back
      up.on('end', () => (stalled ? undefined : c.end()));
      c.on('end', () => up.end());
      srv.close();
    });
    const l = await listen(srv, sockets);
    return l.port;
  };

  const server = createServer((client) => {
    track(client);
    const up = track(connect(target.port, target.host));
    let transfer: 'none' | 'started' | 'held' = 'none';
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      if (/^(RETR|STOR|APPE) /im.test(chunk.toString('latin1'))) transfer = 'started';
      up.write(chunk);
    });
    // replies in order: one chunk at a time, a passive reply waiting for its data relay
    let queue = Promise.resolve();
    up.on('data', (chunk: Buffer) => {
      queue = queue.then(() => reply(chunk));
    });
    const reply = async (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        let line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        if (transfer === 'held') {
          stalled = true; // a reply (226) held back
          continue;
        }
        if (transfer === 'started') transfer = 'held';
        const pasv = /^227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(line);
        const epsv = /^229 .*\(\|\|\|(\d+)\|\)/.exec(line);
        if (pasv) {
          const port = await dataRelay(Number(pasv[5]) * 256 + Number(pasv[6]));
          line = `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255}).\r\n`;
        } else if (epsv) {
          line = `229 Entering Extended Passive Mode (|||${await dataRelay(Number(epsv[1]))}|)\r\n`;
        }
        client.write(line);
      }
    };
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  const l = await listen(server, sockets);
  return { ...l, stalled: () => stalled };
}

/** a TCP relay that passes `bytes` from the server to the client, then nothing either way (for SFTP) */
export async function stallingTcpRelay(target: { host: string; port: number }, bytes: number): Promise<Listening & { stalled: () => boolean }> {
  const sockets = new Set<Socket>();
  let held = false;
  const server = createServer((c) => {
    const up = connect(target.port, target.host);
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    let down = 0;
    let stalled = false;
    up.on('data', (chunk: Buffer) => {
      if (stalled) return;
      const part = chunk.subarray(0, bytes - down);
      down += part.length;
      c.write(part);
      stalled = down >= bytes;
      held ||= stalled;
    });
    c.on('data', (chunk: Buffer) => (stalled ? undefined : up.write(chunk)));
  });
  return { ...(await listen(server, sockets)), stalled: () => held };
}
