import { posix } from 'node:path';

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

export function remoteJoin(dir: string, name: string): string {
  return posix.join(dir, name);
}
