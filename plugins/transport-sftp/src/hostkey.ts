// Host key verification: who is on the other end, decided before we authenticate or send anything.
//
// Policies (serverOptions.hostKey):
//   "SHA256:…" or a list of them   pinned fingerprints, as `ssh-keygen -lf` prints them
//   "/path/to/known_hosts"         OpenSSH known_hosts file (plain or hashed names, [host]:port, @revoked)
//   "tofu"                         trust on first use: the first key seen is recorded in the plugin's
//                                  storage dir; a different key later is refused
//   (nothing)                      refuse, and say which key the server offered and what to put in the config
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CfxError, ErrorCodes, TransportError } from '@cfx/core/api';

export const PIN_RE = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

export type HostKeyPolicy =
  | { kind: 'none' }
  | { kind: 'pins'; pins: string[] }
  | { kind: 'knownHosts'; file: string }
  | { kind: 'tofu'; store: string };

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ...). */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  if (n <= 0 || n > 64 || 4 + n > blob.length) return 'unknown';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** the name part OpenSSH uses for a host key file of this type: /etc/ssh/ssh_host_<it>_key.pub */
function hostKeyFileType(type: string): string {
  if (type === 'ssh-ed25519') return 'ed25519';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  if (type === 'ssh-rsa') return 'rsa';
  return '*';
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function normalizePin(p: string): string {
  const m = PIN_RE.exec(p.trim());
  if (!m) throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-sftp: serverOptions.hostKey "${p}" is not a SHA256 fingerprint (SHA256: followed by 43 base64 characters, as \`ssh-keygen -lf\` prints it)`);
  return `SHA256:${m[1]}`;
}

/** serverOptions.hostKey → a policy. `storageDir` is the plugin's (needed for tofu only). */
export function hostKeyPolicy(value: unknown, storageDir: string | undefined): HostKeyPolicy {
  if (value === undefined || value === null || value === '') return { kind: 'none' };
  if (Array.isArray(value)) {
    if (value.length === 0) return { kind: 'none' };
    return { kind: 'pins', pins: value.map((v) => normalizePin(String(v))) };
  }
  if (typeof value !== 'string') throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-sftp: serverOptions.hostKey must be a string or a list of SHA256 fingerprints');
  const v = value.trim();
  if (v === 'tofu') {
    if (!storageDir) throw new CfxError(ErrorCodes.CONFIG_INVALID, 'transport-sftp: hostKey "tofu" needs the plugin storage dir to record keys in (create the transport through the plugin host, or pass storageDir)');
    return { kind: 'tofu', store: join(storageDir, 'known_hosts.json') };
  }
  if (/^SHA256:/i.test(v)) return { kind: 'pins', pins: [normalizePin(v)] };
  if (/^[A-Za-z0-9-]+:[A-Za-z0-9+/:]+$/.test(v)) {
    throw new CfxError(ErrorCodes.CONFIG_INVALID, `transport-sftp: serverOptions.hostKey "${v}" is not a SHA256 fingerprint; MD5 fingerprints are not accepted (print the SHA256 one with \`ssh-keygen -lf\`)`);
  }
  return { kind: 'knownHosts', file: resolve(expandHome(v)) };
}

// ---------- known_hosts ----------

export interface KnownHostsEntry {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const f = raw.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (f[0]!.startsWith('@')) {
      const m = f.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (f.length < 3) continue;
    const key = Buffer.from(f[2]!, 'base64');
    if (key.length === 0) continue;
    out.push({ line: i + 1, ...(marker ? { marker } : {}), patterns: f[0]!, keyType: f[1]!, key });
  }
  return out;
}

/** The name known_hosts files use for host:port (`host` on 22, `[host]:port` otherwise). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const mac = createHmac('sha1', Buffer.from(parts[2]!, 'base64')).update(name).digest('base64');
  return mac === parts[3];
}

/** Whether an entry's host patterns cover `name` (negations win, as in OpenSSH). */
export function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let yes = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) yes = true;
  }
  return yes;
}

