import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportError } from '@cfx/core/api';
import { HostKeyVerifier, fingerprint, hostKeyPolicy, hostMatches, keyType, knownHostsName, parseKnownHosts } from './hostkey.js';

/** an SSH public key blob: string type, string key (enough for fingerprints and comparisons) */
function blob(type = 'ssh-ed25519', key = randomBytes(32)): Buffer {
  const t = Buffer.from(type);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(t.length);
  const klen = Buffer.alloc(4);
  klen.writeUInt32BE(key.length);
  return Buffer.concat([head, t, klen, key]);
}

test('fingerprints are OpenSSH SHA256 (unpadded base64) and the key type is read from the blob', () => {
  const b = blob();
  const fp = fingerprint(b);
  assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(fp, 'SHA256:' + createHash('sha256').update(b).digest('base64').replace(/=$/, ''));
  assert.equal(keyType(b), 'ssh-ed25519');
  assert.equal(keyType(blob('ecdsa-sha2-nistp256', randomBytes(65))), 'ecdsa-sha2-nistp256');
  assert.equal(keyType(Buffer.alloc(2)), 'unknown');
});

test('hostKey option → policy', () => {
  const pin = fingerprint(blob());
  assert.deepEqual(hostKeyPolicy(undefined, undefined), { kind: 'none' });
  assert.deepEqual(hostKeyPolicy(pin, undefined), { kind: 'pins', pins: [pin] });
  assert.deepEqual(hostKeyPolicy(pin + '=', undefined), { kind: 'pins', pins: [pin] }, 'padding is accepted and dropped');
  assert.deepEqual(hostKeyPolicy([pin, pin], undefined), { kind: 'pins', pins: [pin, pin] });
  assert.deepEqual(hostKeyPolicy('tofu', '/var/lib/cfx/plugins/sftp'), { kind: 'tofu', store: '/var/lib/cfx/plugins/sftp/known_hosts.json' });
  assert.deepEqual(hostKeyPolicy('/etc/ssh/ssh_known_hosts', undefined), { kind: 'knownHosts', file: '/etc/ssh/ssh_known_hosts' });
  assert.throws(() => hostKeyPolicy('tofu', undefined), /storage dir/);
  assert.throws(() => hostKeyPolicy('SHA256:short', undefined), /not a SHA256 fingerprint/);
  assert.throws(() => hostKeyPolicy('MD5:12:34:56', undefined), /MD5 fingerprints are not accepted/);
});

test('known_hosts: plain, [host]:port, wildcards, negation, hashed names, markers', () => {
  assert.equal(knownHostsName('files.example.com', 22), 'files.example.com');
  assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
  assert.ok(hostMatches('files.example.com,10.0.0.5', 'files.example.com'));
  assert.ok(hostMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222'));
  assert.ok(!hostMatches('127.0.0.1', '[127.0.0.1]:2222'), 'a port-22 entry does not cover another port');
  assert.ok(hostMatches('*.example.com', 'Files.Example.com'));
  assert.ok(!hostMatches('*.example.com,!evil.example.com', 'evil.example.com'));
  assert.ok(hostMatches('files?.example.com', 'files1.example.com'));
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64')}`;
  assert.ok(hostMatches(hashed, '[127.0.0.1]:2222'));
  assert.ok(!hostMatches(hashed, '[127.0.0.1]:2223'));
  const b = blob();
  const entries = parseKnownHosts(`# comment\n\n@revoked * ssh-ed25519 ${b.toString('base64')}\n@cert-authority *.example.com ssh-ed25519 ${b.toString('base64')}\nhost ssh-ed25519 ${b.toString('base64')} me@there\n@unknown x ssh-ed25519 AAAA\nbroken line\n`);
  assert.deepEqual(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType]), [
    [3, 'revoked', '*', 'ssh-ed25519'],
    [4, 'cert-authority', '*.example.com', 'ssh-ed25519'],
    [5, undefined, 'host', 'ssh-ed25519'],
  ]);
  assert.ok(entries[2]!.key.equals(b));
});

