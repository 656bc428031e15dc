/**
 * Alert-derived text for people to read (email, review page, CLI). Alerts describe an attacker's
 * processes, so a rule name, process name, path, user or host name may carry characters crafted to
 * mislead a reader: a line break that plants a "Review page: http://evil…" line in a report, a
 * right-to-left override (U+202E) that shows `exe.pdf` as `fdp.exe`, zero-width characters that make
 * two names look alike. Every control character, format character (bidi controls, zero-width
 * joiners, BOM) and line or paragraph separator is shown as a visible escape instead: `\n`, `\r`,
 * `\t`, or `\u{202E}`. Pure and deterministic (usable in workflow code).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function displayText(value: string): string {
  return value.replace(
    HIDDEN,
    (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`,
  );
}

/** As displayText, keeping line breaks (`\n`) of text the project itself composed over several lines. */
export function displayLines(value: string): string {
  return value.split('\n').map(displayText).join('\n');
}

/**
 * Every string in a value (an incident status, say) through displayText: what a renderer then
 * shows cannot carry a hidden character, whichever field it comes from. Plain data only.
 */
export function displayValues<T>(value: T): T {
  if (typeof value === 'string') return displayText(value) as T;
  if (Array.isArray(value)) return value.map(displayValues) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, displayValues(inner)])) as T;
  }
  return value;
}
