import { posix } from 'node:path';
import { CfxError, ErrorCodes } from '../../api/index.js';

/** Names the reader must never take: temp uploads, hidden files, flag/done markers. */
export function isTempName(name: string): boolean {
  return name.startsWith('.') || /\.(part|tmp|filepart|crdownload)$/i.test(name) || name.endsWith('~');
}

export function isMarkerName(name: string): boolean {
  return /\.(done|flg|flag)$/i.test(name);
}

/**
 * A remote name made safe for the local disk: no separators, no `..`, no control characters,
 * no leading dots. The remote side keeps using the original name.
 */
export function safeLocalName(name: string): string {
  let s = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_');
  s = s.replace(/\.\.+/g, '_').replace(/^[.\s]+/, '_').trim();
  if (s === '' || s === '_') s = 'unnamed';
  return s.slice(0, 200);
}

export function expandTemplate(tpl: string, vars: Record<string, string | undefined>): string {
  return tpl.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

/**
 * Why a name from a listing is not a plain name, or undefined when it is one. A listing is the
 * server's word: a name with a separator (`x/../../other/prices.csv`, or `a\..\b.csv`, which a
 * Windows server takes as a path), `.`/`..`, NUL or another control character (C0, DEL, C1) would
 * make a path built from it leave the dir that was listed, or say something else in a log line.
 */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `is "${name}"`;
  if (/[/\\]/.test(name)) return 'holds a path separator (/ or \\)';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'holds a control character';
  return undefined;
}

export function isPlainName(name: string): boolean {
  return unsafeNameReason(name) === undefined;
}

/**
 * THE way a remote path is made from a dir (config, trusted) and a name (a listing's, or one cfx
 * made): every job builds its paths here, so a name that would leave the dir never reaches the server.
 */
export function remotePath(dir: string, name: string): string {
  const why = unsafeNameReason(name);
  if (why) throw new CfxError(ErrorCodes.UNSAFE_NAME, `refused the remote name ${JSON.stringify(name)}: it ${why}`, { details: { dir, name } });
  return posix.join(dir, name);
}

/**
 * Natural order of names: runs of digits compare as numbers (`prices_9` before `prices_10`,
 * `goods-99` before `goods-100`), everything else by UTF-16 code units. Numbers of any length:
 * leading zeros are dropped and the longer run is the larger number, so no parse can overflow.
 * Equal numbers written differently (`7` and `007`) fall back to plain order, so the order is total.
 */
export function naturalCompare(a: string, b: string): number {
  const ra = /(\d+)|(\D+)/g;
  const rb = /(\d+)|(\D+)/g;
  for (;;) {
    const ma = ra.exec(a);
    const mb = rb.exec(b);
    if (!ma || !mb) {
      if (ma || mb) return ma ? 1 : -1;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    if (ma[1] !== undefined && mb[1] !== undefined) {
      const x = ma[1].replace(/^0+/, '');
      const y = mb[1].replace(/^0+/, '');
      if (x.length !== y.length) return x.length - y.length;
      if (x !== y) return x < y ? -1 : 1;
    } else if (ma[0] !== mb[0]) {
      return ma[0] < mb[0] ? -1 : 1;
    }
  }
}
