/** Small parsers shared by the format normalizers. */
import { z } from 'zod';
import { splitUserName } from '../user-name';

/** A key JSON.parse makes an own property but an assignment would treat as the prototype. */
const FORBIDDEN_KEY = '__proto__';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** Merges `addition` into `target` in place, recursively, so dotted and nested spellings of one object combine. */
function mergeInto(target: Record<string, unknown>, addition: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(addition)) {
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isPlainObject(existing) && isPlainObject(value)) mergeInto(existing, value);
    else target[key] = value;
  }
}

/**
 * Expands `{"kibana.alert.rule.name": "x"}` into nested objects; nested input is returned as is.
 * Elastic alerts mix both spellings, sometimes for the same object (`"process.parent.pid"` beside
 * `process: { parent: {…} }`), so they are merged deeply. `__proto__` keys are dropped: this runs on
 * untrusted input, and following one would write into Object.prototype.
 */
export function expandDottedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expandDottedKeys);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === FORBIDDEN_KEY) continue;
    const child = expandDottedKeys(value[key]);
    if (!key.includes('.')) {
      // The common case (canonical alerts have no dotted keys): no wrapper objects to build.
      const existing = Object.hasOwn(out, key) ? out[key] : undefined;
      if (isPlainObject(existing) && isPlainObject(child)) mergeInto(existing, child);
      else out[key] = child;
      continue;
    }
    const parts = key.split('.');
    if (parts.includes(FORBIDDEN_KEY)) continue;
    let nested: unknown = child;
    for (const part of parts.slice(1).reverse()) nested = { [part]: nested };
    mergeInto(out, { [parts[0] as string]: nested });
  }
  return out;
}

/** A Windows process id as events write it: decimal (`"4660"`, `4660`) or hex (`"0x1234"`). */
export const windowsPid = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const text = String(value).trim();
  const parsed = /^0x[0-9a-f]{1,8}$/i.test(text)
    ? parseInt(text.slice(2), 16)
    : /^\d{1,10}$/.test(text)
      ? Number(text)
      : NaN;
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0xffffffff) {
    ctx.addIssue({ code: 'custom', message: `not a process id: ${JSON.stringify(value).slice(0, 40)}` });
    return z.NEVER;
  }
  return parsed;
});

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;
const SYSMON_DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)$/;

/**
 * Any date the sensors write (ISO-8601, or Sysmon's `2024-05-01 10:11:12.345`) → ISO-8601 UTC.
 * A time without a zone is UTC (Sysmon's convention; the host's local zone would make the result
 * depend on where it runs); sub-millisecond digits are dropped; impossible dates (Feb 30) are rejected.
 */
export const eventTime = z.string().transform((value, ctx) => {
  const text = value.trim();
  const sysmon = SYSMON_DATETIME.exec(text);
  const match = ISO_DATETIME.exec(sysmon ? `${sysmon[1]}T${sysmon[2]}` : text);
  const ms = match ? parseIsoParts(match) : NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp: ${JSON.stringify(value).slice(0, 60)}` });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

function parseIsoParts(match: RegExpExecArray): number {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number(((match[7] ?? '') + '000').slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  const valid =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  if (!valid) return NaN;
  const zone = (match[8] ?? 'Z').toUpperCase();
  if (zone === 'Z') return utc;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  const sign = offset?.[1] === '-' ? -1 : 1;
  const offsetHours = Number(offset?.[2]);
  const offsetMinutes = Number(offset?.[3]);
  if (offsetHours > 23 || offsetMinutes > 59) return NaN;
  return utc - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** Base name of a Windows path: `C:\Windows\System32\cmd.exe` → `cmd.exe`. */
export function windowsBaseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/**
 * `CONTOSO\alice` → { domain: 'CONTOSO', name: 'alice' }; `alice@contoso.com` → { domain:
 * 'contoso.com', name: 'alice' }: the one reading of a user name the host scripts share
 * (common/user-name.ts).
 */
export function splitAccount(account: string): { name: string; domain?: string } {
  const { name, domain } = splitUserName(account);
  return domain === null ? { name } : { domain, name };
}

/** Sysmon's `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` → lower-case hashes we keep. */
export function parseSysmonHashes(text: string): { sha256?: string; sha1?: string; md5?: string } {
  const hashes: { sha256?: string; sha1?: string; md5?: string } = {};
  for (const pair of text.split(',')) {
    const [algorithm, digest] = pair.split('=').map((s) => s.trim());
    if (!algorithm || !digest) continue;
    const key = algorithm.toUpperCase();
    if (key === 'SHA256') hashes.sha256 = digest.toLowerCase();
    else if (key === 'SHA1') hashes.sha1 = digest.toLowerCase();
    else if (key === 'MD5') hashes.md5 = digest.toLowerCase();
  }
  return hashes;
}

/** Drops keys whose value is undefined or an empty object, so optional fields stay absent. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    if (child && typeof child === 'object' && !Array.isArray(child) && Object.keys(child).length === 0) continue;
    out[key] = child;
  }
  return out as T;
}

/** Windows event fields use `-` for "not applicable". */
export const optionalEventString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' || s.trim() === '-' ? undefined : s));
