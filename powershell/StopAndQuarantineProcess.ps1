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

    The file moved is the one the alert saw: its SHA-256 must equal the target's sha256 (or, when
    none is given, the hash taken before the process is stopped); the file of a process that has
    already exited is quarantined only with the alert's sha256 ('file-changed', 'file-unverified'
    otherwise). Nothing under the Windows folder is moved ('windows-directory', paths compared after
    canonicalization), nor a file whose signature cannot be read ('signature-unknown'). The moved
    copy's signature is checked again and a trusted copy goes back. A remote or device image path
    (UNC, WebDAV, \\?\UNC, \Device\Mup, GLOBALROOT) is never opened: the process is stopped by PID
    and its file reported ('remote-path'). The manifest names the file before it moves, so a stop
    at any point leaves it at its path or in quarantine, and the next run completes the entry.

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
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching StopAndQuarantineRequestSchema in
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
        still in place: PowerShell, the image of the host worker itself, anything under the Windows
        folder, a trusted signer, or a signature that cannot be read.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][string]$ImagePath,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$TrustedPublishers,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$WorkerProcesses
    )
    if (Test-SpawnGuardPowerShellHost -Path $ImagePath) { return 'powershell-host' }
    $normalized = ConvertTo-SpawnGuardCanonicalPath -Path $ImagePath
    foreach ($process in $WorkerProcesses) {
        if ((ConvertTo-SpawnGuardCanonicalPath -Path $process.ExecutablePath) -eq $normalized) { return 'worker-image' }
    }
    # Nothing under the Windows folder is ever moved, whatever its signature says (compared after
    # canonicalization: "..", trailing dots, streams, short names).
    if (Test-SpawnGuardWindowsDirectoryFile -Path $ImagePath) { return 'windows-directory' }
    $signature = Get-SpawnGuardSignature -LiteralPath $ImagePath
    if (Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers $TrustedPublishers) { return 'trusted-signer' }
    # A signature that cannot be read does not prove the file foreign: leave it in place, anywhere.
    if ($signature.status -eq 'unknown') { return 'signature-unknown' }
    return $null
}

function Get-ExpectedImageHash {
    <#
    .SYNOPSIS
        The SHA-256 the alert (or enrichment) gave for the target's image, lower case, or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Plan)
    if ($null -eq $Plan.PSObject.Properties['Target'] -or $null -eq $Plan.Target) { return $null }
    if ($null -eq $Plan.Target.PSObject.Properties['sha256'] -or [string]::IsNullOrEmpty([string]$Plan.Target.sha256)) { return $null }
    return ([string]$Plan.Target.sha256).ToLowerInvariant()
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
        'signature-unknown' { return 'A file whose signature could not be read: stopped only, not quarantined.' }
        'windows-directory' { return 'A file under the Windows folder is never quarantined, whatever its signature: stopped only.' }
        'remote-path' { return 'The executable is on a remote or device path, which is never opened: reported, not quarantined.' }
        'file-changed' { return 'The file at the path is not the one the alert saw (its SHA-256 differs): left in place.' }
        'file-unverified' { return 'The process had exited and no SHA-256 of its image was given, so the file at the path cannot be proven to be the one the alert saw: left in place.' }
        'powershell-host' { return 'The PowerShell image is never quarantined: the host worker runs its scripts with it.' }
        'worker-image' { return 'The image of the host worker itself is never quarantined.' }
        'reparse-point' { return 'The executable or a folder above it is a junction or symbolic link, which is never followed: stopped only, not quarantined (move the file by hand after looking).' }
        'file-not-found' { return 'The executable is no longer at its path and is not in quarantine.' }
        'no-image-path' { return 'No executable path is known for this target, so nothing could be quarantined.' }
    }
    return $Block
}

