<#
.SYNOPSIS
    Host facts about files: hashes, size, Authenticode signature, version info and location.

.DESCRIPTION
    For each path: whether it exists, SHA-256 and SHA-1, size, Authenticode status (valid,
    invalid, unsigned, unknown) with the signer, whether the signer is Microsoft and whether the
    file is an OS binary, the version resource (OriginalFilename, CompanyName, ProductName,
    FileVersion), and whether a system binary name is where it belongs (System32, SysWOW64,
    WinSxS; null when the name has no known home). Files are read with sharing, so the image of a
    running process still hashes.

    A fact that cannot be read (a locked file, access denied) is left null and noted in errors
    with a code ending in '-unavailable'; the run still succeeds. Read-only.
    Windows PowerShell 3.0 and later.

.PARAMETER Paths
    Full file paths, comma-separated: "C:\Users\Public\evil.exe,C:\Windows\System32\cmd.exe". A
    comma only separates paths when a drive letter or \\ follows it.

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching FileEnrichmentRequestSchema in
    common/host-contract.ts ({ paths: [...] }). Used instead of -Paths.

.EXAMPLE
    .\GetFileEnrichment.ps1 -Paths "C:\Users\Public\svchost.exe"

.OUTPUTS
    System.String. One JSON document (FileEnrichmentResultSchema): one result per path.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$Paths,
    [Parameter()][string]$Request
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Warnings reach stdout under powershell.exe -File and would break the one JSON document.
$WarningPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0
# Not -Force: each run is a fresh process, and an already loaded copy (Pester's, with its mocks) must be kept.
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')

function Get-FileEnrichmentRequest {
    <#
    .SYNOPSIS
        The validated list of paths, from -Request or from -Paths.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    if ($Bound.ContainsKey('Request')) {
        if ($Bound.ContainsKey('Paths')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -Paths, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        $list = Get-SpawnGuardRequestValue -Request $decoded -Name 'paths' -Type 'stringArray' -Required
    } elseif ($Bound.ContainsKey('Paths')) {
        $list = Split-SpawnGuardPathList -Text ([string[]]$Bound['Paths'])
    } else {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Paths (or -Request).')
    }
    if ($list.Length -lt 1 -or $list.Length -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 64 paths.')
    }
    return , [string[]]$list
}

function Get-FileFacts {
    <#
    .SYNOPSIS
        One FileFacts (common/host-contract.ts) as an ordered dictionary; unreadable facts noted in the result's errors.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][psobject]$Result)
    $facts = [ordered]@{
        path             = $Path
        exists           = $false
        sha256           = $null
        sha1             = $null
        size             = $null
        signature        = $null
        versionInfo      = $null
        expectedLocation = $null
    }
    if (Test-SpawnGuardRemotePath -Path $Path) {
        # Opened as SYSTEM, a share (or a device path that leads to one) would receive the machine
        # account's credentials: nothing is read from it, not even whether it exists.
        Add-SpawnGuardError -Result $Result -Code 'remote-path-unavailable' -Message ('A remote or device path is never opened: ' + $Path)
        return $facts
    }
    if (-not (Test-SpawnGuardAbsolutePath -Path $Path)) {
        Add-SpawnGuardError -Result $Result -Code 'path-unavailable' -Message ('Not a full local or UNC path: ' + $Path)
        return $facts
    }
    $facts.expectedLocation = Test-SpawnGuardExpectedLocation -Path $Path
    $literal = $Path
    if ($literal.StartsWith('\\?\')) { $literal = $literal.Substring(4) }
    if (-not (Test-SpawnGuardFile -LiteralPath $literal)) { return $facts }
    $facts.exists = $true
    try {
        $facts.size = Get-SpawnGuardFileLength -LiteralPath $literal
        $facts.sha256 = Get-SpawnGuardFileHash -LiteralPath $literal -Algorithm 'SHA256'
        $facts.sha1 = Get-SpawnGuardFileHash -LiteralPath $literal -Algorithm 'SHA1'
    } catch {
        Add-SpawnGuardError -Result $Result -Code 'hash-unavailable' -Message ($Path + ': ' + $_.Exception.Message)
    }
    $signature = Get-SpawnGuardSignature -LiteralPath $literal
    $facts.signature = [ordered]@{
        status      = $signature.status
        signer      = $signature.signer
        isMicrosoft = [bool]$signature.isMicrosoft
        isOsBinary  = [bool]$signature.isOsBinary
    }
    try {
        $facts.versionInfo = Get-SpawnGuardVersionInfo -LiteralPath $literal
    } catch {
        Add-SpawnGuardError -Result $Result -Code 'version-info-unavailable' -Message ($Path + ': ' + $_.Exception.Message)
    }
    return $facts
}

function Invoke-GetFileEnrichment {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $pathList = Get-FileEnrichmentRequest -Bound $Bound
        foreach ($path in $pathList) {
            Add-SpawnGuardResultItem -Result $Result -Item (Get-FileFacts -Path $path -Result $Result)
        }
    } catch {
        Add-SpawnGuardError -Result $Result -Code (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
    }
}

# Main guard: dot-sourcing the script (as the Pester tests do) loads its functions and runs nothing.
if ($MyInvocation.InvocationName -ne '.') {
    # Constrained Language Mode blocks what the scripts need: refuse before anything runs (exit 5).
    if (-not (Test-SpawnGuardFullLanguage)) {
        Write-SpawnGuardLanguageRefusal -Script $MyInvocation.MyCommand.Name
        exit 5
    }
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-GetFileEnrichment -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
