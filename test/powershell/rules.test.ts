/**
 * The static rules hold for every PowerShell source, and each rule fires on a snippet that breaks
 * it (so a passing check means something).
 */
import { SCRIPT_CMDLETS } from './cmdlets';
import { parsePowerShell } from './parse';
import {
  aliasUses,
  commandUsage,
  dataFileEntries,
  dynamicExecution,
  functionInfos,
  functionStyle,
  jsonOutput,
  mainGuard,
  manifestFunctionNames,
  moduleExports,
  moduleLoader,
  moduleManifestExports,
  ps3Incompatibilities,
  scriptContract,
  stringLiterals,
  undefinedVariables,
  windowsOnlyCalls,
  type Violation,
} from './rules';
import {
  catalogFor,
  loadSources,
  PLATFORM_FILE,
  SAFETY_MANIFEST,
  SAFETY_MODULE,
  SAFETY_PRIVATE_FUNCTIONS,
  SAFETY_ROOT_MODULE,
  safetyConcernFiles,
  safetyModuleFiles,
  safetyScriptScope,
  type ParsedSource,
} from './sources';

let sources: ParsedSource[] = [];
beforeAll(async () => {
  sources = await loadSources();
});

const names = (rules: Violation[]) => rules.map((v) => v.rule);
const inSafetyModule = (s: ParsedSource) => s.name.startsWith(`${SAFETY_MODULE}/`);

describe.each([
  ['Windows PowerShell 3.0 subset', (s: ParsedSource) => ps3Incompatibilities(s.tree)],
  ['no aliases', (s: ParsedSource) => aliasUses(s.tree)],
  [
    'no string run as code',
    (s: ParsedSource) =>
      dynamicExecution(s.tree, {
        allowCallOperator: s.kind === 'pester',
        allowModuleLoader: s.name === SAFETY_ROOT_MODULE,
      }),
  ],
  [
    'no variable read before it is set',
    (s: ParsedSource) =>
      undefinedVariables(s.tree, inSafetyModule(s) ? { sharedScriptScope: safetyScriptScope(sources) } : {}),
  ],
  ['ConvertTo-Json with -InputObject and -Depth', (s: ParsedSource) => jsonOutput(s.tree)],
  ['functions: approved verb, help, [CmdletBinding()]', (s: ParsedSource) => functionStyle(s.tree)],
  [
    'known commands, parameters and mandatory arguments',
    (s: ParsedSource) => commandUsage(s.tree, catalogFor(s, sources)),
  ],
  ['the script contract', (s: ParsedSource) => (s.kind === 'script' ? scriptContract(s.tree) : [])],
  [
    'scripts: the main guard ends the script and holds its only exit',
    (s: ParsedSource) => (s.kind === 'script' || s.kind === 'host' ? mainGuard(s.tree) : []),
  ],
  [
    // The warm host reads only the scripts of its own folder (to hash them) and runs for real under
    // pwsh in test/host/warm-runner.test.ts: it has no Windows-only call to put behind the seam.
    'Windows-only calls only in SpawnGuard.Safety/Platform.ps1 (the scripts and the other module files)',
    (s: ParsedSource) =>
      s.kind !== 'pester' && s.kind !== 'host' && s.name !== PLATFORM_FILE ? windowsOnlyCalls(s.tree) : [],
  ],
  [
    // The safety module's folder has a manifest instead: see 'the safety module' below.
    'module exports (Export-ModuleMember)',
    (s: ParsedSource) =>
      (s.kind === 'module' || s.name.endsWith('.psm1')) && !inSafetyModule(s) ? moduleExports(s.tree) : [],
  ],
])('rule: %s', (_rule, check) => {
  it('holds for every PowerShell source', () => {
    expect(sources.length).toBeGreaterThan(8);
    const failures = sources.flatMap((source) => check(source).map((v) => `${source.name} ${v.rule} (${v.at})`));
    expect(failures).toEqual([]);
  });
});

/** Module manifest keys Windows PowerShell 3.0 knows (CompatiblePSEditions is 5.1, DscResourcesToExport 5.0). */
const PS3_MANIFEST_KEYS = new Set(
  (
    'RootModule ModuleVersion GUID Author CompanyName Copyright Description PowerShellVersion PowerShellHostName ' +
    'PowerShellHostVersion DotNetFrameworkVersion CLRVersion ProcessorArchitecture RequiredModules RequiredAssemblies ' +
    'ScriptsToProcess TypesToProcess FormatsToProcess NestedModules FunctionsToExport CmdletsToExport ' +
    'VariablesToExport AliasesToExport ModuleList FileList PrivateData HelpInfoURI DefaultCommandPrefix'
  )
    .toLowerCase()
    .split(' '),
);

