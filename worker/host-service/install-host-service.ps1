<#
.SYNOPSIS
    Installs the spawnguard host worker as a Windows service (WinSW).

.DESCRIPTION
    Registers `spawnguard worker host` from this checkout as the Windows service
    'spawnguard-host', run by WinSW as LocalSystem, starting automatically.

    Before installing it checks, and refuses on failure:
      - that it runs elevated;
      - Node.js 20.19 or newer at an absolute path, and `npm ci` done in the checkout;
      - that the PowerShell scripts match powershell\manifest.json (a tampered checkout never
        becomes a LocalSystem service);
      - that no one but Administrators, SYSTEM and TrustedInstaller can write to the checkout,
        its scripts or node.exe's folder: the service runs that code as LocalSystem. Install the
        checkout under "C:\Program Files\spawnguard" (not C:\spawnguard: every authenticated user
        may modify folders created at the root of C:).

    It then writes the service definition (worker\host-service\spawnguard-host.xml with the
    absolute paths and the environment filled in) and the renamed WinSW executable to
    -ServiceDirectory, restricts that folder to Administrators and SYSTEM (it may hold the
    Temporal API key), installs the service and starts it.

    WinSW itself is not shipped: download WinSW 2.12 (WinSW-x64.exe or WinSW-net461.exe) from
    https://github.com/winsw/winsw/releases and check its SHA-256 against the release page; this
    script prints the hash it installs.

.PARAMETER WinSWPath
    Path of the downloaded WinSW executable.

.PARAMETER TemporalAddress
    Temporal frontend (host:port), TEMPORAL_ADDRESS.

.PARAMETER TemporalNamespace
    Temporal namespace, TEMPORAL_NAMESPACE.

.PARAMETER Environment
    Further environment variables for the worker, e.g.
    @{ TEMPORAL_API_KEY = '...'; SPAWNGUARD_QUARANTINE_DIR = 'D:\quarantine' }
    (see "Configuration" in README.md).

.PARAMETER NodePath
    Absolute path of node.exe; default: node.exe found on PATH, resolved to its full path.

.PARAMETER ServiceDirectory
    Where the service definition, the WinSW executable live; default %ProgramData%\spawnguard\service.

.PARAMETER Force
    Replace an existing spawnguard-host service.

.PARAMETER NoStart
    Install without starting the service.

.EXAMPLE
    .\install-host-service.ps1 -WinSWPath C:\Downloads\WinSW-x64.exe -TemporalAddress temporal.corp.example:7233

.EXAMPLE
    .\install-host-service.ps1 -WinSWPath .\WinSW-x64.exe -TemporalAddress ns.acct.tmprl.cloud:7233 -TemporalNamespace ns.acct -Environment @{ TEMPORAL_API_KEY = $key }

.OUTPUTS
    None. Progress goes to the host; failures throw.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$WinSWPath,
    [string]$TemporalAddress = 'localhost:7233',
    [string]$TemporalNamespace = 'default',
    [hashtable]$Environment = @{},
    [string]$NodePath = '',
    [string]$ServiceDirectory = (Join-Path -Path $env:ProgramData -ChildPath 'spawnguard\service'),
    [switch]$Force,
    [switch]$NoStart
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$ServiceId = 'spawnguard-host'
$MinimumNodeVersion = New-Object -TypeName System.Version -ArgumentList 20, 19, 0

# Administrators, SYSTEM and TrustedInstaller may write where the service's code lives; nobody else.
$TrustedWriterSids = @('S-1-5-32-544', 'S-1-5-18', 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464')

# WriteData, AppendData, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles, WriteAttributes,
# Delete, ChangePermissions, TakeOwnership, GENERIC_ALL, GENERIC_WRITE.
$WriteRightsMask = [long](0x2 -bor 0x4 -bor 0x10 -bor 0x40 -bor 0x100 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000 -bor 0x40000000)

function Assert-Administrator {
    [CmdletBinding()]
    param()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList ([System.Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'Run this script from an elevated PowerShell (Run as administrator).'
    }
}

function Resolve-NodeExecutable {
    [CmdletBinding()]
    [OutputType([string])]
    param([string]$Path)
    if ($Path -eq '') {
        $command = Get-Command -Name 'node.exe' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -eq $command) { throw 'node.exe is not on PATH; install Node.js 20.19+ or pass -NodePath.' }
        $Path = $command.Path
    }
    if (-not [System.IO.Path]::IsPathRooted($Path) -or -not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        throw ('Node.js not found at ' + $Path + '; pass the absolute path of node.exe.')
    }
    $resolved = (Resolve-Path -LiteralPath $Path).ProviderPath
    $text = (& $resolved --version | Out-String).Trim()
    $version = $null
    if (-not [System.Version]::TryParse($text.TrimStart('v'), [ref]$version) -or $version -lt $MinimumNodeVersion) {
        throw ('spawnguard needs Node.js ' + $MinimumNodeVersion + ' or newer; ' + $resolved + ' is ' + $text + '.')
    }
    return $resolved
}

function Get-FileSha256 {
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Path)
    # Get-FileHash needs PowerShell 4.0.
    $algorithm = [System.Security.Cryptography.SHA256]::Create()
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $bytes = $algorithm.ComputeHash($stream)
    } finally {
        $stream.Dispose()
        $algorithm.Dispose()
    }
    return (($bytes | ForEach-Object -Process { $_.ToString('x2') }) -join '')
}

