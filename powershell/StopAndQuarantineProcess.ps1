<#
.SYNOPSIS
    Stops processes and quarantines their executable, never a protected process or a trusted file.

.DESCRIPTION
    For each target: stops it (and, unless -NoDescendants is given, every process it started),
    then quarantines its executable: SHA-256 before, a move (not a copy) to a content-addressed
    name (<sha256>.quarantine) in the quarantine folder, the file's ACL reduced to Administrators
    and SYSTEM with inheritance off, SHA-256 after, and a manifest (<sha256>.json) with the
    original path, hashes, signer and incident. RestoreQuarantinedFile.ps1 puts a file back.

    The request is refused as a whole (exit code 3, nothing done) when it names PID 0 or 4, a
    critical Windows process, a service-hosted svchost.exe, the host worker or its parent chain,
    or a PowerShell host (its image is the worker's own engine). A file validly signed by
    Microsoft or by a trusted publisher is never quarantined: its process is stopped only
    (reason 'trusted-signer'). A target whose PID now belongs to another process is skipped
    ('pid-reused'). Stopping a process that has exited, or quarantining a file already in
    quarantine, is a success ('already-done').

    Windows PowerShell 3.0 and later.

.PARAMETER ProcessIdentifiers
    PIDs in decimal or hex (0x4D2), full executable paths, or a comma-separated mix.

.PARAMETER QuarantineDirectory
    Where quarantined files go. Default: %ProgramData%\spawnguard\quarantine.

.PARAMETER TrustedPublishers
    Signer names (certificate subject or its CN) whose valid signatures forbid quarantine, besides Microsoft.

.PARAMETER NoDescendants
    Stop only the targets themselves, not the processes they started.

.PARAMETER IncidentId
    The incident this action belongs to (written to the quarantine manifest).

.PARAMETER Request
    The host worker's request: base64 of UTF-8 JSON matching StopAndQuarantineRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\StopAndQuarantineProcess.ps1 -ProcessIdentifiers "4321" -IncidentId "INC-1"

.EXAMPLE
    .\StopAndQuarantineProcess.ps1 -ProcessIdentifiers "C:\Users\Public\evil.exe" -QuarantineDirectory "D:\Quarantine"

.OUTPUTS
    System.String. One JSON document (StopAndQuarantineResultSchema): one result per target with
    its status, reason, message, terminated PIDs and quarantine record.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 3 protected
    target refused, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$ProcessIdentifiers,
    [Parameter()][string]$QuarantineDirectory,
    [Parameter()][string[]]$TrustedPublishers,
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

function Get-StopAndQuarantineRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $simpleNames = @('ProcessIdentifiers', 'QuarantineDirectory', 'TrustedPublishers', 'NoDescendants', 'IncidentId')
    $hasSimple = $false
    foreach ($name in $simpleNames) {
        if ($Bound.ContainsKey($name)) { $hasSimple = $true }
    }
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -ProcessIdentifiers, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        return [pscustomobject]@{
            IncidentId          = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            Targets             = ConvertFrom-SpawnGuardTargetRequest -Request $decoded
            IncludeDescendants  = Get-SpawnGuardRequestValue -Request $decoded -Name 'includeDescendants' -Type 'bool' -Default $true
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'quarantineDirectory' -MaxLength 1024)
            TrustedPublishers   = Get-SpawnGuardRequestValue -Request $decoded -Name 'trustedPublishers' -Type 'stringArray' -Default @() -MaxLength 512
        }
    }
    if (-not $Bound.ContainsKey('ProcessIdentifiers')) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -ProcessIdentifiers (or -Request).')
    }
    $publishers = @()
    if ($Bound.ContainsKey('TrustedPublishers') -and $null -ne $Bound['TrustedPublishers']) { $publishers = [string[]]$Bound['TrustedPublishers'] }
    return [pscustomobject]@{
        IncidentId          = [string]$Bound['IncidentId']
        Targets             = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers $Bound['ProcessIdentifiers']
        IncludeDescendants  = -not ($Bound.ContainsKey('NoDescendants') -and [bool]$Bound['NoDescendants'])
        QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory ([string]$Bound['QuarantineDirectory'])
        TrustedPublishers   = $publishers
    }
}

function Get-QuarantineBlock {
    <#
    .SYNOPSIS
        Why an image must not be quarantined ($null when it may be), decided while the file is
        still in place: trusted signer, unreadable signature of a system file, PowerShell, or the
        image of the host worker itself.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][string]$ImagePath,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$TrustedPublishers,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$WorkerProcesses
    )
    if (Test-SpawnGuardPowerShellHost -Path $ImagePath) { return 'powershell-host' }
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $ImagePath
    foreach ($process in $WorkerProcesses) {
        if ((ConvertTo-SpawnGuardNormalizedPath -Path $process.ExecutablePath) -eq $normalized) { return 'worker-image' }
    }
    $signature = Get-SpawnGuardSignature -LiteralPath $ImagePath
    if (Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers $TrustedPublishers) { return 'trusted-signer' }
    # A system file whose signature cannot be read is not proven foreign: leave it in place.
    if ($signature.status -eq 'unknown' -and (Test-SpawnGuardSystemPath -Path $ImagePath)) { return 'signature-unknown' }
    return $null
}