describe('the safety module (SpawnGuard.Safety/)', () => {
  const manifest = () => {
    const found = sources.find((s) => s.name === SAFETY_MANIFEST);
    if (!found) throw new Error(`${SAFETY_MANIFEST} not found under powershell/`);
    return found;
  };

  it('the manifest is a 3.0 manifest of the root module, exporting functions only', () => {
    const entries = dataFileEntries(manifest().tree);
    expect(entries).toBeDefined();
    expect([...entries!.values()].map((e) => e.key).filter((key) => !PS3_MANIFEST_KEYS.has(key.toLowerCase()))).toEqual(
      [],
    );
    const literal = (key: string) => {
      const value = entries!.get(key.toLowerCase())?.value;
      return value && /^'[^']*'$/.test(value.text) ? stringLiterals(value) : undefined;
    };
    expect(literal('RootModule')).toEqual([SAFETY_ROOT_MODULE.slice(SAFETY_MODULE.length + 1)]);
    expect(literal('PowerShellVersion')).toEqual(['3.0']);
    for (const key of ['CmdletsToExport', 'VariablesToExport', 'AliasesToExport']) {
      expect(entries!.get(key.toLowerCase())?.value.text.replace(/\s/g, '')).toBe('@()');
    }
    expect(manifestFunctionNames(manifest().tree)?.length).toBeGreaterThan(50);
  });

  it('FunctionsToExport names every function of the module files once, each defined in exactly one file', () => {
    const files = safetyModuleFiles(sources);
    expect(files.length).toBeGreaterThan(10);
    expect(moduleManifestExports(manifest(), files, SAFETY_PRIVATE_FUNCTIONS)).toEqual([]);
  });

  it('the root module loads every concern file of the folder, each once, by a fixed name', () => {
    const root = sources.find((s) => s.name === SAFETY_ROOT_MODULE);
    expect(root).toBeDefined();
    const concerns = safetyConcernFiles(sources).map((s) => s.name.slice(SAFETY_MODULE.length + 1));
    expect(concerns).toEqual(expect.arrayContaining(['Platform.ps1', 'ProtectedLists.ps1']));
    expect(moduleLoader(root!.tree, concerns)).toEqual([]);
  });

  it('the Windows seam check sees the Windows-only calls that Platform.ps1 does make', () => {
    const platform = sources.find((s) => s.name === PLATFORM_FILE);
    expect(platform).toBeDefined();
    const rules = new Set(names(windowsOnlyCalls(platform!.tree)));
    for (const rule of [
      'windows-only-command:Get-CimInstance',
      'windows-only-command:Invoke-CimMethod',
      'windows-only-command:Get-AuthenticodeSignature',
    ]) {
      expect(rules).toContain(rule);
    }
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

    it('reads a leading numeric range as an expression, not a command', async () => {
      expect(await usage("$ids = @(1..65)\n$text = (1..65) -join ','")).toEqual([]);
      expect(await usage('$x = @(1..6x5)')).toContain('unknown-command:1..6x5');
    });
  });

  it('the script contract: a bare script breaks every part of it', async () => {
    const bare = 'param($Paths)\nWrite-Output -InputObject $Paths\n';
    const rules = await violationsOf(bare, scriptContract);
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
      ]),
    );
    // The final exit belongs to the main guard now.
    expect(await violationsOf(bare, mainGuard)).toEqual(
      expect.arrayContaining(['missing-main-guard', 'statement-outside-main-guard']),
    );
    expect(await violationsOf(`${bare}exit 0\n`, mainGuard)).toContain('exit-outside-main-guard');
  });

  it('the script contract: the module is imported by its folder, not by the old single .psm1', async () => {
    const importing = (child: string) =>
      `$ProgressPreference = 'SilentlyContinue'\nSet-StrictMode -Version 2.0\nImport-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath '${child}')\n`;
    expect(await violationsOf(importing('SpawnGuard.Safety'), scriptContract)).not.toContain('missing-module-import');
    expect(await violationsOf(importing('SpawnGuard.Safety.psm1'), scriptContract)).toContain('missing-module-import');
    expect(await violationsOf(importing('Other.psm1'), scriptContract)).toContain('missing-module-import');
  });

  describe('the main guard', () => {
    const script = (body: string[]) =>
      [
        '[CmdletBinding()]',
        'param([Parameter()][string]$Request)',
        "$ErrorActionPreference = 'Stop'",
        "$ProgressPreference = 'SilentlyContinue'",
        'Set-StrictMode -Version 2.0',
        "Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')",
        'function Invoke-Thing {',
        '    [CmdletBinding()]',
        '    param()',
        '    return 0',
        '}',
        ...body,
      ].join('\n');
    const guard = [
      "if ($MyInvocation.InvocationName -ne '.') {",
      '    $exitCode = Invoke-Thing',
      '    exit $exitCode',
      '}',
    ];

    it('accepts setup, constant tables, functions and a final guard ending with exit', async () => {
      expect(await violationsOf(script(guard), mainGuard)).toEqual([]);
      expect(await violationsOf(script(['$script:GoneErrors = @(7022, 7007)', ...guard]), mainGuard)).toEqual([]);
      expect(
        await violationsOf(
          script(["if ($MyInvocation.InvocationName -ne '.') {", '    Invoke-Thing', '    exit 0', '}']),
          mainGuard,
        ),
      ).toEqual([]);
    });

    it.each([
      [
        'no guard, a top-level exit',
        ['$exitCode = Invoke-Thing', 'exit $exitCode'],
        ['missing-main-guard', 'exit-outside-main-guard', 'statement-outside-main-guard'],
      ],
      [
        'the inverse condition',
        ["if ($MyInvocation.InvocationName -eq '.') {", '    exit 0', '}'],
        ['missing-main-guard', 'exit-outside-main-guard', 'statement-outside-main-guard'],
      ],
      [
        'a guard with an else branch',
        ["if ($MyInvocation.InvocationName -ne '.') {", '    exit 0', '} else {', '    exit 1', '}'],
        ['missing-main-guard', 'exit-outside-main-guard', 'exit-outside-main-guard', 'statement-outside-main-guard'],
      ],
      [
        'a guard without exit',
        ["if ($MyInvocation.InvocationName -ne '.') {", '    Invoke-Thing', '}'],
        ['missing-final-exit'],
      ],
      [
        'a guard whose exit is not last',
        ["if ($MyInvocation.InvocationName -ne '.') {", '    exit 0', '    Invoke-Thing', '}'],
        ['missing-final-exit'],
      ],
      [
        'a statement after the guard',
        [...guard, 'Invoke-Thing'],
        ['main-guard-not-last', 'statement-outside-main-guard'],
      ],
      ['logic before the guard', ['$items = Invoke-Thing', ...guard], ['statement-outside-main-guard']],
      ['a table computed at load', ['$script:Roots = @($env:SystemRoot)', ...guard], ['statement-outside-main-guard']],
      [
        'an exit inside a function',
        ['function Stop-Thing {', '    [CmdletBinding()]', '    param()', '    exit 2', '}', ...guard],
        ['exit-outside-main-guard'],
      ],
      [
        'an exit in a script block inside the guard',
        ["if ($MyInvocation.InvocationName -ne '.') {", '    $block = { exit 3 }', '    exit 0', '}'],
        ['exit-outside-main-guard'],
      ],
    ])('reports %s', async (_what, body, rules) => {
      expect(await violationsOf(script(body), mainGuard)).toEqual(rules);
    });
  });

  describe('Windows-only calls', () => {
    it.each([
      ["Get-CimInstance -ClassName 'Win32_Process'", 'windows-only-command:Get-CimInstance'],
      ["Get-WmiObject -Class 'Win32_Process'", 'windows-only-command:Get-WmiObject'],
      ["Invoke-CimMethod -InputObject $p -MethodName 'GetOwner'", 'windows-only-command:Invoke-CimMethod'],
      ['Stop-Process -Id 4 -Force', 'windows-only-command:Stop-Process'],
      ['$p = Get-Process -Id 4', 'windows-only-command:Get-Process'],
      [
        'Microsoft.PowerShell.Management\\Stop-Process -Id 4',
        'windows-only-command:Microsoft.PowerShell.Management\\Stop-Process',
      ],
      ['$s = Get-AuthenticodeSignature -LiteralPath $p', 'windows-only-command:Get-AuthenticodeSignature'],
      ['$a = Get-Acl -LiteralPath $p', 'windows-only-command:Get-Acl'],
      ['Set-Acl -LiteralPath $p -AclObject $a', 'windows-only-command:Set-Acl'],
      ['$t = Get-ScheduledTask', 'windows-only-command:Get-ScheduledTask'],
      ["$shell = New-Object -ComObject 'WScript.Shell'", 'windows-only:-ComObject'],
      ['Add-Type -TypeDefinition $source', 'windows-only-command:Add-Type'],
      ["$v = Get-ItemProperty -LiteralPath 'Registry::HKEY_LOCAL_MACHINE\\SOFTWARE'", 'windows-only-provider-path'],
      ["$k = 'Registry::HKEY_USERS'", 'windows-only-provider-path'],
      ['$k = "HKLM:\\SOFTWARE\\$name"', 'windows-only-provider-path'],
      ['$ok = [System.IO.File]::Exists($p)', 'windows-only-type:[System.IO.File]'],
      ['$ok = [IO.Directory]::Exists($p)', 'windows-only-type:[System.IO.Directory]'],
      [
        '$rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList $a',
        'windows-only-type:[System.Security.AccessControl.FileSystemAccessRule]',
      ],
      ['$key = [Microsoft.Win32.Registry]::LocalMachine', 'windows-only-type:[Microsoft.Win32.Registry]'],
      ['$me = [System.Diagnostics.Process]::GetCurrentProcess().Id', 'windows-only-member:GetCurrentProcess'],
      ['$me = [System.Diagnostics.Process]::GetProcessById(4)', 'windows-only-type:[System.Diagnostics.Process]::'],
      ['$info.SetAccessControl($security)', 'windows-only-member:SetAccessControl'],
      ['$security = $info.GetAccessControl()', 'windows-only-member:GetAccessControl'],
      ['$ok = Test-Path -LiteralPath $p', 'windows-only-command:Test-Path'],
      ['$files = Get-ChildItem -LiteralPath $p', 'windows-only-command:Get-ChildItem'],
      ['$item = Get-Item -LiteralPath $p', 'windows-only-command:Get-Item'],
      ['Remove-Item -LiteralPath $p -Force', 'windows-only-command:Remove-Item'],
      ['Move-Item -LiteralPath $p -Destination $q', 'windows-only-command:Move-Item'],
      ["$p = Join-Path -Path $env:SystemRoot -ChildPath 'System32'", 'join-path-not-on-psscriptroot'],
      ["$p = Join-Path $root 'x'", 'join-path-not-on-psscriptroot'],
      ["$p = Join-Path -ChildPath 'x' -Path $root", 'join-path-not-on-psscriptroot'],
    ])('reports %s', async (source, rule) => {
      expect(await violationsOf(source, windowsOnlyCalls)).toContain(rule);
    });

    it('accepts Join-Path on $PSScriptRoot, names in strings and comments, and pure .NET', async () => {
      const source = [
        "Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')",
        '# Get-Process and Stop-Process live in Platform.ps1; so does [System.IO.File]::Exists and Registry::',
        "if (-not $PSCmdlet.ShouldProcess($target, 'Stop-Process')) { return }",
        "$p = Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath 'System32'",
        '$name = [System.IO.Path]::GetFileName($p)',
        '$list = New-Object -TypeName System.Collections.ArrayList',
      ].join('\n');
      expect(await violationsOf(source, windowsOnlyCalls)).toEqual([]);
    });
  });

  describe('the module loader', () => {
    const loader = (list: string, child = "($concern + '.ps1')") =>
      `foreach ($concern in ${list}) {\n    . (Join-Path -Path $PSScriptRoot -ChildPath ${child})\n}\n`;

    it('accepts fixed names next to the module, and strings run as code still fail elsewhere', async () => {
      const source = loader("@('Errors', 'Platform')") + ". (Join-Path -Path $PSScriptRoot -ChildPath 'Output.ps1')\n";
      expect(await violationsOf(source, (tree) => dynamicExecution(tree, { allowModuleLoader: true }))).toEqual([]);
      expect(
        await violationsOf(source, (tree) => moduleLoader(tree, ['Errors.ps1', 'Output.ps1', 'Platform.ps1'])),
      ).toEqual([]);
      expect(await violationsOf(source, (tree) => dynamicExecution(tree))).toEqual(['call-operator', 'call-operator']);
    });

    it.each([
      ['a computed path', '. $path'],
      ['a name from a variable', loader('$names')],
      ['a list with an expression in it', loader("@('Errors', $extra)")],
      ['a path outside the module folder', ". (Join-Path -Path $env:TEMP -ChildPath 'Errors.ps1')"],
      ['a child path that leaves the folder', ". (Join-Path -Path $PSScriptRoot -ChildPath '..')"],
      ['a child path from input', '. (Join-Path -Path $PSScriptRoot -ChildPath $Request)'],
      ['the call operator', "& (Join-Path -Path $PSScriptRoot -ChildPath 'Errors.ps1')"],
    ])('refuses %s', async (_what, source) => {
      expect(await violationsOf(source, (tree) => dynamicExecution(tree, { allowModuleLoader: true }))).toContain(
        'call-operator',
      );
    });

    it('reports a concern file not loaded, a file that does not exist and a file loaded twice', async () => {
      const source = loader("@('Errors', 'Missing', 'Errors')");
      expect(await violationsOf(source, (tree) => moduleLoader(tree, ['Errors.ps1', 'Platform.ps1']))).toEqual([
        'concern-file-not-loaded:Platform.ps1',
        'loaded-twice:errors.ps1',
        'loads-missing-file:missing.ps1',
      ]);
    });
  });

  describe('module manifest exports', () => {
    const fn = (name: string) =>
      [`function ${name} {`, '    [CmdletBinding()]', '    param()', '    1', '}'].join('\n');
    const manifest = (list: string) =>
      `@{\n    RootModule = 'M.psm1'\n    FunctionsToExport = ${list}\n    CmdletsToExport = @()\n}\n`;

    it('reports every way the export list and the files can disagree', async () => {
      const files = [
        { name: 'A.ps1', tree: await parsePowerShell([fn('Get-A'), fn('Get-Twice'), fn('Get-Private')].join('\n')) },
        {
          name: 'B.ps1',
          tree: await parsePowerShell(
            [fn('Get-B'), fn('Get-Twice'), fn('Get-Unlisted'), "Export-ModuleMember -Function @('Get-B')"].join('\n'),
          ),
        },
      ];
      const tree = await parsePowerShell(manifest("@('Get-A', 'Get-B', 'Get-B', 'Get-Missing', 'Get-Twice')"));
      expect(names(moduleManifestExports({ name: 'M.psd1', tree }, files, ['Get-Private', 'Get-Gone']))).toEqual([
        'export-modulemember-in-manifest-module',
        'exported-twice:Get-B',
        'exported-but-undefined:Get-Missing',
        'defined-in-several-files:Get-Twice',
        'not-exported:Get-Unlisted',
        'private-but-undefined:Get-Gone',
      ]);
      const exportsPrivate = await parsePowerShell(manifest("@('Get-A', 'Get-Private')"));
      expect(
        names(moduleManifestExports({ name: 'M.psd1', tree: exportsPrivate }, files.slice(0, 1), ['Get-Private'])),
      ).toEqual(['not-exported:Get-Twice', 'private-but-exported:Get-Private']);
    });

    it.each([
      ['a wildcard', "'*'"],
      ['a computed list', '$names'],
      ['a double-quoted name', '@("Get-A")'],
      ['no FunctionsToExport at all', null],
    ])('refuses %s in FunctionsToExport', async (_what, list) => {
      const text = list === null ? "@{\n    RootModule = 'M.psm1'\n}\n" : manifest(list);
      expect(names(moduleManifestExports({ name: 'M.psd1', tree: await parsePowerShell(text) }, []))).toEqual([
        'functions-to-export-not-a-literal-name-list',
      ]);
    });
  });

  it('variables: Pester -ForEach/-TestCases data keys are variables of their block only', async () => {
    const source = [
      "Describe 'thing' {",
      "    It 'works for <Path>' -ForEach @(@{ Path = 'a'; Expected = @{ Inner = 1 } }) {",
      '        $Path | Should -Be $Expected',
      '        $Inner | Should -Be $Pth',
      '    }',
      "    It 'has no data' {",
      '        $Path | Should -Be 1',
      '    }',
      '}',
    ].join('\n');
    expect(await violationsOf(source, undefinedVariables)).toEqual([
      'undefined-variable:$inner',
      'undefined-variable:$pth',
      'undefined-variable:$path',
    ]);
  });

  it('variables: module files share the module scope, misspellings still fail', async () => {
    const source = [
      'function Test-Thing {',
      '    [CmdletBinding()]',
      '    param()',
      '    return ($script:CriticalNames -contains $script:CriticalNmaes)',
      '}',
    ].join('\n');
    expect(
      await violationsOf(source, (tree) => undefinedVariables(tree, { sharedScriptScope: ['criticalnames'] })),
    ).toEqual(['undefined-variable:$criticalnmaes']);
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
