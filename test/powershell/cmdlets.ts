/**
 * The built-in commands the host scripts may call, each with the parameters of it they use (all
 * present in Windows PowerShell 3.0). A command or parameter missing here is either a
 * typo, an alias, or something newer than 3.0 (Get-FileHash is 4.0, -InformationAction is 5.0,
 * ConvertFrom-Json -AsHashtable is 6.0): the command-usage rule reports it.
 */

/** Common parameters of every cmdlet and advanced function in 3.0 (-InformationAction came in 5.0). */
export const COMMON_PARAMETERS = [
  'Verbose',
  'Debug',
  'ErrorAction',
  'WarningAction',
  'ErrorVariable',
  'WarningVariable',
  'OutVariable',
  'OutBuffer',
] as const;

/** Added to commands that support ShouldProcess. */
export const SHOULD_PROCESS_PARAMETERS = ['WhatIf', 'Confirm'] as const;

/** Cmdlet → its parameters (3.0), used by the scripts and the module. */
export const SCRIPT_CMDLETS: Record<string, readonly string[]> = {
  'Add-Type': ['TypeDefinition', 'Language', 'ReferencedAssemblies', 'PassThru', 'IgnoreWarnings'],
  'ConvertFrom-Json': ['InputObject'],
  'ConvertTo-Json': ['InputObject', 'Depth', 'Compress'],
  'Copy-Item': ['LiteralPath', 'Path', 'Destination', 'Force', 'Recurse', 'PassThru', 'WhatIf', 'Confirm'],
  'Export-ModuleMember': ['Function', 'Variable', 'Alias', 'Cmdlet'],
  'Get-AuthenticodeSignature': ['FilePath', 'LiteralPath'],
  'Get-BitsTransfer': ['AllUsers', 'JobId', 'Name'],
  'Get-ChildItem': ['LiteralPath', 'Path', 'Filter', 'Force', 'Recurse', 'Name', 'Include', 'Exclude'],
  'Get-CimInstance': [
    'ClassName',
    'Namespace',
    'Filter',
    'Property',
    'ComputerName',
    'CimSession',
    'Query',
    'InputObject',
  ],
  'Get-Command': ['Name', 'Module', 'CommandType'],
  'Get-Date': ['Date', 'Format'],
  'Get-Item': ['LiteralPath', 'Path', 'Force'],
  'Get-Process': ['Id', 'Name'],
  'Get-ScheduledTask': ['TaskName', 'TaskPath'],
  'Get-WmiObject': ['Class', 'Namespace', 'Filter', 'Property', 'ComputerName', 'Query'],
  'Import-Module': ['Name', 'Force', 'PassThru', 'DisableNameChecking'],
  'Invoke-CimMethod': ['InputObject', 'MethodName', 'Arguments', 'ClassName', 'Namespace'],
  'Join-Path': ['Path', 'ChildPath', 'Resolve'],
  'Move-Item': ['LiteralPath', 'Path', 'Destination', 'Force', 'PassThru', 'WhatIf', 'Confirm'],
  'New-CimInstance': ['ClassName', 'Namespace', 'Property', 'Key', 'ClientOnly', 'CimSession', 'WhatIf', 'Confirm'],
  'New-Item': ['Path', 'ItemType', 'Name', 'Value', 'Force', 'WhatIf', 'Confirm'],
  'New-Object': ['TypeName', 'ArgumentList', 'ComObject', 'Property', 'Strict'],
  'Remove-CimInstance': ['InputObject', 'Namespace', 'Query', 'CimSession', 'WhatIf', 'Confirm'],
  'Remove-Item': ['LiteralPath', 'Path', 'Force', 'Recurse', 'WhatIf', 'Confirm'],
  'Remove-TypeData': ['TypeName', 'TypeData', 'Path', 'WhatIf', 'Confirm'],
  'Remove-WmiObject': ['InputObject', 'Class', 'Namespace', 'Path', 'WhatIf', 'Confirm'],
  'Set-StrictMode': ['Version', 'Off'],
  'Set-WmiInstance': ['Class', 'Namespace', 'Arguments', 'Path', 'InputObject', 'PutType', 'WhatIf', 'Confirm'],
  'Start-Sleep': ['Milliseconds', 'Seconds'],
  'Stop-Process': ['Id', 'Name', 'InputObject', 'Force', 'PassThru', 'WhatIf', 'Confirm'],
  'Test-Path': ['LiteralPath', 'Path', 'PathType', 'IsValid'],
  'Write-Output': ['InputObject', 'NoEnumerate'],
};

/**
 * Pester 5 and the cmdlets the Pester tests use. The tests run only on Windows with Pester 5, so
 * their parameters are not checked against 3.0 (Pester itself needs PowerShell 3.0+).
 */
export const PESTER_COMMANDS = [
  'Describe',
  'Context',
  'It',
  'BeforeAll',
  'BeforeEach',
  'AfterAll',
  'AfterEach',
  'Mock',
  'Should',
  'InModuleScope',
  'New-MockObject',
  'Set-Content',
  'Get-Content',
  'Remove-Item',
  'New-Item',
  'Test-Path',
  'Join-Path',
  'Import-Module',
  'Remove-Module',
  'ConvertFrom-Json',
  'ConvertTo-Json',
  'Get-Date',
  'New-Object',
  'Write-Output',
  'Copy-Item',
  'Get-Item',
  'Get-ChildItem',
  'Set-StrictMode',
  'Get-Process',
  'Get-CimInstance',
  'Stop-Process',
  'Get-AuthenticodeSignature',
  'Get-Command',
  'Where-Object',
  'Split-Path',
  'Add-Member',
  'ForEach-Object',
  'Sort-Object',
  'Set-ItResult',
  'Get-Module',
  'Start-Process',
  'Test-ModuleManifest',
] as const;
