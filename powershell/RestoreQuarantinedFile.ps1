<#
.SYNOPSIS
    Puts a quarantined file back where it came from (for false positives).

.DESCRIPTION
    Finds the quarantined file by its SHA-256 (the content-addressed name StopAndQuarantineProcess
    gave it), checks that the quarantined copy still has that hash, and copies it back to every
    original path recorded in its manifest (or only those of -IncidentId), restoring the file's
    original access control list. Each restored copy is hashed again, and its ACL read back:
    'aclRestored' says whether it is the one recorded at quarantine time (null when none was
    recorded). When every recorded path is restored the quarantined copy is removed and its
    manifest is kept as <sha256>.restored.json.

    An original path that already holds the same content counts as restored ('already-done'); one
    that holds other content is left alone ('target-exists') unless -Overwrite is given. A hash that
    is not in quarantine is reported as 'not-quarantined' (nothing to do).

    Windows PowerShell 3.0 and later.

.PARAMETER Sha256
    SHA-256 of the quarantined file (64 hex digits).

.PARAMETER QuarantineDirectory
    The quarantine folder. Default: %ProgramData%\spawnguard\quarantine.

.PARAMETER Overwrite
    Replace a different file found at the original path.

.PARAMETER IncidentId
    Restore only the paths quarantined for this incident.

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching RestoreRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\RestoreQuarantinedFile.ps1 -Sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

.OUTPUTS
    System.String. One JSON document (RestoreResultSchema): one result per original path with its
    status, whether its ACL was read back as recorded (aclRestored), reason and message.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string]$Sha256,
    [Parameter()][string]$QuarantineDirectory,
    [Parameter()][switch]$Overwrite,
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

function Get-RestoreRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $hasSimple = $false
    foreach ($name in @('Sha256', 'QuarantineDirectory', 'Overwrite', 'IncidentId')) {
        if ($Bound.ContainsKey($name)) { $hasSimple = $true }
    }
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -Sha256, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        $parsed = [pscustomobject]@{
            IncidentId          = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -MaxLength 512
            Sha256              = Get-SpawnGuardRequestValue -Request $decoded -Name 'sha256' -Required -MaxLength 64
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'quarantineDirectory' -MaxLength 1024)
            Overwrite           = Get-SpawnGuardRequestValue -Request $decoded -Name 'overwrite' -Type 'bool' -Default $false
        }
    } else {
        if (-not $Bound.ContainsKey('Sha256')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Sha256 (or -Request).')
        }
        $incident = $null
        if (-not [string]::IsNullOrEmpty([string]$Bound['IncidentId'])) { $incident = [string]$Bound['IncidentId'] }
        $parsed = [pscustomobject]@{
            IncidentId          = $incident
            Sha256              = [string]$Bound['Sha256']
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory ([string]$Bound['QuarantineDirectory'])
            Overwrite           = ($Bound.ContainsKey('Overwrite') -and [bool]$Bound['Overwrite'])
        }
    }
    if ($parsed.Sha256 -notmatch '^[0-9a-fA-F]{64}$') {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'sha256 must be 64 hex digits.')
    }
    $parsed.Sha256 = $parsed.Sha256.ToLowerInvariant()
    return $parsed
}

function New-RestoreItem {
    <#
    .SYNOPSIS
        One restore result (RestoreResultSchema's item) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$Hash,
        [AllowNull()][AllowEmptyString()][string]$RestoredPath,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message,
        # Read back after the copy (Test-SpawnGuardRestoredAcl): $true, $false, or $null when no ACL was recorded.
        [AllowNull()][object]$AclRestored
    )
    $pathValue = $null
    if (-not [string]::IsNullOrEmpty($RestoredPath)) { $pathValue = $RestoredPath }
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    $aclValue = $null
    if ($null -ne $AclRestored) { $aclValue = [bool]$AclRestored }
    return [ordered]@{
        sha256       = $Hash
        restoredPath = $pathValue
        status       = $Status
        aclRestored  = $aclValue
        reason       = $reasonValue
        message      = $messageValue
    }
}

