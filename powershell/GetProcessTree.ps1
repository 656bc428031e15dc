<#
.SYNOPSIS
    Describes processes by PID: image, command line, creation time, owner, session, ancestors and descendants.

.DESCRIPTION
    Reads Win32_Process once (CIM, or WMI where CIM is missing) and, for each PID, reports its
    name, executable path, command line, creation time (ISO-8601, UTC), owner (DOMAIN\user),
    session id, parent PID, its parent chain (nearest first) and every descendant. A parent that
    started after its child is a reused PID and ends the chain. A PID that is not running is
    reported with found = false (that is how the playbook checks a process is gone).

    Read-only. Windows PowerShell 3.0 and later.

.PARAMETER ProcessIds
    PIDs in decimal or hex, comma-separated: "1234,0x4D2".

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching ProcessTreeRequestSchema in
    common/host-contract.ts ({ processIds: [...] }). Used instead of -ProcessIds.

.EXAMPLE
    .\GetProcessTree.ps1 -ProcessIds "4321,0x10E1"

.OUTPUTS
    System.String. One JSON document (ProcessTreeResultSchema): one result per PID.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$ProcessIds,
    [Parameter()][string]$Request
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Warnings reach stdout under powershell.exe -File and would break the one JSON document.
$WarningPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0
# Not -Force: each run is a fresh process, and an already loaded copy (Pester's, with its mocks) must be kept.
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')

function Get-ProcessTreeRequest {
    <#
    .SYNOPSIS
        The validated list of PIDs, from -Request or from -ProcessIds.
    #>
    [CmdletBinding()]
    [OutputType([int64[]])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $ids = New-Object -TypeName System.Collections.ArrayList
    if ($Bound.ContainsKey('Request')) {
        if ($Bound.ContainsKey('ProcessIds')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -ProcessIds, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        foreach ($value in (Get-SpawnGuardRequestValue -Request $decoded -Name 'processIds' -Type 'array' -Required)) {
            if (-not ($value -is [int] -or $value -is [long]) -or $value -lt 0 -or $value -gt 4294967295) {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message 'processIds must hold PIDs (non-negative integers).')
            }
            [void]$ids.Add([int64]$value)
        }
    } elseif ($Bound.ContainsKey('ProcessIds')) {
        foreach ($target in (ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers $Bound['ProcessIds'] -AllowBarePid)) {
            if ($target.byPath) {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a PID: ' + $target.target))
            }
            [void]$ids.Add([int64]$target.pid)
        }
    } else {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -ProcessIds (or -Request).')
    }
    if ($ids.Count -lt 1 -or $ids.Count -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 64 PIDs.')
    }
    return , [int64[]]$ids.ToArray()
}

function Get-ProcessOwner {
    <#
    .SYNOPSIS
        DOMAIN\user owning a process (Win32_Process.GetOwner), or $null when it cannot be read.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Record)
    $owner = Get-SpawnGuardProcessOwner -Instance $Record.Source
    if ($null -eq $owner) { return $null }
    if ([string]::IsNullOrEmpty($owner.Domain)) { return [string]$owner.User }
    return ([string]$owner.Domain + '\' + [string]$owner.User)
}

function ConvertTo-NullableText {
    <#
    .SYNOPSIS
        The text, or $null for an empty one (the contract's nullable strings).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Text)
    if ([string]::IsNullOrEmpty($Text)) { return $null }
    return $Text
}

function New-ProcessInfo {
    <#
    .SYNOPSIS
        One ProcessInfo (common/host-contract.ts) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][int64]$ProcessId, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    $record = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $ProcessId
    if ($null -eq $record) {
        return [ordered]@{
            pid          = $ProcessId
            found        = $false
            name         = $null
            path         = $null
            commandLine  = $null
            creationTime = $null
            owner        = $null
            sessionId    = $null
            parentPid    = $null
            parentChain  = [object[]]@()
            descendants  = [object[]]@()
        }
    }
    $chain = New-Object -TypeName System.Collections.ArrayList
    foreach ($ancestor in (Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $ProcessId)) {
        [void]$chain.Add([ordered]@{
                pid  = [int64]$ancestor.ProcessId
                name = ConvertTo-NullableText -Text $ancestor.Name
                path = ConvertTo-NullableText -Text $ancestor.ExecutablePath
            })
    }
    $descendants = New-Object -TypeName System.Collections.ArrayList
    foreach ($descendant in (Get-SpawnGuardDescendant -Snapshot $Snapshot -ProcessId $ProcessId)) {
        [void]$descendants.Add([ordered]@{
                pid       = [int64]$descendant.ProcessId
                parentPid = [int64]$descendant.ParentProcessId
                name      = ConvertTo-NullableText -Text $descendant.Name
                path      = ConvertTo-NullableText -Text $descendant.ExecutablePath
            })
    }
    return [ordered]@{
        pid          = [int64]$record.ProcessId
        found        = $true
        name         = ConvertTo-NullableText -Text $record.Name
        path         = ConvertTo-NullableText -Text $record.ExecutablePath
        commandLine  = ConvertTo-NullableText -Text $record.CommandLine
        creationTime = ConvertTo-SpawnGuardIsoDate -Date $record.CreationDate
        owner        = Get-ProcessOwner -Record $record
        sessionId    = [int64]$record.SessionId
        parentPid    = [int64]$record.ParentProcessId
        parentChain  = [object[]]$chain.ToArray()
        descendants  = [object[]]$descendants.ToArray()
    }
}

function Invoke-GetProcessTree {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $processIdList = Get-ProcessTreeRequest -Bound $Bound
        $snapshot = Get-SpawnGuardProcessSnapshot
        foreach ($processId in $processIdList) {
            Add-SpawnGuardResultItem -Result $Result -Item (New-ProcessInfo -ProcessId $processId -Snapshot $snapshot)
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
    Invoke-GetProcessTree -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
