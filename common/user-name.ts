/**
 * One way to read a user name on both sides of the language boundary: `splitUserName` here and
 * `Split-SpawnGuardUserName` in powershell/SpawnGuard.Safety/Requests.ps1 give the same answer for
 * every input (test/host/user-name.test.ts runs both over one table).
 *
 * - `CONTOSO\bob` → { name: 'bob', domain: 'CONTOSO' } (split at the first backslash)
 * - `bob@contoso.com` → { name: 'bob', domain: 'contoso.com' } (a UPN: split at the last @)
 * - `bob` → { name: 'bob', domain: null }
 *
 * Both parts are trimmed (of what .NET's `String.Trim()` trims). An empty domain (`\bob`, `bob@`)
 * is no domain, `null`: it never stands for every domain. What is left (a second backslash, an @
 * inside the name) is for the caller to refuse.
 */
export interface SplitUserName {
  name: string;
  domain: string | null;
}

/** The characters .NET's `Char.IsWhiteSpace` accepts (`String.Trim()` on .NET Framework 4 and .NET). */
const DOTNET_SPACE = '[\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRIM = new RegExp(`^${DOTNET_SPACE}+|${DOTNET_SPACE}+$`, 'g');

/** `String.Trim()` as PowerShell runs it (JavaScript's `trim()` also strips U+FEFF, .NET's does not). */
export function dotnetTrim(text: string): string {
  return text.replace(TRIM, '');
}

export function splitUserName(userName: string): SplitUserName {
  const text = dotnetTrim(userName);
  let name = text;
  let domain: string | null = null;
  const slash = text.indexOf('\\');
  const at = text.lastIndexOf('@');
  if (slash >= 0) {
    name = text.slice(slash + 1);
    domain = text.slice(0, slash);
  } else if (at >= 0) {
    name = text.slice(0, at);
    domain = text.slice(at + 1);
  }
  name = dotnetTrim(name);
  if (domain !== null) {
    domain = dotnetTrim(domain);
    if (domain.length === 0) domain = null;
  }
  return { name, domain };
}

/**
 * A user as the alert gives it ({ name, domain? }), with a `DOMAIN\user` or UPN written into the
 * name split out; an explicit domain field is kept when the name carries none.
 */
export function normalizeUser<T extends { name: string; domain?: string }>(user: T): T {
  const split = splitUserName(user.name);
  const explicit = user.domain === undefined ? '' : dotnetTrim(user.domain);
  const domain = split.domain ?? (explicit.length > 0 ? explicit : null);
  const out = { ...user, name: split.name };
  if (domain === null) delete out.domain;
  else out.domain = domain;
  return out;
}