function Restore-QuarantineEntry {
    <#
    .SYNOPSIS
        Copies the quarantined file back to one recorded original path; returns the result item.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Entry,
        [Parameter(Mandatory = $true)][string]$QuarantinePath,
        [Parameter(Mandatory = $true)][string]$Hash,
        [Parameter(Mandatory = $true)][bool]$Overwrite
    )
    $target = [string]$Entry.originalPath
    # A manifest is read, not trusted: only a full local path is ever written to.
    if (-not (Test-SpawnGuardAbsolutePath -Path $target) -or (Test-SpawnGuardRemotePath -Path $target)) {
        return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'failed' -Reason 'invalid-manifest' -Message 'The manifest names an original path that is not a full local path; nothing was written.')
    }
    $link = Find-SpawnGuardReparsePoint -LiteralPath $target
    if ($null -ne $link) {
        # A junction planted where the file was would send this SYSTEM write anywhere.
        return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'failed' -Reason 'reparse-point' -Message ('The original path goes through a junction or link, which is never followed (' + $link + '); nothing was written.'))
    }
    $sddl = $null
    if ($null -ne $Entry.PSObject.Properties['originalSddl']) { $sddl = [string]$Entry.originalSddl }
    if (Test-SpawnGuardFile -LiteralPath $target) {
        if ((Get-SpawnGuardFileHash -LiteralPath $target) -eq $Hash) {
            return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'already-done' -Message 'The original path already holds this file.' -AclRestored (Test-SpawnGuardRestoredAcl -LiteralPath $target -Sddl $sddl))
        }
        if (-not $Overwrite) {
            return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'skipped' -Reason 'target-exists' -Message 'Another file is at the original path; give overwrite to replace it.')
        }
    }
    $after = Copy-SpawnGuardQuarantinedFile -QuarantinePath $QuarantinePath -Destination $target -Sddl $sddl -ExpectedHash $Hash
    if ($after -ne $Hash) {
        return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'failed' -Reason 'hash-mismatch' -Message ('The restored copy hashes to ' + $after + '.'))
    }
    # The ACL is read back, not assumed: a DACL Windows rewrote (or refused) shows here.
    $aclRestored = Test-SpawnGuardRestoredAcl -LiteralPath $target -Sddl $sddl
    $message = 'Restored with its original permissions.'
    if ($null -eq $aclRestored) { $message = 'Restored; no ACL was recorded at quarantine time, so it inherits from its folder.' }
    elseif (-not $aclRestored) { $message = 'Restored, but its ACL, read back, differs from the one recorded at quarantine time.' }
    return (New-RestoreItem -Hash $Hash -RestoredPath $target -Status 'done' -Message $message -AclRestored $aclRestored)
}

function Test-EntryInScope {
    <#
    .SYNOPSIS
        True when a manifest entry belongs to the requested incident (or no incident was given).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Entry, [AllowNull()][AllowEmptyString()][string]$IncidentId)
    if ([string]::IsNullOrEmpty($IncidentId)) { return $true }
    return ($null -ne $Entry.PSObject.Properties['incidentId'] -and [string]$Entry.incidentId -eq $IncidentId)
}

function Test-RestoredEverywhere {
    <#
    .SYNOPSIS
        True when every path of a restore history holds the file with this hash again.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$History, [Parameter(Mandatory = $true)][string]$Hash)
    if (@($History.entries).Length -eq 0) { return $false }
    foreach ($entry in $History.entries) {
        $path = [string]$entry.originalPath
        if (-not (Test-SpawnGuardAbsolutePath -Path $path) -or (Test-SpawnGuardRemotePath -Path $path)) { return $false }
        if (-not (Test-SpawnGuardFile -LiteralPath $path)) { return $false }
        if ((Get-SpawnGuardFileHash -LiteralPath $path) -ne $Hash) { return $false }
    }
    return $true
}

