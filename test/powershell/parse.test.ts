/**
 * Every .ps1/.psm1/.psd1 under powershell/ (scripts, the safety module's folder, Pester tests)
 * parses with the real PowerShell grammar: no ERROR and no MISSING node. No PowerShell runs here
 * (DESIGN.md §5).
 */
import { HOST_SCRIPTS } from '../../activities/host/scripts';
import { listPowerShellFiles, parsePowerShell } from './parse';
import { syntaxErrors } from './rules';
import { PLATFORM_FILE, PROTECTED_LISTS, SAFETY_MANIFEST, SAFETY_MODULE, SAFETY_ROOT_MODULE } from './sources';

const files = listPowerShellFiles();

describe('the PowerShell sources', () => {
  it('include every host script, the safety module and Pester tests for each script', () => {
    const names = files.map((file) => file.name);
    for (const script of Object.keys(HOST_SCRIPTS)) expect(names).toContain(`${script}.ps1`);
    // The module is a folder: manifest, root module, the Windows seam, the protected lists and other concern files.
    for (const file of [SAFETY_MANIFEST, SAFETY_ROOT_MODULE, PLATFORM_FILE, PROTECTED_LISTS])
      expect(names).toContain(file);
    expect(
      names.filter((name) => name.startsWith(`${SAFETY_MODULE}/`) && name.endsWith('.ps1')).length,
    ).toBeGreaterThan(10);
    // The old single-file module is gone: nothing may still load it.
    expect(names).not.toContain('SpawnGuard.Safety.psm1');
    expect(names.filter((name) => /^tests\/.+\.Tests\.ps1$/.test(name)).length).toBeGreaterThanOrEqual(5);
  });

  it.each(files.map((file) => [file.name, file] as const))(
    '%s is plain ASCII (Windows PowerShell reads a file without a BOM in the ANSI code page)',
    (_name, file) => {
      const lines = file.source.split('\n');
      expect(
        lines.flatMap((line, i) => ([...line].some((c) => c.charCodeAt(0) > 0x7f) ? [`line ${i + 1}`] : [])),
      ).toEqual([]);
    },
  );

  it.each(files.map((file) => [file.name, file] as const))(
    '%s parses with no ERROR or MISSING node',
    async (_name, file) => {
      const tree = await parsePowerShell(file.source);
      expect(syntaxErrors(tree)).toEqual([]);
      expect(tree.rootNode.hasError).toBe(false);
    },
  );
});

describe('the syntax check', () => {
  it.each([
    ['an unclosed block', 'function Get-Thing {\n  if ($true) {\n    1\n'],
    ['an unclosed parenthesis', '$x = (1 + 2\n'],
    ['a ternary', '$x = $a ? 1 : 2\n'],
    ['a null-coalescing operator', '$x = $a ?? 3\n'],
    ['the .ForEach() method', '$list.ForEach({ $_ })\n'],
    ['an empty script block (written { return } in our sources)', 'Mock Get-Thing -MockWith { }\n'],
  ])('rejects %s', async (_what, source) => {
    expect(syntaxErrors(await parsePowerShell(source)).length).toBeGreaterThan(0);
  });

  it('accepts what the scripts are made of', async () => {
    const source = [
      '[CmdletBinding()]',
      'param([Parameter()][string[]]$Paths, [switch]$Flag)',
      '$x = [ordered]@{ a = 1; b = @(1, 2) }',
      'try { [void]$list.Add(1) } catch { $null = $_ }',
      "foreach ($p in $Paths) { if ($p -match '^\\\\\\\\') { continue } }",
      "$source = @'\nusing System;\n'@",
      'exit 0',
    ].join('\n');
    expect(syntaxErrors(await parsePowerShell(source))).toEqual([]);
  });
});
