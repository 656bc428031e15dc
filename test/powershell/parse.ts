/**
 * Parses PowerShell with the real grammar (web-tree-sitter + the wasm shipped in
 * tree-sitter-powershell). No PowerShell runtime exists here (DESIGN.md §5): this parse tree is
 * what the static checks in this folder inspect.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Parser as ParserType, Tree } from 'web-tree-sitter';

const { Parser, Language } = require('web-tree-sitter') as typeof import('web-tree-sitter');

let parserPromise: Promise<ParserType> | undefined;

async function loadParser(): Promise<ParserType> {
  await Parser.init();
  // The bytes, not the path: given a path, web-tree-sitter reads it through a dynamic import(),
  // which jest's module sandbox refuses. A Uint8Array made here is of this realm (instanceof holds).
  const wasm = new Uint8Array(readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export async function parsePowerShell(source: string): Promise<Tree> {
  parserPromise ??= loadParser();
  const parser = await parserPromise;
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

export const POWERSHELL_DIR = join(__dirname, '..', '..', 'powershell');

export interface PowerShellFile {
  /** Path relative to powershell/ (forward slashes). */
  name: string;
  path: string;
  source: string;
}

/**
 * Every .ps1/.psm1/.psd1 under powershell/: the scripts, the safety module's folder (manifest, root
 * module and concern files) and the Pester tests.
 */
export function listPowerShellFiles(dir = POWERSHELL_DIR, prefix = ''): PowerShellFile[] {
  const files: PowerShellFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const name = prefix + entry.name;
    if (entry.isDirectory()) files.push(...listPowerShellFiles(path, `${name}/`));
    else if (/\.(ps1|psm1|psd1)$/i.test(entry.name)) files.push({ name, path, source: readFileSync(path, 'utf8') });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/** Depth-first walk over every node (named and anonymous). */
export function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of node.children) {
    if (child) yield* walk(child);
  }
}

/** A node plus its 1-based line, for readable failure messages. */
export function describe(node: Node): string {
  return `line ${node.startPosition.row + 1}: ${node.text.split('\n')[0]?.slice(0, 120)}`;
}

export function hasAncestorOfType(node: Node, types: readonly string[]): boolean {
  for (let current = node.parent; current; current = current.parent) {
    if (types.includes(current.type)) return true;
  }
  return false;
}