function New-QuarantineFailureResult {
    <#
    .SYNOPSIS
        The result of a target whose quarantine did not happen: a file left in place on purpose
        (changed, trusted or unreadable signature of the moved copy) keeps the stop's status;
        anything else is a failure.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Plan,
        [Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord,
        [Parameter(Mandatory = $true)][string]$StopStatus,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][System.Collections.ArrayList]$Notes,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$TerminatedPids
    )
    $code = Get-SpawnGuardErrorCode -ErrorRecord $ErrorRecord
    if (@('file-changed', 'trusted-signer', 'signature-unknown', 'reparse-point') -contains $code) {
        [void]$Notes.Add((Get-QuarantineBlockMessage -Block $code))
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $StopStatus -Reason $code -Message ($Notes -join ' ') -TerminatedPids $TerminatedPids)
    }
    [void]$Notes.Add(('Quarantine failed: ' + $ErrorRecord.Exception.Message))
    return (New-SpawnGuardProcessActionResult -Plan $Plan -Status 'failed' -Reason $code -Message ($Notes -join ' ') -TerminatedPids $TerminatedPids)
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
    $expected = Get-ExpectedImageHash -Plan $Plan
    $block = $null
    $existing = $null
    if ([string]::IsNullOrEmpty($imagePath)) {
        $block = 'no-image-path'
    } elseif (Test-SpawnGuardRemotePath -Path $imagePath) {
        # Never opened (no existence test, hash or signature check): the process is still stopped.
        $block = 'remote-path'
    } elseif (-not (Test-SpawnGuardFile -LiteralPath $imagePath)) {
        $existing = Find-SpawnGuardQuarantineRecord -Directory $Parsed.QuarantineDirectory -OriginalPath $imagePath
        if ($null -eq $existing) { $block = 'file-not-found' }
    } elseif ($null -ne (Find-SpawnGuardReparsePoint -LiteralPath $imagePath)) {
        # The link, not the file it leads to, would be hashed, checked or moved.
        $block = 'reparse-point'
    } else {
        $block = Get-QuarantineBlock -ImagePath $imagePath -TrustedPublishers $Parsed.TrustedPublishers -WorkerProcesses $WorkerProcesses
    }
    if ($null -eq $block -and $null -eq $existing) {
        # The file quarantined must be the one the alert saw: its SHA-256 (when the alert gave
        # one), else the hash taken now, while the process is still identified, before the stop.
        $seen = Get-SpawnGuardFileHash -LiteralPath $imagePath
        if ($null -ne $expected -and $seen -ne $expected) {
            $block = 'file-changed'
        } elseif ($null -eq $expected) {
            $analystPath = ($null -ne $Plan.Target -and $null -ne $Plan.Target.PSObject.Properties['byPath'] -and [bool]$Plan.Target.byPath)
            if ($Plan.Status -eq 'already-done' -and -not $analystPath) {
                $block = 'file-unverified'
            } else {
                $expected = $seen
            }
        }
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
        if (Test-SpawnGuardQuarantinePending -Directory $Parsed.QuarantineDirectory -Hash $existing.sha256Before -OriginalPath $imagePath) {
            # A run that stopped between the move and the manifest's completion: finish it now.
            try {
                $existing = Complete-SpawnGuardQuarantineEntry -Directory $Parsed.QuarantineDirectory -Hash $existing.sha256Before -OriginalPath $imagePath -TrustedPublishers $Parsed.TrustedPublishers
            } catch {
                return (New-QuarantineFailureResult -Plan $Plan -ErrorRecord $_ -StopStatus $stopStatus -Notes $notes -TerminatedPids $terminated)
            }
        }
        [void]$notes.Add('The file was already in quarantine.')
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $stopStatus -Reason 'already-quarantined' -Message ($notes -join ' ') -TerminatedPids $terminated -Quarantine $existing)
    }
    if ($null -ne $block) {
        [void]$notes.Add((Get-QuarantineBlockMessage -Block $block))
        return (New-SpawnGuardProcessActionResult -Plan $Plan -Status $stopStatus -Reason $block -Message ($notes -join ' ') -TerminatedPids $terminated)
    }
    try {
        # The signer seen at the path is recorded when the moved copy (checked again) names none.
        $signer = (Get-SpawnGuardSignature -LiteralPath $imagePath).signer
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath $imagePath -Directory $Parsed.QuarantineDirectory -IncidentId $Parsed.IncidentId -Signer $signer -ExpectedHash $expected -TrustedPublishers $Parsed.TrustedPublishers
    } catch {
        return (New-QuarantineFailureResult -Plan $Plan -ErrorRecord $_ -StopStatus $stopStatus -Notes $notes -TerminatedPids $terminated)
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
    # Constrained Language Mode blocks what the scripts need: refuse before anything runs (exit 5).
    if (-not (Test-SpawnGuardFullLanguage)) {
        Write-SpawnGuardLanguageRefusal -Script $MyInvocation.MyCommand.Name
        exit 5
    }
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-StopAndQuarantineProcess -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
