import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CfxError } from '../api/errors.js';
import { parseDuration, parseSize } from './index.js';

test('parseDuration', () => {
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration(' 2 s '), 2000);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration(750), 750);
  assert.equal(parseDuration('1d'), 86_400_000);
  for (const bad of ['', 'fast', '1x', '-1s', 's', '1s2']) assert.throws(() => parseDuration(bad), CfxError, bad);
  assert.throws(() => parseDuration(-5), CfxError);
});

test('parseSize', () => {
  assert.equal(parseSize('512MB'), 512 * 1024 * 1024);
  assert.equal(parseSize('1MB'), 1024 * 1024);
  assert.equal(parseSize('64KB'), 65_536);
  assert.equal(parseSize('64kb'), 65_536);
  assert.equal(parseSize('2GB'), 2 * 1024 ** 3);
  assert.equal(parseSize('1.5K'), 1536);
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('100B'), 100);
  assert.equal(parseSize(4096), 4096);
  for (const bad of ['', 'big', '1XB', '-1MB', 'MB']) assert.throws(() => parseSize(bad), CfxError, bad);
});
