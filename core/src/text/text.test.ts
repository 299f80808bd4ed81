import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { FormatError } from '../api/index.js';
import { ByteDecoder, decodeText, decoderChoice, firstInvalidUtf8, type TextEncoding } from './text.js';

/**
 * Decodes `b` in pieces of `size` bytes the way a reader would: it counts the lines of the text
 * handed to it, and that count is the `line` the decoder asks for.
 */
function decodeAll(b: Buffer, encoding: TextEncoding, size = b.length || 1): string {
  let text = '', line = 1;
  const take = (s: string) => {
    text += s;
    for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) line++;
  };
  const d = new ByteDecoder(encoding, { file: 'f.txt', line: () => line });
  for (let i = 0; i < b.length; i += size) take(d.write(b.subarray(i, i + size)));
  take(d.end());
  return text;
}

function failure(b: Buffer, encoding: TextEncoding, size?: number): FormatError {
  try {
    decodeAll(b, encoding, size);
  } catch (e) {
    assert.ok(e instanceof FormatError, `not a FormatError: ${e}`);
    return e;
  }
  assert.fail('decoded without an error');
}

/** `lines` UTF-8 lines of Cyrillic text, CRLF */
const utf8Lines = (lines: number) => Array.from({ length: lines }, (_, k) => `${k + 1};Квиток дорослий №${k + 1};350,00\r\n`).join('');

describe('ByteDecoder: invalid bytes fail with file, line and byte offset', () => {
  afterEach(() => (decoderChoice.iconvOnly = false));

  it('a stray cp1251 byte in UTF-8 names its line and offset, whatever the chunking', () => {
    const before = utf8Lines(16);
    const bad = Buffer.concat([Buffer.from(before + '17;Ц', 'utf8'), Buffer.of(0xc8), Buffer.from(';1,00\r\n' + utf8Lines(3), 'utf8')]);
    const offset = Buffer.byteLength(before + '17;Ц');
    for (const encoding of ['utf-8', 'auto'] as const) {
      for (const size of [bad.length, 1, 2, 3, 7, 100, offset, offset + 1]) {
        const e = failure(bad, encoding, size);
        assert.equal(e.message, `f.txt, line 17: invalid UTF-8 byte 0xC8 at byte offset ${offset}`, `${encoding} in ${size}-byte pieces`);
        assert.deepEqual(e.location, { file: 'f.txt', line: 17 });
        assert.equal(e.code, 'CFX_E_FORMAT_INVALID');
      }
    }
  });

  it('auto: a UTF-8 file with a bad byte among its first characters is still UTF-8 (and fails), not cp1251 mojibake', () => {
    const b = Buffer.concat([Buffer.from('code;name\nЧай', 'utf8'), Buffer.of(0xc8), Buffer.from('\n', 'utf8')]);
    assert.equal(failure(b, 'auto').message, 'f.txt, line 2: invalid UTF-8 byte 0xC8 at byte offset 16');
  });

  it('a sequence cut off by the end of the file is an error at its first byte', () => {
    const b = Buffer.from('a\nб\nв', 'utf8').subarray(0, -1);
    for (const size of [1, 2, b.length]) assert.equal(failure(b, 'utf-8', size).message, 'f.txt, line 3: incomplete UTF-8 sequence at the end of the file: byte 0xD0 at byte offset 5');
  });

  it('a surrogate, an overlong form and a lone continuation byte are invalid UTF-8', () => {
    for (const [bytes, at] of [[[0x61, 0xed, 0xa0, 0x80], 1], [[0xc0, 0xaf], 0], [[0x61, 0x62, 0x80], 2], [[0xf4, 0x90, 0x80, 0x80], 0]] as const) {
      assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), at);
      assert.match(failure(Buffer.from(bytes), 'utf-8').message, new RegExp(`at byte offset ${at}$`));
    }
  });

  it('cp1251 decodes every assigned byte; 0x98 (unassigned) fails alike through TextDecoder and iconv-lite', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, k) => k).filter((k) => k !== 0x98));
    const want = iconv.decode(all, 'cp1251');
    assert.ok(!want.includes('\ufffd'));
    const bad = Buffer.concat([iconv.encode('Ціна\r\nЧай', 'cp1251'), Buffer.of(0x98), iconv.encode('\r\n', 'cp1251')]);
    for (const iconvOnly of [false, true]) {
      decoderChoice.iconvOnly = iconvOnly;
      assert.equal(decodeAll(all, 'cp1251', 5), want);
      assert.equal(decodeAll(iconv.encode('Сир "Звенигора" ваговий;289,90\r\n', 'cp1251'), 'auto'), 'Сир "Звенигора" ваговий;289,90\r\n');
      for (const encoding of ['cp1251', 'auto'] as const) {
        const e = failure(bad, encoding, 3);
        assert.equal(e.message, 'f.txt, line 2: invalid cp1251 byte 0x98 at byte offset 9 (no character has it: is the file cp1251 at all?)', `iconvOnly ${iconvOnly}, ${encoding}`);
      }
    }
  });

  it('auto still tells cp1251 from UTF-8, including capitals that happen to form a UTF-8 pair (ДІ)', () => {
    const cp = 'ДІМ;МІСТО;Сир «Звенигора»;Київ\n'.repeat(3);
    assert.equal(decodeAll(iconv.encode(cp, 'cp1251'), 'auto'), cp);
    assert.equal(decodeAll(Buffer.from(cp, 'utf8'), 'auto', 4), cp);
    assert.equal(decodeAll(Buffer.from('\ufeffЧай\n', 'utf8'), 'auto', 1), 'Чай\n');
  });

  it('without a line from its reader the error still names the file and the offset', () => {
    const d = new ByteDecoder('utf-8', { file: 'x.csv' });
    assert.throws(() => d.write(Buffer.of(0x41, 0xff)), (e: unknown) => e instanceof FormatError && e.message === 'x.csv: invalid UTF-8 byte 0xFF at byte offset 1' && e.location.line === undefined);
  });

  it('decodeText passes the site on', async () => {
    const bad = Buffer.concat([Buffer.from('a\nb\n'), Buffer.of(0xfe)]);
    const texts: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const t of decodeText(Readable.from([bad]), 'utf-8', undefined, { file: 'p.csv', line: () => texts.join('').split('\n').length })) texts.push(t);
      })(),
      { message: 'p.csv, line 3: invalid UTF-8 byte 0xFE at byte offset 4' },
    );
  });
});