// ---------- tofu store ----------

export interface TofuRecord {
  keyType: string;
  fingerprint: string;
  recordedAt: string;
}

async function readTofu(store: string): Promise<Record<string, TofuRecord>> {
  try {
    const data = JSON.parse(await readFile(store, 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as Record<string, TofuRecord>) : {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

// ---------- the verifier ----------

/** host key types (as in a blob / known_hosts) → the algorithm names that negotiate them */
const ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
/** ssh2's default order (Node 20 has Ed25519) */
const DEFAULT_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

export type Verdict =
  | { ok: true; how: string; keyType: string; fingerprint: string; /** tofu, first sight: record after the handshake proved the key */ record?: () => Promise<void> }
  | { ok: false; error: TransportError };

export class HostKeyVerifier {
  /** `host:port`, the tofu store key */
  private readonly id: string;
  private readonly khName: string;

  constructor(
    readonly policy: HostKeyPolicy,
    private readonly host: string,
    private readonly port: number,
    /** sftp://user@host:port, for messages */
    private readonly where: string,
  ) {
    this.id = `${host}:${port}`;
    this.khName = knownHostsName(host, port);
  }

  /**
   * Host key algorithms to offer, the ones we already know a key of first (as OpenSSH does), so a
   * server with several host keys presents the one we can check. Undefined = ssh2's default.
   */
  async algorithms(): Promise<string[] | undefined> {
    let types: string[] = [];
    try {
      if (this.policy.kind === 'knownHosts') {
        types = parseKnownHosts(await readFile(this.policy.file, 'utf8'))
          .filter((e) => !e.marker && hostMatches(e.patterns, this.khName))
          .map((e) => e.keyType);
      } else if (this.policy.kind === 'tofu') {
        const r = (await readTofu(this.policy.store))[this.id];
        if (r) types = [r.keyType];
      }
    } catch {
      return undefined; // check() reports an unreadable file
    }
    const first = [...new Set(types.flatMap((t) => ALGOS[t] ?? []))];
    if (first.length === 0) return undefined;
    return [...first, ...DEFAULT_ALGOS.filter((a) => !first.includes(a))];
  }

  private refuse(message: string, details: Record<string, unknown>): Verdict {
    return { ok: false, error: new TransportError('HostKey', `sftp connect ${this.where}: ${message}`, { details: { host: this.id, ...details } }) };
  }

  private pinLine(fp: string): string {
    return `serverOptions: { hostKey: "${fp}" }`;
  }

  async check(blob: Buffer): Promise<Verdict> {
    const fp = fingerprint(blob);
    const type = keyType(blob);
    const offered = `${type} ${fp}`;
    const p = this.policy;
    switch (p.kind) {
      case 'none':
        return this.refuse(
          `refusing to connect: the server's host key is not pinned. The server offered ${offered}. ` +
            `Check that this is your server's key (on the server: \`ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileType(type)}_key.pub\`; ` +
            `from here over a trusted network: \`ssh-keyscan -p ${this.port} ${this.host} | ssh-keygen -lf -\`), then add to the config:\n  ${this.pinLine(fp)}\n` +
            `(or hostKey: /path/to/known_hosts, or hostKey: tofu to trust the first key seen)`,
          { offered: fp, keyType: type },
        );
      case 'pins':
        if (p.pins.includes(fp)) return { ok: true, how: 'pinned', keyType: type, fingerprint: fp };
        return this.refuse(
          `refusing to connect: HOST KEY MISMATCH. The server offered ${offered}, but the config pins ${p.pins.join(', ')}. ` +
            `Someone may be intercepting the connection, or the server's key was changed: confirm the new key with the server's administrator, ` +
            `then add it to serverOptions.hostKey (a list keeps the old one accepted during a rotation: hostKey: ["${p.pins[0]}", "${fp}"]).`,
          { offered: fp, keyType: type, expected: p.pins },
        );
      case 'knownHosts': {
        let entries: KnownHostsEntry[];
        try {
          entries = parseKnownHosts(await readFile(p.file, 'utf8'));
        } catch (e) {
          return this.refuse(`refusing to connect: cannot read the known_hosts file ${p.file} (${(e as Error).message}). The server offered ${offered}.`, { offered: fp, keyType: type, file: p.file });
        }
        const mine = entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.patterns, this.khName));
        const same = mine.filter((e) => e.key.equals(blob));
        const revoked = same.find((e) => e.marker === 'revoked');
        if (revoked) return this.refuse(`refusing to connect: the offered key ${offered} is marked @revoked in ${p.file} line ${revoked.line}.`, { offered: fp, keyType: type, file: p.file });
        if (same.length > 0) return { ok: true, how: `known_hosts line ${same[0]!.line}`, keyType: type, fingerprint: fp };
        const known = mine.filter((e) => !e.marker);
        if (known.length > 0) {
          const list = known.map((e) => `${e.keyType} ${fingerprint(e.key)} (line ${e.line})`).join(', ');
          return this.refuse(
            `refusing to connect: HOST KEY MISMATCH. ${p.file} has ${list} for ${this.khName}, but the server offered ${offered}. ` +
              `Someone may be intercepting the connection, or the server's key was changed: confirm with the server's administrator before updating the file.`,
            { offered: fp, keyType: type, expected: known.map((e) => fingerprint(e.key)), file: p.file },
          );
        }
        return this.refuse(
          `refusing to connect: ${this.khName} is not in ${p.file}. The server offered ${offered}. ` +
            `After checking that this is your server's key, add its line to the file (\`ssh-keyscan -p ${this.port} ${this.host} >> ${p.file}\`) or pin it:\n  ${this.pinLine(fp)}`,
          { offered: fp, keyType: type, file: p.file },
        );
      }
      case 'tofu': {
        let records: Record<string, TofuRecord>;
        try {
          records = await readTofu(p.store);
        } catch (e) {
          return this.refuse(`refusing to connect: cannot read the recorded host keys in ${p.store} (${(e as Error).message}). The server offered ${offered}.`, { offered: fp, keyType: type, file: p.store });
        }
        const r = records[this.id];
        if (r) {
          if (r.fingerprint === fp) return { ok: true, how: `tofu, recorded ${r.recordedAt}`, keyType: type, fingerprint: fp };
          return this.refuse(
            `refusing to connect: HOST KEY CHANGED. The first key seen for ${this.id} was ${r.keyType} ${r.fingerprint} (recorded ${r.recordedAt} in ${p.store}), now the server offers ${offered}. ` +
              `Someone may be intercepting the connection, or the server's key was changed: confirm with the server's administrator, then pin the new key (${this.pinLine(fp)}) or remove the "${this.id}" entry from ${p.store}.`,
            { offered: fp, keyType: type, expected: [r.fingerprint], file: p.store },
          );
        }
        return {
          ok: true,
          how: 'tofu, first use',
          keyType: type,
          fingerprint: fp,
          record: async () => {
            const now = await readTofu(p.store);
            // another connection may have recorded it meanwhile: keep the first record
            if (now[this.id]) {
              if (now[this.id]!.fingerprint !== fp) throw new TransportError('HostKey', `sftp connect ${this.where}: a different host key for ${this.id} was recorded meanwhile (${now[this.id]!.fingerprint}, now ${fp})`);
              return;
            }
            now[this.id] = { keyType: type, fingerprint: fp, recordedAt: new Date().toISOString() };
            mkdirSync(dirname(p.store), { recursive: true });
            const tmp = `${p.store}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
            writeFileSync(tmp, JSON.stringify(now, null, 2) + '\n', { mode: 0o600 });
            renameSync(tmp, p.store);
          },
        };
      }
    }
  }
}
