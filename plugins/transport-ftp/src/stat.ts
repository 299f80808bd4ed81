import { randomInt } from 'node:crypto';
import type { FTPContext } from 'basic-ftp';

/**
 * `STAT <dir>`: the directory listing on the control connection (no data connection, no EPSV, no
 * new TCP connection per listing; see bench/README.md, "Poll overhead").
 *
 * Why not basic-ftp's reply reader: (1) it keeps an unfinished multi-line reply in a 64 KiB buffer
 * and closes the client past that, while 5,000 entries are ~350 KB; (2) it cannot know where a
 * reply really ends: vsftpd writes names as they are, so a file named "x\n213 End of status" ends
 * the reply early — the entries after it vanish and the real end line then answers the NEXT
 * command (seen on vsftpd 3.0.3: every reply after it was one behind).
 *
 * So the reply is read here, line by line, and its end is proven, not guessed: STAT is sent in one
 * write with `REST <nonce>` and `REST 0`. The server answers in order, and only it can echo the
 * random nonce (the names were on disk before the nonce existed), so everything before the line
 * `350 … <nonce> …` is the STAT reply, whatever the names contain; `REST 0` puts the restart offset
 * back (a later STOR must not start at the nonce). A line inside the body that is not a listing
 * line is the rest of a name that held a line break: the caller joins it to that name (and core then
 * refuses the name as not plain, and counts it) — nothing is hidden and nothing invented.
 */

export interface StatReply {
  /** the STAT reply's code (213 from vsftpd and pure-ftpd) */
  code: number;
  /** the first line (its text, for an error) */
  head: string;
  /** the lines between the first line and the end line (a multi-line 2xx reply), or [] */
  body: string[];
  /** a multi-line reply whose last line before the nonce was not its end line: not an FTP reply */
  malformed: boolean;
}

/** A new nonce per STAT: 15 digits (randomInt takes at most 2^48 - 1), what `REST` takes as an offset on every server tried. */
export function newNonce(): string {
  return String(randomInt(100_000_000_000, 999_999_999_999)) + String(randomInt(100, 1000));
}

/** The server echoes the offset of `REST n` (vsftpd: "350 Restart position accepted (n).", pure-ftpd: "350 Restarting at n"). */
export function echoesNonce(reply: string, nonce: string): boolean {
  return /^350 /.test(reply) && new RegExp(`(^|\\D)${nonce}(\\D|$)`).test(reply);
}

/** the replies on the control connection are out of step with the commands: the caller closes it */
class Desync extends Error {}
export { Desync as StatDesync };

/**
 * Sends `STAT <wireDir>` + `REST <nonce>` + `REST 0` and reads the replies off the control socket
 * (basic-ftp's data listener set aside meanwhile). The basic-ftp task that is open during the call
 * receives the socket's errors, close and timeout, as for any command.
 */
export async function statExchange(ftp: FTPContext, wireDir: string, maxBytes: number): Promise<StatReply> {
  if (/[\r\n\0]/.test(wireDir)) throw new Error(`control characters in a path: ${JSON.stringify(wireDir)}`);
  const nonce = newNonce();
  const sock = ftp.socket;
  const saved = sock.listeners('data') as Array<(...a: unknown[]) => void>;
  const pending = ftp.handle(undefined, (res, task) => {
    // only errors reach basic-ftp's handler now: socket error, close, timeout, client closed
    if (res instanceof Error) task.reject(res);
  });
  // the task's own resolver (set synchronously by handle(); basic-ftp is pinned at 6.2.6)
  const resolver = (ftp as unknown as { _task?: { resolver: { resolve(v: unknown): void; reject(e: Error): void } } })._task?.resolver;
  if (!resolver) {
    await pending; // the client was closed: handle() has rejected already
    throw new Error('control connection is closed');
  }
  let phase: 'head' | 'body' | 'rest0' | 'done' = 'head';
  let tail = '';
  let bytes = 0;
  let extra = false;
  let error: Error | undefined;
  const reply: StatReply = { code: 0, head: '', body: [], malformed: false };
  let multi = false;
  const line = (l: string): void => {
    if (phase === 'head') {
      const m = /^(\d{3})([- ]|$)/.exec(l);
      if (!m) return void (error = new Desync(`STAT reply does not start with a reply code: ${JSON.stringify(l.slice(0, 80))}`));
      reply.code = Number(m[1]);
      reply.head = l;
      multi = m[2] === '-';
      phase = 'body';
    } else if (phase === 'body') {
      if (!echoesNonce(l, nonce)) return void reply.body.push(l);
      if (multi) {
        // the reply's last line must be its end line: "213 …" (RFC 959: the same code, then a space)
        const end = reply.body.pop();
        if (end === undefined || !new RegExp(`^${reply.code}( |$)`).test(end)) reply.malformed = true;
      } else if (reply.body.length > 0) {
        reply.malformed = true; // a one-line reply followed by more lines
      }
      phase = 'rest0';
    } else if (phase === 'rest0') {
      // REST 0 must have been accepted, or the next transfer could start at the nonce
      if (!/^350 /.test(l)) error = new Desync(`REST 0 after STAT answered "${l.slice(0, 80)}"`);
      phase = 'done';
    } else {
      extra = true;
    }
  };
  const onData = (chunk: string | Buffer): void => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString(ftp.encoding);
    bytes += text.length;
    if (bytes > maxBytes) return resolver.reject(new Desync(`STAT reply exceeds ${maxBytes} bytes`));
    const parts = (tail + text).split('\n');
    tail = parts.pop()!;
    for (const p of parts) {
      line(p.endsWith('\r') ? p.slice(0, -1) : p);
      if (error) return resolver.reject(error);
    }
    if (phase !== 'done') return;
    if (extra || tail !== '') return resolver.reject(new Desync('more lines than commands after STAT'));
    resolver.resolve(reply);
  };
  for (const l of saved) sock.removeListener('data', l);
  sock.on('data', onData);
  try {
    ftp.log(`> STAT ${wireDir}\n> REST ${nonce}\n> REST 0`);
    sock.write(`STAT ${wireDir}\r\nREST ${nonce}\r\nREST 0\r\n`, ftp.encoding);
    return (await pending) as StatReply;
  } finally {
    sock.removeListener('data', onData);
    for (const l of saved) sock.on('data', l);
  }
}
