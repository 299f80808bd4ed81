import { createHash, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../config/index.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Is `authorization` (`Bearer <token>`) the configured token? Both sides are hashed first, so the
 * constant-time comparison always sees two buffers of the same length and the token's length
 * leaks nothing either.
 */
export function bearerMatches(expected: string, authorization: string | undefined): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  const given = m?.[1] ?? '';
  // always compare, even without a header, so a missing token costs the same as a wrong one
  const ok = timingSafeEqual(digest(given), digest(expected));
  return ok && m !== null;
}

/** the host name of a Host header (`127.0.0.1:8730`, `[::1]:8730`, `localhost`) without the port */
export function hostnameOf(hostHeader: string | undefined): string {
  const h = (hostHeader ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * A server on a loopback address answers only requests addressed to a loopback name: a web page
 * elsewhere that points its own host name at 127.0.0.1 (DNS rebinding) gets nothing.
 */
export function hostAllowed(listenLoopback: boolean, hostHeader: string | undefined): boolean {
  if (!listenLoopback) return true;
  const name = hostnameOf(hostHeader);
  return name !== '' && isLoopbackHost(name);
}

/**
 * A state-changing call from a page of another origin is refused (a form or script elsewhere
 * posting to the till's admin port). Calls without an Origin header (curl, tills) are not browsers' cross-site calls.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  if (origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === (hostHeader ?? '').trim().toLowerCase();
  } catch {
    return false;
  }
}

/** wrong tokens one address may present per window before every token from it is refused (429) */
export const TOKEN_ATTEMPTS_MAX = 10;
export const TOKEN_ATTEMPTS_WINDOW_MS = 60_000;

/**
 * Routes answered without the token even off loopback: the page's shell (no data in it), its
 * script and stylesheet, and `/api/auth` (how the page checks a token; a wrong one still counts).
 */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/', '/app.js', '/app.css', '/favicon.ico', '/api/auth']);

/**
 * Which calls need the token: with none configured, none (loopback only — config refuses anything
 * else); on loopback, state-changing calls; beyond loopback, every call but the open routes (an
 * unknown route too, so routes cannot be probed).
 */
export function tokenNeeded(admin: { loopback: boolean; token?: string }, method: string, route: string | undefined): boolean {
  if (admin.token === undefined) return false;
  const write = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
  if (write) return true;
  return !admin.loopback && !(route !== undefined && OPEN_ROUTES.has(route));
}
