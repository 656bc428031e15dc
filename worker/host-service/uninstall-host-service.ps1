<#
.SYNOPSIS
    Stops and removes the spawnguard host worker service installed by install-host-service.ps1.

.DESCRIPTION
    Stops the 'spawnguard-host' service (the worker finishes or cancels its running scripts
    first), removes it with the WinSW executable it was installed with, and with -RemoveFiles
    deletes the service folder (definition and WinSW executable). Logs and the quarantine folder
    are kept: quarantined files may still need restoring.

.PARAMETER ServiceDirectory
    The folder given to install-host-service.ps1; default %ProgramData%\spawnguard\service.

.PARAMETER RemoveFiles
    Also delete the service folder.

.EXAMPLE
    .\uninstall-host-service.ps1

.EXAMPLE
    .\uninstall-host-service.ps1 -RemoveFiles

.OUTPUTS
    None. Progress goes to the host; failures throw.
#>
[CmdletBinding()]
param(
    [string]$ServiceDirectory = (Join-Path -Path $env:ProgramData -ChildPath 'spawnguard\service'),
    [switch]$RemoveFiles
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$ServiceId = 'spawnguard-host'

function Assert-Administrator {
    [CmdletBinding()]
    param()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList ([System.Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'Run this script from an elevated PowerShell (Run as administrator).'
    }
}

function Invoke-WinSW {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Executable, [Parameter(Mandatory = $true)][ValidateSet('install', 'uninstall', 'start', 'stop')][string]$Action)
    & $Executable $Action
    if ($LASTEXITCODE -ne 0) { throw ('WinSW ' + $Action + ' failed with exit code ' + $LASTEXITCODE + '.') }
}

Assert-Administrator
$serviceExe = Join-Path -Path $ServiceDirectory -ChildPath ($ServiceId + '.exe')
$service = Get-Service -Name $ServiceId -ErrorAction SilentlyContinue
if ($null -eq $service) {
    Write-Host ('No ' + $ServiceId + ' service is installed.')
} elseif (Test-Path -LiteralPath $serviceExe -PathType Leaf) {
    if ($service.Status -ne 'Stopped') { Invoke-WinSW -Executable $serviceExe -Action 'stop' }
    Invoke-WinSW -Executable $serviceExe -Action 'uninstall'
    Write-Host ('Removed the ' + $ServiceId + ' service.')
} else {
    # The WinSW executable is gone: stop and delete the service through the service control manager.
    if ($service.Status -ne 'Stopped') { Stop-Service -Name $ServiceId }
    & (Join-Path -Path $env:SystemRoot -ChildPath 'System32\sc.exe') 'delete' $ServiceId
    if ($LASTEXITCODE -ne 0) { throw ('sc.exe delete failed with exit code ' + $LASTEXITCODE + '.') }
    Write-Host ('Removed the ' + $ServiceId + ' service.')
}

if ($RemoveFiles -and (Test-Path -LiteralPath $ServiceDirectory -PathType Container)) {
    Remove-Item -LiteralPath $ServiceDirectory -Recurse -Force
    Write-Host ('Deleted ' + $ServiceDirectory + '.')
}
