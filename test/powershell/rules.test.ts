/**
 * The static rules hold for every PowerShell source, and each rule fires on a snippet that breaks
 * it (so a passing check means something).
 */
import { SCRIPT_CMDLETS } from './cmdlets';
import { parsePowerShell } from './parse';
import {
  aliasUses,
  commandUsage,
  dynamicExecution,
  functionInfos,
  functionStyle,
  jsonOutput,
  moduleExports,
  ps3Incompatibilities,
  scriptContract,
  undefinedVariables,
  type Violation,
} from './rules';
import { catalogFor, loadSources, type ParsedSource } from './sources';

let sources: ParsedSource[] = [];
beforeAll(async () => {
  sources = await loadSources();
});

const names = (rules: Violation[]) => rules.map((v) => v.rule);

describe.each([
  ['Windows PowerShell 3.0 subset', (s: ParsedSource) => ps3Incompatibilities(s.tree)],
  ['no aliases', (s: ParsedSource) => aliasUses(s.tree)],
  ['no string run as code', (s: ParsedSource) => dynamicExecution(s.tree, { allowCallOperator: s.kind === 'pester' })],
  ['no variable read before it is set', (s: ParsedSource) => undefinedVariables(s.tree)],
  ['ConvertTo-Json with -InputObject and -Depth', (s: ParsedSource) => jsonOutput(s.tree)],
  ['functions: approved verb, help, [CmdletBinding()]', (s: ParsedSource) => functionStyle(s.tree)],
  [
    'known commands, parameters and mandatory arguments',
    (s: ParsedSource) => commandUsage(s.tree, catalogFor(s, sources)),
  ],
  ['the script contract', (s: ParsedSource) => (s.kind === 'script' ? scriptContract(s.tree) : [])],
  [
    'module exports',
    (s: ParsedSource) => (s.kind === 'module' || s.name.endsWith('.psm1') ? moduleExports(s.tree) : []),
  ],
])('rule: %s', (_rule, check) => {
  it('holds for every PowerShell source', () => {
    expect(sources.length).toBeGreaterThan(8);
    const failures = sources.flatMap((source) => check(source).map((v) => `${source.name} ${v.rule} (${v.at})`));
    expect(failures).toEqual([]);
  });
});

async function violationsOf(source: string, check: (tree: Awaited<ReturnType<typeof parsePowerShell>>) => Violation[]) {
  return names(check(await parsePowerShell(source)));
}

