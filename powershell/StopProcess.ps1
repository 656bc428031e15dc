<#
.SYNOPSIS
    Stops processes (and their descendants) by PID or by executable path, never a protected one.

.DESCRIPTION
    Terminates each target and, unless -NoDescendants is given, every process it started. Before
    anything is stopped the whole request is checked: a request naming PID 0 or 4, a critical
    Windows process running from the system directory (lsass.exe, csrss.exe, ...), a service-hosted
    svchost.exe, this script or its parent chain (the host worker), or PowerShell by path is
    refused and nothing is done (exit code 3).

    The PID-reuse guard is not optional: a PID is only stopped together with the image path it is
    expected to run, and a target given by PID alone is an invalid request (exit code 2, nothing is
    stopped). Before the stop the live process is checked against that image path, against the
    start time when one is given, and for a parent against "started before its child"
    (startedBefore); if the PID now belongs to another process it is skipped ('pid-reused') rather
    than stopped. The last check and the kill go through one process handle, so the PID cannot
    change hands in between. A target that has already exited is a success ('already-done').

    Windows PowerShell 3.0 and later.

.PARAMETER ProcessIdentifiers
    A comma-separated mix of PID=path pairs (the PID in decimal or hex, with the full image path it
    runs) and full executable paths: "1234=C:\Users\Public\evil.exe,0x4D2=C:\Temp\x.exe". A PID
    alone is refused (it may have been reused since the alert): give PID=path, or one PID with
    -ImagePath. A path alone stops every process running that image.

.PARAMETER ImagePath
    The full image path the single PID given in -ProcessIdentifiers is expected to run:
    -ProcessIdentifiers 1234 -ImagePath C:\Users\Public\evil.exe.

.PARAMETER NoDescendants
    Stop only the targets themselves, not the processes they started.

.PARAMETER IncidentId
    The incident this action belongs to (recorded in the result for the audit trail).

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching StopProcessRequestSchema in
    common/host-contract.ts ({ incidentId, targets: [{ pid, imagePath, startTime?, startedBefore?,
    name? }], includeDescendants }); every target must carry its imagePath. Used instead of the
    parameters above.

.EXAMPLE
    .\StopProcess.ps1 -ProcessIdentifiers "1234=C:\Users\Public\evil.exe,0x4D2=C:\Temp\x.exe"

    Stops PID 1234 if it still runs C:\Users\Public\evil.exe and PID 0x4D2 if it still runs
    C:\Temp\x.exe, each with the processes it started.

.EXAMPLE
    .\StopProcess.ps1 -ProcessIdentifiers 1234 -ImagePath "C:\Users\Public\evil.exe" -NoDescendants

.EXAMPLE
    .\StopProcess.ps1 -ProcessIdentifiers "C:\Users\Public\evil.exe"

    Stops every process running that image.

.EXAMPLE
    powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File .\StopProcess.ps1 -Request eyJpbmNpZGVudElkIjoi...

.OUTPUTS
    System.String. One JSON document (StopProcessResultSchema): one result per target with its
    status (done, already-done, skipped, failed), reason, message and the PIDs it terminated.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 3 protected
    target refused, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$ProcessIdentifiers,
    [Parameter()][string]$ImagePath,
    [Parameter()][switch]$NoDescendants,
    [Parameter()][string]$IncidentId,
    [Parameter()][string]$Request
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Warnings reach stdout under powershell.exe -File and would break the one JSON document.
$WarningPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0
# Not -Force: each run is a fresh process, and an already loaded copy (Pester's, with its mocks) must be kept.
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')

function Get-StopProcessRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $hasSimple = $Bound.ContainsKey('ProcessIdentifiers') -or $Bound.ContainsKey('ImagePath') -or $Bound.ContainsKey('NoDescendants') -or $Bound.ContainsKey('IncidentId')
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -ProcessIdentifiers, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        return [pscustomobject]@{
            IncidentId         = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            Targets            = ConvertFrom-SpawnGuardTargetRequest -Request $decoded
            IncludeDescendants = Get-SpawnGuardRequestValue -Request $decoded -Name 'includeDescendants' -Type 'bool' -Default $true
        }
    }
    if (-not $Bound.ContainsKey('ProcessIdentifiers')) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -ProcessIdentifiers (or -Request).')
    }
    return [pscustomobject]@{
        IncidentId         = [string]$Bound['IncidentId']
        Targets            = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers $Bound['ProcessIdentifiers'] -ImagePath ([string]$Bound['ImagePath'])
        IncludeDescendants = -not ($Bound.ContainsKey('NoDescendants') -and [bool]$Bound['NoDescendants'])
    }
}

function Invoke-StopProcessPlan {
    <#
    .SYNOPSIS
        Carries out one target's plan and returns its ProcessActionResult.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Plan,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [Parameter(Mandatory = $true)][bool]$IncludeDescendants
    )
    if ($null -ne $Plan.Status) {
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $Plan.Status -Reason $Plan.Reason -Message $Plan.Message)
    }
    $outcome = Stop-SpawnGuardProcessTree -Processes $Plan.Processes -Snapshot $Snapshot -WorkerProcessIds $WorkerProcessIds -IncludeDescendants:$IncludeDescendants
    $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
    return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $summary.Status -Reason $summary.Reason -Message $summary.Message -TerminatedPids ([int64[]]$outcome.TerminatedPids.ToArray()))
}

function Invoke-StopProcess {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-StopProcessRequest -Bound $Bound
        $snapshot = Get-SpawnGuardProcessSnapshot
        $workerIds = Get-SpawnGuardWorkerProcessId -Snapshot $snapshot
        $plans = New-Object -TypeName System.Collections.ArrayList
        foreach ($target in $parsed.Targets) {
            [void]$plans.Add((Resolve-SpawnGuardProcessTarget -Target $target -Snapshot $snapshot -WorkerProcessIds $workerIds))
        }
        if (Test-SpawnGuardRefusedPlan -Plans $plans.ToArray()) {
            Add-SpawnGuardRefusedPlan -Result $Result -Plans $plans.ToArray()
        } else {
            foreach ($plan in $plans) {
                try {
                    $item = Invoke-StopProcessPlan -Plan $plan -Snapshot $snapshot -WorkerProcessIds $workerIds -IncludeDescendants $parsed.IncludeDescendants
                } catch {
                    $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
                }
                Add-SpawnGuardResultItem -Result $Result -Item $item
            }
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
    Invoke-StopProcess -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
