/**
 * The PowerShell sources under powershell/, parsed once, with the command catalog each one may
 * call: the host scripts see the cmdlets of cmdlets.ts, their own functions and the safety
 * module's exported ones; the module's files see every function of the module (they share its
 * scope); the Pester tests also see Pester and the test helpers.
 *
 * The safety module is a folder (SpawnGuard.Safety/): its manifest (.psd1, FunctionsToExport is
 * the export list), its root module (.psm1, which only dot-sources the concern files) and the
 * concern files (.ps1), Platform.ps1 among them (the Windows seam).
 */
import type { Tree } from 'web-tree-sitter';
import { PESTER_COMMANDS, SCRIPT_CMDLETS } from './cmdlets';
import { listPowerShellFiles, parsePowerShell, type PowerShellFile } from './parse';
import {
  exportedFunctionNames,
  functionInfos,
  manifestFunctionNames,
  scriptScopeVariables,
  stringLiterals,
  type CommandCatalog,
  type FunctionInfo,
} from './rules';

/** The module folder, as scripts import it (`Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety'`). */
export const SAFETY_MODULE = 'SpawnGuard.Safety';
export const SAFETY_MANIFEST = `${SAFETY_MODULE}/SpawnGuard.Safety.psd1`;
export const SAFETY_ROOT_MODULE = `${SAFETY_MODULE}/SpawnGuard.Safety.psm1`;
/** The Windows seam: the one file allowed to make Windows-only calls. */
export const PLATFORM_FILE = `${SAFETY_MODULE}/Platform.ps1`;
/** The `$script:` protected lists and tables (mirrored by common/windows/protected.ts). */
export const PROTECTED_LISTS = `${SAFETY_MODULE}/ProtectedLists.ps1`;
export const TEST_HELPERS = 'tests/SpawnGuard.TestHelpers.psm1';
/**
 * Functions of the safety module deliberately not exported (callable only inside the module).
 * Empty: every function the module defines is in the manifest's FunctionsToExport.
 */
export const SAFETY_PRIVATE_FUNCTIONS: readonly string[] = [];

/**
 * script: a host action (one result document, the module, the seam); host: powershell/WarmHost.ps1,
 * which runs those scripts in runspaces and itself touches nothing but its own folder; module; pester.
 */
export type SourceKind = 'script' | 'host' | 'module' | 'pester';

export const WARM_HOST = 'WarmHost.ps1';

export interface ParsedSource extends PowerShellFile {
  kind: SourceKind;
  tree: Tree;
}

export function kindOf(name: string): SourceKind {
  if (name.startsWith('tests/')) return 'pester';
  if (name.startsWith(`${SAFETY_MODULE}/`)) return 'module';
  if (name === WARM_HOST) return 'host';
  return /\.(psm1|psd1)$/i.test(name) ? 'module' : 'script';
}

export async function loadSources(): Promise<ParsedSource[]> {
  const files = listPowerShellFiles();
  return Promise.all(
    files.map(async (file) => ({ ...file, kind: kindOf(file.name), tree: await parsePowerShell(file.source) })),
  );
}

/** The files of the safety module folder that hold code (the root module and the concern files; not the manifest). */
export function safetyModuleFiles(all: ParsedSource[]): ParsedSource[] {
  return all.filter((s) => s.name.startsWith(`${SAFETY_MODULE}/`) && /\.(ps1|psm1)$/i.test(s.name));
}

/** The concern files the root module must load: the .ps1 files of the module folder. */
export function safetyConcernFiles(all: ParsedSource[]): ParsedSource[] {
  return all.filter((s) => s.name.startsWith(`${SAFETY_MODULE}/`) && /\.ps1$/i.test(s.name));
}

/** Every function defined in the safety module's files. */
export function safetyModuleFunctions(all: ParsedSource[]): FunctionInfo[] {
  return safetyModuleFiles(all).flatMap((file) => functionInfos(file.tree.rootNode));
}

/** The functions a script may call: listed in the manifest's FunctionsToExport and defined in the module's files. */
export function safetyExportedFunctions(all: ParsedSource[]): FunctionInfo[] {
  const manifest = all.find((s) => s.name === SAFETY_MANIFEST);
  const exported = new Set((manifest ? (manifestFunctionNames(manifest.tree) ?? []) : []).map((n) => n.toLowerCase()));
  return safetyModuleFunctions(all).filter((fn) => exported.has(fn.name.toLowerCase()));
}

/** The script-scope variables set by any file of the safety module (they share the module's scope). */
export function safetyScriptScope(all: ParsedSource[]): Set<string> {
  const names = new Set<string>();
  for (const file of safetyModuleFiles(all)) for (const name of scriptScopeVariables(file.tree)) names.add(name);
  return names;
}

function exportedFunctions(source: ParsedSource | undefined): FunctionInfo[] {
  if (!source) return [];
  const exported = new Set(exportedFunctionNames(source.tree).map((name) => name.toLowerCase()));
  return functionInfos(source.tree.rootNode).filter((fn) => exported.has(fn.name.toLowerCase()));
}

/**
 * The scripts a Pester file dot-sources to call their functions (the main guard makes that load
 * them and run nothing): when the file dot-sources anything, the scripts it names as '<Name>.ps1'.
 */
function dotSourcedScripts(source: ParsedSource, all: ParsedSource[]): ParsedSource[] {
  const dotSources = source.tree.rootNode
    .descendantsOfType('command_invokation_operator')
    .some((operator) => operator.text === '.');
  if (!dotSources) return [];
  const named = new Set(stringLiterals(source.tree.rootNode).map((text) => text.toLowerCase()));
  return all.filter((s) => (s.kind === 'script' || s.kind === 'host') && named.has(s.name.toLowerCase()));
}

/** What `source` may call, given every parsed source. */
export function catalogFor(source: ParsedSource, all: ParsedSource[]): CommandCatalog {
  const safety = safetyExportedFunctions(all);
  const helpers = exportedFunctions(all.find((s) => s.name === TEST_HELPERS));
  const own = functionInfos(source.tree.rootNode);
  if (source.kind === 'pester') {
    const scripts = dotSourcedScripts(source, all).flatMap((script) => functionInfos(script.tree.rootNode));
    return {
      cmdlets: { ...SCRIPT_CMDLETS, ...Object.fromEntries(PESTER_COMMANDS.map((name) => [name, 'any' as const])) },
      functions: [...own, ...safety, ...helpers, ...scripts],
    };
  }
  if (source.name.startsWith(`${SAFETY_MODULE}/`)) {
    return { cmdlets: SCRIPT_CMDLETS, functions: safetyModuleFunctions(all) };
  }
  return { cmdlets: SCRIPT_CMDLETS, functions: source.kind === 'script' ? [...own, ...safety] : own };
}
