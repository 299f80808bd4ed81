import iconv from 'iconv-lite';
import { TransportError } from '@cfx/core/api';

export type NameEncoding = 'utf8' | 'cp1251';

/**
 * Names on the wire. basic-ftp writes commands and reads replies/listings through the control
 * socket's string encoding. For utf8 servers that is all. For cp1251 servers the socket is set to
 * latin1 (one char = one byte, lossless both ways) and names are converted here: outgoing
 * JS string → cp1251 bytes → latin1 string; incoming latin1 string → bytes → cp1251 decode.
 */
export interface NameCodec {
  readonly socketEncoding: 'utf8' | 'latin1';
  /** a path or name as it must be written into an FTP command */
  out(name: string): string;
  /** a name (or server reply) as basic-ftp read it, back to a JS string */
  in(wire: string): string;
}

const UTF8: NameCodec = { socketEncoding: 'utf8', out: (s) => s, in: (s) => s };

const CP1251: NameCodec = {
  socketEncoding: 'latin1',
  out(name) {
    const bytes = iconv.encode(name, 'win1251');
    // iconv-lite writes '?' for what cp1251 cannot hold: refuse instead of creating a wrong name
    if (iconv.decode(bytes, 'win1251') !== name) {
      throw new TransportError('Protocol', `name cannot be written in cp1251: ${JSON.stringify(name)}`, { path: name });
    }
    return bytes.toString('latin1');
  },
  in: (wire) => iconv.decode(Buffer.from(wire, 'latin1'), 'win1251'),
};

export function nameCodec(encoding: NameEncoding = 'utf8'): NameCodec {
  return encoding === 'cp1251' ? CP1251 : UTF8;
}