function Get-QuarantineBlockMessage {
    <#
    .SYNOPSIS
        The sentence that explains a quarantine block in the result.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Block)
    switch ($Block) {
        'trusted-signer' { return 'Validly signed by Microsoft or a trusted publisher: stopped only, not quarantined.' }
        'signature-unknown' { return 'A system file whose signature could not be read: stopped only, not quarantined.' }
        'powershell-host' { return 'The PowerShell image is never quarantined: the host worker runs its scripts with it.' }
        'worker-image' { return 'The image of the host worker itself is never quarantined.' }
        'file-not-found' { return 'The executable is no longer at its path and is not in quarantine.' }
        'no-image-path' { return 'No executable path is known for this target, so nothing could be quarantined.' }
    }
    return $Block
}

function Invoke-StopAndQuarantinePlan {
    <#
    .SYNOPSIS
        Carries out one target's plan (stop, then quarantine) and returns its ProcessActionResult.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Plan,
        [Parameter(Mandatory = $true)][psobject]$Parsed,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$WorkerProcesses
    )
    # Skipped targets (PID reused, identity unreadable) are left entirely alone; a target that has
    # already exited still has its file quarantined.
    if ($Plan.Status -eq 'skipped') {
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $Plan.Status -Reason $Plan.Reason -Message $Plan.Message)
    }
    $imagePath = [string]$Plan.ImagePath
    $block = $null
    $existing = $null
    if ([string]::IsNullOrEmpty($imagePath)) {
        $block = 'no-image-path'
    } elseif (-not (Test-SpawnGuardFile -LiteralPath $imagePath)) {
        $existing = Find-SpawnGuardQuarantineRecord -Directory $Parsed.QuarantineDirectory -OriginalPath $imagePath
        if ($null -eq $existing) { $block = 'file-not-found' }
    } else {
        $block = Get-QuarantineBlock -ImagePath $imagePath -TrustedPublishers $Parsed.TrustedPublishers -WorkerProcesses $WorkerProcesses
    }

    $stopStatus = 'already-done'
    $stopReason = $Plan.Reason
    $notes = New-Object -TypeName System.Collections.ArrayList
    $terminated = [int64[]]@()
    if ($null -eq $Plan.Status) {
        $outcome = Stop-SpawnGuardProcessTree -Processes $Plan.Processes -Snapshot $Snapshot -WorkerProcessIds $WorkerProcessIds -IncludeDescendants:$Parsed.IncludeDescendants
        $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
        $terminated = [int64[]]$outcome.TerminatedPids.ToArray()
        $stopStatus = $summary.Status
        $stopReason = $summary.Reason
        if (-not [string]::IsNullOrEmpty($summary.Message)) { [void]$notes.Add($summary.Message) }
        if ($stopStatus -eq 'failed' -or $stopStatus -eq 'skipped') {
            # A process that is still running keeps its image locked: quarantine is not attempted.
            [void]$notes.Add('The file was not quarantined.')
            return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $stopStatus -Reason $stopReason -Message ($notes -join ' ') -TerminatedPids $terminated)
        }
    } elseif (-not [string]::IsNullOrEmpty($Plan.Message)) {
        [void]$notes.Add($Plan.Message)
    }

    if ($null -ne $existing) {
        [void]$notes.Add('The file was already in quarantine.')
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $stopStatus -Reason 'already-quarantined' -Message ($notes -join ' ') -TerminatedPids $terminated -Quarantine $existing)
    }
    if ($null -ne $block) {
        [void]$notes.Add((Get-QuarantineBlockMessage -Block $block))
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $stopStatus -Reason $block -Message ($notes -join ' ') -TerminatedPids $terminated)
    }
    try {
        $signer = (Get-SpawnGuardSignature -LiteralPath $imagePath).signer
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath $imagePath -Directory $Parsed.QuarantineDirectory -IncidentId $Parsed.IncidentId -Signer $signer
    } catch {
        [void]$notes.Add(('Quarantine failed: ' + $_.Exception.Message))
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message ($notes -join ' ') -TerminatedPids $terminated)
    }
    [void]$notes.Add(('Quarantined as ' + $record.quarantinePath + '.'))
    return (New-SpawnGuardProcessActionResult -Plan $Plan -Status 'done' -Reason $null -Message ($notes -join ' ') -TerminatedPids $terminated -Quarantine $record)
}

function Invoke-StopAndQuarantineProcess {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-StopAndQuarantineRequest -Bound $Bound
        $snapshot = Get-SpawnGuardProcessSnapshot
        $workerIds = Get-SpawnGuardWorkerProcessId -Snapshot $snapshot
        $workerProcesses = Get-SpawnGuardWorkerProcess -Snapshot $snapshot
        $plans = New-Object -TypeName System.Collections.ArrayList
        foreach ($target in $parsed.Targets) {
            [void]$plans.Add((Resolve-SpawnGuardProcessTarget -Target $target -Snapshot $snapshot -WorkerProcessIds $workerIds -ForQuarantine))
        }
        if (Test-SpawnGuardRefusedPlan -Plans $plans.ToArray()) {
            Add-SpawnGuardRefusedPlan -Result $Result -Plans $plans.ToArray()
        } else {
            foreach ($plan in $plans) {
                try {
                    $item = Invoke-StopAndQuarantinePlan -Plan $plan -Parsed $parsed -Snapshot $snapshot -WorkerProcessIds $workerIds -WorkerProcesses $workerProcesses
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
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-StopAndQuarantineProcess -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