async function refusal(v: HostKeyVerifier, b: Buffer): Promise<TransportError> {
  const r = await v.check(b);
  assert.equal(r.ok, false, 'refused');
  return (r as { error: TransportError }).error;
}

test('verifier: no pin, pins, known_hosts and tofu decide as documented', async () => {
  const where = 'sftp://cfx@127.0.0.1:2222';
  const good = blob();
  const other = blob();
  const none = await refusal(new HostKeyVerifier({ kind: 'none' }, '127.0.0.1', 2222, where), good);
  assert.equal(none.kind, 'HostKey');
  assert.ok(none.message.includes(`serverOptions: { hostKey: "${fingerprint(good)}" }`), none.message);
  assert.ok(none.message.includes('ssh-keyscan -p 2222 127.0.0.1 | ssh-keygen -lf -'));

  const pinned = new HostKeyVerifier({ kind: 'pins', pins: [fingerprint(other), fingerprint(good)] }, '127.0.0.1', 2222, where);
  assert.equal((await pinned.check(good)).ok, true, 'any pin of the list is accepted');
  const wrong = await refusal(new HostKeyVerifier({ kind: 'pins', pins: [fingerprint(other)] }, '127.0.0.1', 2222, where), good);
  assert.ok(wrong.message.includes(fingerprint(good)) && wrong.message.includes(fingerprint(other)), 'both fingerprints');
  assert.deepEqual(wrong.details.expected, [fingerprint(other)]);

  const dir = mkdtempSync(join(tmpdir(), 'cfx-hk-'));
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, `[127.0.0.1]:2222 ssh-ed25519 ${good.toString('base64')}\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 ${blob('ecdsa-sha2-nistp256').toString('base64')}\n`);
  const khv = new HostKeyVerifier({ kind: 'knownHosts', file: kh }, '127.0.0.1', 2222, where);
  assert.equal((await khv.check(good)).ok, true);
  assert.deepEqual((await khv.algorithms())!.slice(0, 2), ['ssh-ed25519', 'ecdsa-sha2-nistp256'], 'known key types are offered first');
  const changed = await refusal(khv, other);
  assert.match(changed.message, /HOST KEY MISMATCH/);
  assert.ok(changed.message.includes(fingerprint(other)) && changed.message.includes(fingerprint(good)));
  const unknown = await refusal(new HostKeyVerifier({ kind: 'knownHosts', file: kh }, '127.0.0.1', 2200, where), good);
  assert.match(unknown.message, /\[127\.0\.0\.1\]:2200 is not in/);
  writeFileSync(kh, `@revoked * ssh-ed25519 ${good.toString('base64')}\n[127.0.0.1]:2222 ssh-ed25519 ${good.toString('base64')}\n`);
  assert.match((await refusal(khv, good)).message, /@revoked/);
  assert.match((await refusal(new HostKeyVerifier({ kind: 'knownHosts', file: join(dir, 'nope') }, '127.0.0.1', 2222, where), good)).message, /cannot read the known_hosts file/);

  const store = join(dir, 'store', 'known_hosts.json');
  const tofu = new HostKeyVerifier({ kind: 'tofu', store }, '127.0.0.1', 2222, where);
  assert.equal(await tofu.algorithms(), undefined);
  const first = await tofu.check(good);
  assert.ok(first.ok && first.record, 'first use: accepted, to be recorded');
  await first.record();
  const rec = JSON.parse(readFileSync(store, 'utf8'));
  assert.equal(rec['127.0.0.1:2222'].fingerprint, fingerprint(good));
  const again = await tofu.check(good);
  assert.ok(again.ok && !again.record);
  const swapped = await refusal(tofu, other);
  assert.match(swapped.message, /HOST KEY CHANGED/);
  assert.ok(swapped.message.includes(fingerprint(good)) && swapped.message.includes(fingerprint(other)));
  assert.equal((await tofu.algorithms())![0], 'ssh-ed25519');
});