function Get-UntrustedWriter {
    <#
    .SYNOPSIS
        The identities other than Administrators, SYSTEM and TrustedInstaller that may write to a path.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $writers = @()
    foreach ($rule in (Get-Acl -LiteralPath $Path).Access) {
        if ($rule.AccessControlType -ne [System.Security.AccessControl.AccessControlType]::Allow) { continue }
        if (([long]$rule.FileSystemRights -band $WriteRightsMask) -eq 0) { continue }
        $sid = $null
        try {
            $sid = $rule.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value
        } catch {
            $sid = $rule.IdentityReference.Value
        }
        # CREATOR OWNER only applies to what an (already trusted) creator makes inside.
        if ($TrustedWriterSids -contains $sid -or $sid -eq 'S-1-3-0') { continue }
        $writers += $rule.IdentityReference.Value
    }
    return $writers
}

function Assert-OnlyAdministratorsCanWrite {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string[]]$Path)
    $problems = @()
    foreach ($item in $Path) {
        $writers = @(Get-UntrustedWriter -Path $item)
        if ($writers.Count -gt 0) { $problems += ($item + ' is writable by ' + (($writers | Sort-Object -Unique) -join ', ')) }
    }
    if ($problems.Count -gt 0) {
        throw ("The service would run code that non-administrators can change:`n  " + ($problems -join "`n  ") +
            "`nMove the checkout under 'C:\Program Files\spawnguard' or remove those permissions, then run this again.")
    }
}

function Test-ScriptManifest {
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Node, [Parameter(Mandatory = $true)][string]$Root)
    $tsx = Join-Path -Path $Root -ChildPath 'node_modules\tsx\dist\cli.mjs'
    if (-not (Test-Path -LiteralPath $tsx -PathType Leaf)) { throw ('Run `npm ci` in ' + $Root + ' first.') }
    & $Node $tsx (Join-Path -Path $Root -ChildPath 'scripts\powershell-manifest.ts') '--check'
    return ($LASTEXITCODE -eq 0)
}

function Set-AdministratorsOnlyAcl {
    <#
    .SYNOPSIS
        Owner Administrators; Administrators and SYSTEM only, inheritance off (no Users write); refuses
        a junction or symbolic link. The folder may hold the Temporal API key or quarantined files.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Path)
    $item = Get-Item -LiteralPath $Path -Force
    if (($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0) {
        throw ($Path + ' is a junction or symbolic link: remove it and run this again (spawnguard never follows one).')
    }
    $acl = Get-Acl -LiteralPath $Path
    # The owner too: whoever owns the folder can rewrite its ACL.
    $acl.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'))
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($rule in @($acl.Access)) { [void]$acl.RemoveAccessRule($rule) }
    foreach ($sid in @('S-1-5-32-544', 'S-1-5-18')) {
        $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
        $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $identity, [System.Security.AccessControl.FileSystemRights]::FullControl, $inherit,
            [System.Security.AccessControl.PropagationFlags]::None, [System.Security.AccessControl.AccessControlType]::Allow)
        $acl.AddAccessRule($rule)
    }
    Set-Acl -LiteralPath $Path -AclObject $acl
}