function Invoke-Restore {
    <#
    .SYNOPSIS
        Restores every in-scope entry of the manifest and updates the quarantine store.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][psobject]$Result)
    $directory = $Parsed.QuarantineDirectory
    # Never through a junction, never a store someone else owns.
    Assert-SpawnGuardQuarantineStore -LiteralPath $directory -AllowMissing
    # Rebuilt from the store and the hash: the path written inside a manifest is never used.
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $directory -Hash $Parsed.Sha256
    $manifestPath = Get-SpawnGuardManifestPath -Directory $directory -Hash $Parsed.Sha256
    $restoredPath = Get-SpawnGuardManifestPath -Directory $directory -Hash $Parsed.Sha256 -Restored
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    $history = Read-SpawnGuardQuarantineManifest -LiteralPath $restoredPath

    if ($null -eq $manifest) {
        # Restored before: idempotent when the file is still where it was put back.
        $found = $false
        if ($null -ne $history) {
            foreach ($entry in $history.entries) {
                if (-not (Test-EntryInScope -Entry $entry -IncidentId $Parsed.IncidentId)) { continue }
                $found = $true
                $path = [string]$entry.originalPath
                if ((Test-SpawnGuardFile -LiteralPath $path) -and (Get-SpawnGuardFileHash -LiteralPath $path) -eq $Parsed.Sha256) {
                    $sddl = $null
                    if ($null -ne $entry.PSObject.Properties['originalSddl']) { $sddl = [string]$entry.originalSddl }
                    Add-SpawnGuardResultItem -Result $Result -Item (New-RestoreItem -Hash $Parsed.Sha256 -RestoredPath $path -Status 'already-done' -Message 'Restored earlier.' -AclRestored (Test-SpawnGuardRestoredAcl -LiteralPath $path -Sddl $sddl))
                } else {
                    Add-SpawnGuardResultItem -Result $Result -Item (New-RestoreItem -Hash $Parsed.Sha256 -RestoredPath $path -Status 'skipped' -Reason 'not-quarantined' -Message 'Restored earlier, but the file is no longer at its original path.')
                }
            }
        }
        if ($found -and (Test-SpawnGuardFile -LiteralPath $quarantinePath) -and (Test-RestoredEverywhere -History $history -Hash $Parsed.Sha256)) {
            # A restore that stopped after the manifest was retired: the copy is no longer needed.
            Remove-SpawnGuardFile -LiteralPath $quarantinePath
        }
        if (-not $found) {
            Add-SpawnGuardResultItem -Result $Result -Item (New-RestoreItem -Hash $Parsed.Sha256 -Status 'skipped' -Reason 'not-quarantined' -Message ('No quarantined file has this hash in ' + $directory + '.'))
        }
        return
    }

    if (-not (Test-SpawnGuardFile -LiteralPath $quarantinePath) -or (Get-SpawnGuardFileHash -LiteralPath $quarantinePath) -ne $Parsed.Sha256) {
        throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('The quarantined copy ' + $quarantinePath + ' is missing or no longer has hash ' + $Parsed.Sha256 + '.'))
    }
    $remaining = New-Object -TypeName System.Collections.ArrayList
    $restored = New-Object -TypeName System.Collections.ArrayList
    $inScope = 0
    foreach ($entry in $manifest.entries) {
        if (-not (Test-EntryInScope -Entry $entry -IncidentId $Parsed.IncidentId)) {
            [void]$remaining.Add($entry)
            continue
        }
        $inScope++
        try {
            $item = Restore-QuarantineEntry -Entry $entry -QuarantinePath $quarantinePath -Hash $Parsed.Sha256 -Overwrite $Parsed.Overwrite
        } catch {
            $item = New-RestoreItem -Hash $Parsed.Sha256 -RestoredPath ([string]$entry.originalPath) -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
        }
        Add-SpawnGuardResultItem -Result $Result -Item $item
        if ($item.status -eq 'done' -or $item.status -eq 'already-done') {
            [void]$restored.Add($entry)
        } else {
            [void]$remaining.Add($entry)
        }
    }
    if ($inScope -eq 0) {
        Add-SpawnGuardResultItem -Result $Result -Item (New-RestoreItem -Hash $Parsed.Sha256 -Status 'skipped' -Reason 'not-quarantined' -Message ('Nothing with this hash was quarantined for incident ' + $Parsed.IncidentId + '.'))
        return
    }
    if ($restored.Count -gt 0) {
        if ($null -eq $history) {
            $history = [pscustomobject]@{ sha256 = $Parsed.Sha256; quarantinePath = $quarantinePath; size = $manifest.size; entries = (New-Object -TypeName System.Collections.ArrayList) }
        }
        foreach ($entry in $restored) {
            $known = $false
            foreach ($previous in $history.entries) {
                if ([string]$previous.originalPath -eq [string]$entry.originalPath -and [string]$previous.quarantinedAt -eq [string]$entry.quarantinedAt) { $known = $true }
            }
            if (-not $known) { [void]$history.entries.Add($entry) }
        }
        Save-SpawnGuardQuarantineManifest -LiteralPath $restoredPath -Manifest $history
    }
    if ($remaining.Count -eq 0) {
        # Every file is back and verified: the manifest is retired first, the copy last, so a
        # stop in between leaves a copy that the next run removes, never a manifest without its file.
        Remove-SpawnGuardFile -LiteralPath $manifestPath
        Remove-SpawnGuardFile -LiteralPath $quarantinePath
    } elseif ($restored.Count -gt 0) {
        $manifest.entries = $remaining
        Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
    }
}

function Invoke-RestoreQuarantinedFile {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-RestoreRequest -Bound $Bound
        Invoke-Restore -Parsed $parsed -Result $Result
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
    Invoke-RestoreQuarantinedFile -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
