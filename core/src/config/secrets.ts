import type { PathSeg } from './env.js';
import { isSecretKey, urlPassword } from './redact.js';
import type { RawProblem } from './validator.js';

/** a value that is one `${NAME}` reference and nothing else (an empty default adds nothing) */
const ONLY_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-)?\}$/;

const fromEnv = (s: string): boolean => ONLY_REF.test(s);

const snake = (s: string): string =>
  s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();

/** the word naming the server's protocol in a variable: FTP for ftp:// and ftps://, SFTP, … */
function schemeWord(server: unknown): string {
  const m = typeof server === 'string' ? /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(server) : null;
  const scheme = (m?.[1] ?? 'ftp').toLowerCase();
  return scheme === 'ftps' ? 'FTP' : snake(scheme);
}

/**
 * The variable the docs would use for the secret at `path`: CFX_FTP_PASSWORD (server),
 * CFX_ADMIN_TOKEN, CFX_SFTP_PASSPHRASE (serverOptions.passphrase of sftp://),
 * CFX_BACKOFFICE_PASSWORD (backoffice.options.password), CFX_<PLUGIN>_API_TOKEN.
 */
function envNameFor(path: PathSeg[], server: unknown): string {
  const words = path.flatMap((seg, i) => {
    if (typeof seg === 'number' || seg === 'options' || seg === 'pluginOptions') return [];
    if (i === 0 && seg === 'serverOptions') return [schemeWord(server)];
    return [snake(seg)];
  });
  return `CFX_${words.filter(Boolean).join('_')}`;
}

/**
 * Secrets written in the config file itself rather than taken from the environment, found in the
 * file as written — before `${ENV}` expansion, which would make both look alike: the password of
 * `server:`'s URL, and every value under a key named like a secret (`admin.token`,
 * `serverOptions.password`, `…passphrase`, `…secret`) that is not one `${NAME}` reference (a
 * `${NAME:-default}` with a default writes the secret in the file too). Each names the key and the
 * form to use instead; `loadConfig` makes them warnings, or errors with `strict`.
 */
export function literalSecrets(input: Record<string, unknown>): RawProblem[] {
  const found: RawProblem[] = [];
  const server = input.server;
  if (typeof server === 'string') {
    const pw = urlPassword(server);
    if (pw && !fromEnv(pw.raw)) {
      const name = `CFX_${schemeWord(server)}_PASSWORD`;
      // the password starts after the first ':' of the authority (as urlPassword finds it)
      const at = server.indexOf(':', server.indexOf('://') + 3) + 1;
      const shown = `${server.slice(0, at)}\${${name}}${server.slice(at + pw.raw.length)}`;
      found.push({ path: ['server'], message: `the password is written in the file; use \${${name}} ("${shown}") and set ${name} in the environment` });
    }
  }
  const walk = (v: unknown, path: PathSeg[]): void => {
    const key = path[path.length - 1];
    if (typeof key === 'string' && isSecretKey(key) && (typeof v === 'string' || typeof v === 'number')) {
      const s = String(v);
      if (s !== '' && !fromEnv(s)) {
        const name = envNameFor(path, server);
        const what = /token$/i.test(key) ? 'token' : /passphrase$/i.test(key) ? 'passphrase' : /password$/i.test(key) ? 'password' : 'secret';
        found.push({ path, message: `the ${what} is written in the file; use "\${${name}}" and set ${name} in the environment` });
      }
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  for (const [k, v] of Object.entries(input)) if (k !== 'server') walk(v, [k]);
  return found;
}