function New-ServiceDefinition {
    <#
    .SYNOPSIS
        The template spawnguard-host.xml with absolute paths and the worker's environment.
    #>
    [CmdletBinding()]
    [OutputType([xml])]
    param(
        [Parameter(Mandatory = $true)][string]$Template,
        [Parameter(Mandatory = $true)][string]$Node,
        [Parameter(Mandatory = $true)][string]$Root,
        [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Variables
    )
    $definition = New-Object -TypeName System.Xml.XmlDocument
    $definition.PreserveWhitespace = $true
    $definition.Load($Template)
    $service = $definition.SelectSingleNode('/service')
    $service.SelectSingleNode('executable').InnerText = $Node
    $service.SelectSingleNode('arguments').InnerText = '"' + (Join-Path -Path $Root -ChildPath 'bin\spawnguard.js') + '" worker host'
    $service.SelectSingleNode('workingdirectory').InnerText = $Root
    foreach ($name in $Variables.Keys) {
        if ($name -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { throw ('Not an environment variable name: ' + $name) }
        foreach ($existing in @($service.SelectNodes('env'))) {
            if ($existing.GetAttribute('name') -eq $name) { [void]$service.RemoveChild($existing) }
        }
        $variable = $definition.CreateElement('env')
        $variable.SetAttribute('name', $name)
        $variable.SetAttribute('value', [string]$Variables[$name])
        [void]$service.AppendChild($variable)
    }
    return $definition
}

function Invoke-WinSW {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Executable, [Parameter(Mandatory = $true)][ValidateSet('install', 'uninstall', 'start', 'stop')][string]$Action)
    & $Executable $Action
    if ($LASTEXITCODE -ne 0) { throw ('WinSW ' + $Action + ' failed with exit code ' + $LASTEXITCODE + '.') }
}

Assert-Administrator
$root = (Resolve-Path -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '..\..')).ProviderPath
$node = Resolve-NodeExecutable -Path $NodePath
if (-not (Test-Path -LiteralPath $WinSWPath -PathType Leaf)) { throw ('WinSW not found at ' + $WinSWPath + '.') }

Assert-OnlyAdministratorsCanWrite -Path @(
    $root,
    (Join-Path -Path $root -ChildPath 'powershell'),
    (Join-Path -Path $root -ChildPath 'bin'),
    (Split-Path -Path $node -Parent)
)
if (-not (Test-ScriptManifest -Node $node -Root $root)) {
    throw 'The PowerShell scripts do not match powershell\manifest.json; refusing to install.'
}

$existing = Get-Service -Name $ServiceId -ErrorAction SilentlyContinue
$serviceExe = Join-Path -Path $ServiceDirectory -ChildPath ($ServiceId + '.exe')
if ($null -ne $existing) {
    if (-not $Force) { throw ('The ' + $ServiceId + ' service exists already; pass -Force to replace it.') }
    if (-not (Test-Path -LiteralPath $serviceExe -PathType Leaf)) {
        throw ('The existing service was not installed from ' + $ServiceDirectory + '; remove it with uninstall-host-service.ps1 first.')
    }
    if ($existing.Status -ne 'Stopped') { Invoke-WinSW -Executable $serviceExe -Action 'stop' }
    Invoke-WinSW -Executable $serviceExe -Action 'uninstall'
}

if (-not (Test-Path -LiteralPath $ServiceDirectory -PathType Container)) {
    [void](New-Item -ItemType Directory -Path $ServiceDirectory -Force)
}
Set-AdministratorsOnlyAcl -Path $ServiceDirectory
# %ProgramData%\spawnguard and each folder the worker writes (logs, the quarantine store): owner
# Administrators, inheritance off, no Users write. The scripts refuse a quarantine store that is a
# junction or that anyone else owns.
$dataRoot = Join-Path -Path $env:ProgramData -ChildPath 'spawnguard'
$logDirectory = Join-Path -Path $dataRoot -ChildPath 'logs'
foreach ($folder in @($dataRoot, $logDirectory, (Join-Path -Path $dataRoot -ChildPath 'quarantine'))) {
    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
        [void](New-Item -ItemType Directory -Path $folder -Force)
    }
    Set-AdministratorsOnlyAcl -Path $folder
}

Copy-Item -LiteralPath $WinSWPath -Destination $serviceExe -Force
Write-Host ('WinSW installed as ' + $serviceExe + ' (SHA-256 ' + (Get-FileSha256 -Path $serviceExe) + '; compare it with the release page).')

$variables = [ordered]@{ TEMPORAL_ADDRESS = $TemporalAddress; TEMPORAL_NAMESPACE = $TemporalNamespace }
foreach ($name in $Environment.Keys) { $variables[[string]$name] = [string]$Environment[$name] }
$definition = New-ServiceDefinition -Template (Join-Path -Path $PSScriptRoot -ChildPath 'spawnguard-host.xml') -Node $node -Root $root -Variables $variables
$definition.Save((Join-Path -Path $ServiceDirectory -ChildPath ($ServiceId + '.xml')))

Invoke-WinSW -Executable $serviceExe -Action 'install'
Write-Host ('Installed the ' + $ServiceId + ' service (LocalSystem, automatic start) running ' + $node + ' ' + (Join-Path -Path $root -ChildPath 'bin\spawnguard.js') + ' worker host.')
if (-not $NoStart) {
    Invoke-WinSW -Executable $serviceExe -Action 'start'
    Write-Host ('Started. Logs: ' + $logDirectory + '\' + $ServiceId + '.out.log and .err.log')
}
