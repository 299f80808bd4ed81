import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvFile, skewMs } from './doctor.js';

test('clock skew: a LIST time without seconds means that whole minute; only the distance outside it counts', () => {
  const write = Date.UTC(2025, 2, 15, 10, 0, 42);
  // vsftpd lists 10:00 for a file written at 10:00:42: no skew
  assert.equal(skewMs(new Date(Date.UTC(2025, 2, 15, 10, 0)), write, write + 100), 0);
  // 10:05 for it: at least 4 min 18 s ahead
  assert.equal(skewMs(new Date(Date.UTC(2025, 2, 15, 10, 5)), write, write + 100), 4 * 60_000 + 18_000 - 100);
  // an exact mtime (MLSD, SFTP) 3 minutes behind
  assert.equal(skewMs(new Date(write - 180_000 + 500), write, write + 100), -180_000 + 500 + 1000);
});

test('the env file: NAME=value lines, comments, export and quotes', () => {
  assert.deepEqual(parseEnvFile('# secrets\nCFX_FTP_PASSWORD=p@ss=word\r\nexport TOKEN="a b"\n# OTHER=\n  X = \'y\'\nnot a line\n'), { CFX_FTP_PASSWORD: 'p@ss=word', TOKEN: 'a b', X: 'y' });
});
