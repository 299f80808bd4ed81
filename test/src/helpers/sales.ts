import { createServer, connect, type Server, type Socket } from 'node:net';

/** A valid sale JSON as a till sends it (decimal strings, an ISO time with offset). */
export function saleJson(n: number, day = '2025-03-15', extra: Record<string, unknown> = {}): Record<string, unknown> {
  const adults = 1 + (n % 3);
  return {
    saleId: `S${String(n).padStart(6, '0')}`,
    time: `${day}T${String(10 + (n % 10)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00+02:00`,
    receiptNo: n,
    shift: 7,
    cashier: 'Олена',
    kind: 'sale',
    lines: [
      { code: '1', barcode: '4820000000011', name: 'Квиток дорослий', qty: String(adults), price: '350.00', amount: (adults * 350).toFixed(2) },
      { code: '2', name: 'Програмка', qty: '1', price: '20,00', amount: '20.00' },
    ],
    payments: [{ kind: n % 2 ? 'card' : 'cash', amount: (adults * 350 + 20).toFixed(2) }],
    ...extra,
  };
}

/**
 * A TCP relay in front of the FTP control port that can be switched off and on: "the server is
 * down" for cfx (connection refused, live connections cut) while vsftpd itself keeps running for
 * other tests. Passive data connections go to vsftpd directly, as its PASV replies say.
 */
export class SwitchableRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number, private readonly target: { host: string; port: number }) {}

  static async freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  async up(): Promise<void> {
    if (this.server) return;
    this.server = createServer((c) => {
      const up = connect(this.target.port, this.target.host);
      // no Nagle: the FTP dialogue is many small request/reply pairs
      c.setNoDelay(true);
      up.setNoDelay(true);
      this.sockets.add(c).add(up);
      const drop = () => {
        c.destroy();
        up.destroy();
        this.sockets.delete(c);
        this.sockets.delete(up);
      };
      c.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const k of this.sockets) k.destroy();
    this.sockets.clear();
    if (s) await new Promise((r) => s.close(r));
  }
}
