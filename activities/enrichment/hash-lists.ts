/**
 * Local allow and deny lists: files of SHA-256 hashes, one a line, `#` starts a comment.
 * A bad line is a configuration error reported with its line number when the list is loaded.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../common/config';
import { knownResult, SHA256, unknownResult, type ReputationProvider } from './provider';

export interface HashListProblem {
  line: number;
  text: string;
  message: string;
}

export interface ParsedHashList {
  hashes: Set<string>;
  problems: HashListProblem[];
}

export function parseHashList(content: string): ParsedHashList {
  const hashes = new Set<string>();
  const problems: HashListProblem[] = [];
  content.split(/\r?\n/).forEach((raw, index) => {
    const text = raw.replace(/^\uFEFF/, '');
    const value = text.replace(/#.*$/, '').trim();
    if (!value) return;
    const hash = value.toLowerCase();
    if (SHA256.test(hash)) hashes.add(hash);
    else problems.push({ line: index + 1, text: value, message: 'not a SHA-256 hash (64 hex characters)' });
  });
  return { hashes, problems };
}

/** Reads a list file; throws ConfigError naming the variable, the file and every bad line. */
export function loadHashList(path: string, variable: string): Set<string> {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const { hashes, problems } = parseHashList(content);
  if (problems.length > 0) {
    throw new ConfigError(
      problems.map(
        (p) => `${variable}: ${path} line ${p.line}: ${JSON.stringify(p.text.slice(0, 80))} is ${p.message}`,
      ),
    );
  }
  return hashes;
}

export function createHashListProvider(kind: 'allowlist' | 'denylist', hashes: Set<string>): ReputationProvider {
  return {
    name: kind,
    async lookup(sha256) {
      if (!hashes.has(sha256)) return unknownResult(kind);
      return kind === 'denylist'
        ? knownResult(kind, { malicious: 1, total: 1, label: 'on the local deny list' })
        : knownResult(kind, { total: 1, label: 'on the local allow list' });
    },
  };
}
