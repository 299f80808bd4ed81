/** `${NAME}` / `${NAME:-default}` expansion in every string value of a parsed config. */

export type PathSeg = string | number;

export interface EnvProblem {
  path: PathSeg[];
  message: string;
  /** the variable that was not set (absent for a malformed reference) */
  variable?: string;
}

const REF = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands one string. `$${` gives a literal `${`. `${NAME:-default}` uses the default when NAME is
 * unset or empty. Values expanded before index `encodeBefore` of the template (the userinfo of a
 * URL) are percent-encoded, so a password with `@`, `/` or `:` keeps the URL intact.
 */
export function expandString(
  s: string,
  env: NodeJS.ProcessEnv,
  opts: { encodeBefore?: number } = {},
): { value: string; missing: string[]; malformed: string[] } {
  const missing: string[] = [];
  const malformed: string[] = [];
  const value = s.replace(REF, (match: string, body: string | undefined, offset: number) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      malformed.push('"${" without a closing "}" (write "$${" for a literal "${")');
      return match;
    }
    const sep = body.indexOf(':-');
    const name = sep >= 0 ? body.slice(0, sep) : body;
    if (!NAME.test(name)) {
      malformed.push(`"\${${body}}" is not a valid variable reference (write "$\${" for a literal "\${")`);
      return match;
    }
    let v = env[name];
    if ((v === undefined || v === '') && sep >= 0) v = body.slice(sep + 2);
    if (v === undefined) {
      missing.push(name);
      return '';
    }
    return opts.encodeBefore !== undefined && offset < opts.encodeBefore ? encodeURIComponent(v) : v;
  });
  return { value, missing, malformed };
}

/** Index of the `@` ending the userinfo of a URL-looking template, or undefined. */
export function userinfoEnd(s: string): number | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(s);
  if (!m) return undefined;
  const start = m[0].length;
  // skip over ${...} so a default value's '/' does not end the authority early
  let i = start;
  let at: number | undefined;
  while (i < s.length) {
    if (s.startsWith('${', i)) {
      const close = s.indexOf('}', i);
      if (close < 0) break;
      i = close + 1;
      continue;
    }
    const c = s[i]!;
    if (c === '/' || c === '?' || c === '#') break;
    if (c === '@') at = i;
    i++;
  }
  return at;
}

/** Deep copy of `value` with every string expanded; problems carry the path of the string. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv): { value: unknown; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const walk = (v: unknown, path: PathSeg[]): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      const isServer = path.length === 1 && path[0] === 'server';
      const r = expandString(v, env, isServer ? { encodeBefore: userinfoEnd(v) } : {});
      for (const name of r.missing) problems.push({ path, message: `environment variable ${name} is not set`, variable: name });
      for (const m of r.malformed) problems.push({ path, message: m });
      return r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: walk(x, [...path, k]), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return v;
  };
  return { value: walk(value, []), problems };
}

/** A `${NAME}` a config refers to: where, and whether it has a default (then it may be unset). */
export interface EnvReference {
  name: string;
  /** dotted path of the value, e.g. `server`, `admin.token` */
  path: string;
  hasDefault: boolean;
}

/** Every `${NAME}` in a parsed (not yet expanded) config: what a service's environment must provide. */
export function envReferences(value: unknown): EnvReference[] {
  const out: EnvReference[] = [];
  const walk = (v: unknown, path: PathSeg[]): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(REF)) {
        const body = m[1];
        if (body === undefined) continue;
        const sep = body.indexOf(':-');
        const name = sep >= 0 ? body.slice(0, sep) : body;
        if (NAME.test(name)) out.push({ name, path: path.join('.'), hasDefault: sep >= 0 });
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  return out;
}