describe('each rule fires on a snippet that breaks it', () => {
  it.each([
    ['[Type]::new()', '$e = [System.Text.UTF8Encoding]::new($false)', 'static-new'],
    ['a class', 'class Thing { [int]$Size }', 'class-statement'],
    ['an enum', 'enum Color { Red }', 'enum-statement'],
    ['a pipeline chain', 'Get-Item -LiteralPath $a && Remove-Item -LiteralPath $a', 'pipeline-chain-operator'],
    ['ForEach-Object -Parallel', '$a | ForEach-Object -Parallel { $_ }', 'parallel'],
    ['foreach -parallel', 'foreach -parallel ($x in $a) { $x }', 'parallel'],
    ['a ternary', '$x = $a ? 1 : 2', 'ternary-or-null-operator'],
    ['a null-coalescing operator', '$x = $a ?? 2', 'ternary-or-null-operator'],
    ['using namespace', 'using namespace System.IO', 'using-statement'],
    ['the .Where() method', '$b = $list.Where({ $_ })', 'intrinsic-method'],
  ])('PowerShell 3.0: %s', async (_what, source, rule) => {
    expect(await violationsOf(source, ps3Incompatibilities)).toContain(rule);
  });

  it.each([
    ['?', '$a | ? { $_ }'],
    ['%', '$a | % { $_ }'],
    ['gci', 'gci -LiteralPath C:\\'],
    ['ls', 'ls'],
    ['dir', 'dir C:\\'],
    ['cat', 'cat file.txt'],
    ['echo', 'echo hello'],
    ['where', '$a | where Name -eq 1'],
    ['foreach', '$a | foreach { $_ }'],
    ['select', '$a | select -First 1'],
    ['sort', '$a | sort'],
    ['iex', 'iex $text'],
    ['kill', 'kill -Id 4'],
  ])('aliases: %s', async (alias, source) => {
    expect(await violationsOf(source, aliasUses)).toContain(`alias:${alias}`);
  });

  it.each([
    ['Invoke-Expression', 'Invoke-Expression -Command $text', 'invoke-expression'],
    ['powershell -Command', 'powershell.exe -NoProfile -Command $text', 'command-parameter'],
    ['powershell -EncodedCommand', 'powershell.exe -EncodedCommand $b64', 'command-parameter'],
    ['[ScriptBlock]::Create', '$sb = [ScriptBlock]::Create($text)', 'scriptblock-create'],
    ['$ExecutionContext.InvokeCommand', '$ExecutionContext.InvokeCommand.InvokeScript($text)', 'execution-context'],
    ['the call operator', '& $commandName', 'call-operator'],
    ['dot-sourcing a computed path', '. $path', 'call-operator'],
  ])('strings run as code: %s', async (_what, source, rule) => {
    expect(await violationsOf(source, (tree) => dynamicExecution(tree))).toContain(rule);
  });

  it('variables: a misspelled variable, in a function and at the top level', async () => {
    const source = [
      'function Test-Thing {',
      '    [CmdletBinding()]',
      '    param([string]$Name)',
      '    $protected = $true',
      '    if ($protcted) { return $Name }',
      '    return $script:Missing',
      '}',
      '$result = Test-Thing -Name $nmae',
    ].join('\n');
    expect(await violationsOf(source, undefinedVariables)).toEqual([
      'undefined-variable:$nmae',
      'undefined-variable:$protcted',
      'undefined-variable:$missing',
    ]);
  });

  it('variables: a function reading its caller variable instead of a parameter', async () => {
    const source = [
      '$parsed = 1',
      'function Get-Thing {',
      '    [CmdletBinding()]',
      '    param()',
      '    return $parsed',
      '}',
    ].join('\n');
    expect(await violationsOf(source, undefinedVariables)).toEqual(['undefined-variable:$parsed']);
  });

  it.each([
    ['piped ConvertTo-Json', '$doc | ConvertTo-Json -Depth 10', 'json-without-inputobject'],
    ['the default depth', 'ConvertTo-Json -InputObject $doc', 'json-depth'],
    ['a depth of 2', 'ConvertTo-Json -InputObject $doc -Depth 2', 'json-depth'],
  ])('JSON output: %s', async (_what, source, rule) => {
    expect(await violationsOf(source, jsonOutput)).toContain(rule);
  });

  it('functions: unapproved verb, no help, no [CmdletBinding()]', async () => {
    expect(await violationsOf('function Kill-Thing { param() 1 }', functionStyle)).toEqual([
      'unapproved-verb:Kill-Thing',
      'function-without-help:Kill-Thing',
      'function-without-cmdletbinding:Kill-Thing',
    ]);
  });

  describe('command usage', () => {
    const definitions = [
      'function Get-Thing {',
      '    <#',
      '    .SYNOPSIS',
      '        A thing.',
      '    #>',
      '    [CmdletBinding()]',
      '    param([Parameter(Mandatory = $true)][string]$Name, [switch]$Force, [int]$Count)',
      '    return $Name',
      '}',
    ].join('\n');
    const usage = async (call: string) => {
      const tree = await parsePowerShell(`${definitions}\n${call}\n`);
      return names(commandUsage(tree, { cmdlets: SCRIPT_CMDLETS, functions: functionInfos(tree.rootNode) }));
    };

    it('accepts a correct call', async () => {
      expect(await usage("$x = Get-Thing -Name 'a' -Force -Count 2 -ErrorAction Stop")).toEqual([]);
    });
    it.each([
      ['an unknown function or a typo', "Get-Thnig -Name 'a'", 'unknown-command:Get-Thnig'],
      ['a cmdlet newer than 3.0', 'Get-FileHash -LiteralPath $p', 'unknown-command:Get-FileHash'],
      [
        'a parameter newer than 3.0',
        'ConvertFrom-Json -InputObject $t -AsHashtable',
        'unknown-parameter:ConvertFrom-Json -ashashtable',
      ],
      [
        '-InformationAction (5.0)',
        'Get-Item -LiteralPath $p -InformationAction Ignore',
        'unknown-parameter:Get-Item -informationaction',
      ],
      ['a misspelled parameter', "Get-Thing -Nmae 'a'", 'unknown-parameter:Get-Thing -Nmae'],
      ['a missing mandatory parameter', 'Get-Thing -Force', 'missing-mandatory:Get-Thing -Name'],
      ['a positional argument', "Get-Thing 'a' -Name 'b'", 'positional-argument:Get-Thing'],
    ])('reports %s', async (_what, call, rule) => {
      expect(await usage(call)).toContain(rule);
    });
  });

  it('the script contract: a bare script breaks every part of it', async () => {
    const rules = await violationsOf('param($Paths)\nWrite-Output -InputObject $Paths\n', scriptContract);
    expect(rules).toEqual(
      expect.arrayContaining([
        'missing-help:.SYNOPSIS',
        'missing-help:.OUTPUTS',
        'undocumented-parameter:Paths',
        'untyped-parameter:Paths',
        'missing-cmdletbinding',
        'missing-request-parameter',
        'missing-progress-preference',
        'missing-strict-mode',
        'missing-module-import',
        'missing-final-exit',
      ]),
    );
  });

  it('module exports: a function left out and a name that does not exist', async () => {
    const source = [
      'function Get-Thing {',
      '    [CmdletBinding()]',
      '    param()',
      '    1',
      '}',
      "Export-ModuleMember -Function @('Get-Other')",
    ].join('\n');
    expect(await violationsOf(source, moduleExports)).toEqual([
      'not-exported:Get-Thing',
      'exported-but-undefined:Get-Other',
    ]);
  });
});
