/**
 * Process-name comparison (the decision rules, the lab host): case-insensitive, `.exe` optional, and aware of
 * look-alike characters, so `SVCHOST.EXE`, `svchost` and `svchost.exe` are the same name while
 * `svch0st.exe` or a Cyrillic `ѕvchost.exe` are reported as imitations of it. Workflow-safe.
 */
import { baseName } from './paths';

/** `C:\Windows\System32\SVCHOST.EXE` → `svchost`; `WINWORD.EXE` → `winword`. */
export function nameStem(nameOrPath: string): string {
  return baseName(nameOrPath).replace(/\.exe$/, '');
}

/**
 * Characters attackers use in place of Latin letters (Unicode "confusables" for the letters that
 * occur in Windows binary names), and digit/letter swaps. Upper-case forms are lower-cased first.
 */
// prettier-ignore
const LOOK_ALIKES: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'l', ї: 'l', ј: 'j', к: 'k', ӏ: 'l', м: 'm', н: 'h', о: 'o', р: 'p',
  ԛ: 'q', с: 'c', ѕ: 's', т: 't', у: 'y', ԝ: 'w', х: 'x', ԁ: 'd', ɡ: 'g', ս: 'u', ո: 'n',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'l', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
  // Latin look-alikes and i/l/1 confusion (`lsass` vs `Isass`)
  ı: 'l', i: 'l', '1': 'l', '|': 'l', ł: 'l', ɩ: 'l', ⅼ: 'l',
  // Digits standing in for letters
  '0': 'o', '3': 'e', '5': 's',
};

/** Invisible characters that make two names differ without looking different. */
// Combining marks (U+034F, U+17B4, U+17B5) sit outside the class: inside one they would attach to
// the character before them.
const INVISIBLE = /[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]|\u034f|\u17b4|\u17b5/g;

/**
 * The look-alike skeleton of a name stem: two names with the same skeleton look the same to a
 * person reading a process list. Never used for identity — only to spot imitations.
 */
export function lookAlikeSkeleton(stem: string): string {
  const decomposed = stem
    .normalize('NFKC')
    .toLowerCase()
    .replace(INVISIBLE, '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '');
  let folded = '';
  for (const ch of decomposed) folded += LOOK_ALIKES[ch] ?? ch;
  // Multi-letter look-alikes: `rn` reads as `m`, `vv` as `w`.
  return folded.replace(/rn/g, 'm').replace(/vv/g, 'w');
}

export interface NameMatch {
  /** The known name matched (a stem from the table, e.g. `svchost`). */
  known: string;
  /** true: the same name; false: only the same after folding look-alikes (a masquerade). */
  exact: boolean;
}

/** Match a process name or path against known stems, exactly first, then by look-alike skeleton. */
export function matchName(nameOrPath: string, known: readonly string[]): NameMatch | null {
  const stem = nameStem(nameOrPath);
  if (known.includes(stem)) return { known: stem, exact: true };
  const skeleton = lookAlikeSkeleton(stem);
  const imitated = known.find((k) => lookAlikeSkeleton(k) === skeleton);
  return imitated === undefined ? null : { known: imitated, exact: false };
}

/** The characters of a name that are not plain ASCII, for evidence (`U+0455`). */
export function unusualCharacters(name: string): string[] {
  const found: string[] = [];
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x7e || code < 0x20) found.push(`'${ch}' U+${code.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  return [...new Set(found)];
}
