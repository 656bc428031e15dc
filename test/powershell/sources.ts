/**
 * The PowerShell sources under powershell/, parsed once, with the command catalog each one may
 * call: the host scripts see the cmdlets of cmdlets.ts, their own functions and the safety
 * module's exported ones; the Pester tests also see Pester and the test helpers.
 */
import type { Tree } from 'web-tree-sitter';
import { PESTER_COMMANDS, SCRIPT_CMDLETS } from './cmdlets';
import { listPowerShellFiles, parsePowerShell, type PowerShellFile } from './parse';
import { exportedFunctionNames, functionInfos, type CommandCatalog, type FunctionInfo } from './rules';

export const SAFETY_MODULE = 'SpawnGuard.Safety.psm1';
export const TEST_HELPERS = 'tests/SpawnGuard.TestHelpers.psm1';

export type SourceKind = 'script' | 'module' | 'pester';

export interface ParsedSource extends PowerShellFile {
  kind: SourceKind;
  tree: Tree;
}

export function kindOf(name: string): SourceKind {
  if (name.startsWith('tests/')) return 'pester';
  return name.endsWith('.psm1') ? 'module' : 'script';
}

export async function loadSources(): Promise<ParsedSource[]> {
  const files = listPowerShellFiles();
  return Promise.all(
    files.map(async (file) => ({ ...file, kind: kindOf(file.name), tree: await parsePowerShell(file.source) })),
  );
}

function exportedFunctions(source: ParsedSource | undefined): FunctionInfo[] {
  if (!source) return [];
  const exported = new Set(exportedFunctionNames(source.tree).map((name) => name.toLowerCase()));
  return functionInfos(source.tree.rootNode).filter((fn) => exported.has(fn.name.toLowerCase()));
}

/** What `source` may call, given every parsed source. */
export function catalogFor(source: ParsedSource, all: ParsedSource[]): CommandCatalog {
  const safety = exportedFunctions(all.find((s) => s.name === SAFETY_MODULE));
  const helpers = exportedFunctions(all.find((s) => s.name === TEST_HELPERS));
  const own = functionInfos(source.tree.rootNode);
  if (source.kind === 'pester') {
    return {
      cmdlets: { ...SCRIPT_CMDLETS, ...Object.fromEntries(PESTER_COMMANDS.map((name) => [name, 'any' as const])) },
      functions: [...own, ...safety, ...helpers],
    };
  }
  return { cmdlets: SCRIPT_CMDLETS, functions: source.kind === 'script' ? [...own, ...safety] : own };
}
