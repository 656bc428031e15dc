<#
.SYNOPSIS
    The quarantine store: content-addressed copies and their manifests.

.DESCRIPTION
    Every file operation goes through Platform.ps1.
#>

function Get-SpawnGuardQuarantineDirectory {
    <#
    .SYNOPSIS
        The quarantine folder: the given one (validated), else %ProgramData%\spawnguard\quarantine.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$QuarantineDirectory)
    if (-not [string]::IsNullOrEmpty($QuarantineDirectory)) {
        if ($QuarantineDirectory -notmatch '^[A-Za-z]:\\' -or $QuarantineDirectory -match '(^|\\)\.\.(\\|$)') {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Quarantine directory must be a full local path without "..": ' + $QuarantineDirectory))
        }
        if (Test-SpawnGuardSystemPath -Path ($QuarantineDirectory.TrimEnd('\') + '\')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Quarantine directory must not be inside the Windows system directories.')
        }
        return $QuarantineDirectory.TrimEnd('\')
    }
    $programData = $env:ProgramData
    if ([string]::IsNullOrEmpty($programData)) { $programData = 'C:\ProgramData' }
    return (Join-SpawnGuardPath -Path $programData -ChildPath 'spawnguard\quarantine')
}

function Initialize-SpawnGuardQuarantineDirectory {
    <#
    .SYNOPSIS
        Creates the quarantine folder when missing and restricts it to Administrators and SYSTEM.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-SpawnGuardDirectory -LiteralPath $LiteralPath)) {
        New-SpawnGuardDirectory -LiteralPath $LiteralPath
    }
    if (Test-SpawnGuardDirectory -LiteralPath $LiteralPath) {
        Set-SpawnGuardRestrictedAcl -LiteralPath $LiteralPath
    }
}

function Get-SpawnGuardQuarantinePath {
    <#
    .SYNOPSIS
        The content-addressed file name in the quarantine (no executable extension, so it cannot be double-clicked).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Hash)
    return (Join-SpawnGuardPath -Path $Directory -ChildPath ($Hash.ToLowerInvariant() + '.quarantine'))
}

function Get-SpawnGuardManifestPath {
    <#
    .SYNOPSIS
        The manifest of a quarantined file ('restored' names the one kept after a restore).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Hash, [switch]$Restored)
    $suffix = '.json'
    if ($Restored) { $suffix = '.restored.json' }
    return (Join-SpawnGuardPath -Path $Directory -ChildPath ($Hash.ToLowerInvariant() + $suffix))
}

function Read-SpawnGuardQuarantineManifest {
    <#
    .SYNOPSIS
        A manifest file as an object with an 'entries' array, or $null when there is none.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-SpawnGuardFile -LiteralPath $LiteralPath)) { return $null }
    $manifest = ConvertFrom-SpawnGuardJson -Text (Read-SpawnGuardTextFile -LiteralPath $LiteralPath)
    $entries = New-Object -TypeName System.Collections.ArrayList
    if ($null -ne $manifest.PSObject.Properties['entries'] -and $null -ne $manifest.entries) {
        foreach ($entry in $manifest.entries) { [void]$entries.Add($entry) }
    }
    return [pscustomobject]@{
        sha256         = [string]$manifest.sha256
        quarantinePath = [string]$manifest.quarantinePath
        size           = $manifest.size
        entries        = $entries
    }
}

function Save-SpawnGuardQuarantineManifest {
    <#
    .SYNOPSIS
        Writes a manifest as UTF-8 JSON (no BOM) through a temporary file, then restricts its ACL.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [Parameter(Mandatory = $true)][psobject]$Manifest)
    $document = [ordered]@{
        version        = 1
        sha256         = $Manifest.sha256
        quarantinePath = $Manifest.quarantinePath
        size           = $Manifest.size
        entries        = [object[]]@($Manifest.entries)
    }
    $json = ConvertTo-Json -InputObject $document -Depth 8
    if (-not $PSCmdlet.ShouldProcess($LiteralPath, 'Write quarantine manifest')) { return }
    # Written beside, then swapped in: a crash never leaves a half-written manifest.
    $temporary = $LiteralPath + '.tmp'
    Write-SpawnGuardTextFile -LiteralPath $temporary -Text $json
    if (Test-SpawnGuardFile -LiteralPath $LiteralPath) {
        Update-SpawnGuardFileFrom -Source $temporary -Destination $LiteralPath
    } else {
        Move-SpawnGuardFile -Source $temporary -Destination $LiteralPath
    }
    Set-SpawnGuardRestrictedAcl -LiteralPath $LiteralPath
}

function Find-SpawnGuardQuarantineRecord {
    <#
    .SYNOPSIS
        The quarantine record of a file already quarantined from this original path, or $null
        (what makes a repeated quarantine "already-done").
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$OriginalPath)
    if (-not (Test-SpawnGuardDirectory -LiteralPath $Directory)) { return $null }
    $wanted = ConvertTo-SpawnGuardNormalizedPath -Path $OriginalPath
    foreach ($file in (Get-SpawnGuardChildFile -LiteralPath $Directory -Filter '*.json')) {
        if ($file.Name -notmatch '^[0-9a-f]{64}\.json$') { continue }
        try {
            $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $file.FullName
        } catch {
            # One unreadable manifest must not block every later quarantine.
            continue
        }
        if ($null -eq $manifest -or -not (Test-SpawnGuardFile -LiteralPath $manifest.quarantinePath)) { continue }
        foreach ($entry in $manifest.entries) {
            if ((ConvertTo-SpawnGuardNormalizedPath -Path ([string]$entry.originalPath)) -eq $wanted) {
                return [ordered]@{
                    originalPath   = [string]$entry.originalPath
                    quarantinePath = $manifest.quarantinePath
                    manifestPath   = $file.FullName
                    sha256Before   = [string]$entry.sha256Before
                    sha256After    = [string]$entry.sha256After
                    signer         = $entry.signer
                }
            }
        }
    }
    return $null
}

function Move-SpawnGuardFileToQuarantine {
    <#
    .SYNOPSIS
        Quarantines one file: hash before, move (not copy) to <sha256>.quarantine, ACL reduced to
        Administrators and SYSTEM with inheritance off, hash after, manifest. Returns the
        QuarantineRecord (common/host-contract.ts); throws with a code on failure.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$LiteralPath,
        [Parameter(Mandatory = $true)][string]$Directory,
        [AllowNull()][AllowEmptyString()][string]$IncidentId,
        [AllowNull()][AllowEmptyString()][string]$Signer
    )
    $sha256Before = Get-SpawnGuardFileHash -LiteralPath $LiteralPath
    $size = Get-SpawnGuardFileLength -LiteralPath $LiteralPath
    $originalSddl = Get-SpawnGuardAccessSddl -LiteralPath $LiteralPath
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $sha256Before
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $sha256Before
    if (-not $PSCmdlet.ShouldProcess($LiteralPath, ('Move to ' + $quarantinePath))) { return $null }
    Initialize-SpawnGuardQuarantineDirectory -LiteralPath $Directory

    $removeOriginal = $false
    if (Test-SpawnGuardFile -LiteralPath $quarantinePath) {
        # The same content is already quarantined (from another path or incident): one copy is kept.
        if ((Get-SpawnGuardFileHash -LiteralPath $quarantinePath) -ne $sha256Before) {
            throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('Quarantined copy ' + $quarantinePath + ' no longer matches its name.'))
        }
        # Deleted only once the manifest records this path: deleting first and then failing to
        # write the manifest would leave a file that no restore can put back.
        $removeOriginal = $true
    } else {
        $moved = $false
        for ($attempt = 1; -not $moved; $attempt++) {
            try {
                # .NET rather than Move-Item: both paths are taken literally ("invoice[1].exe").
                Move-SpawnGuardFile -Source $LiteralPath -Destination $quarantinePath
                $moved = $true
            } catch {
                # A move across volumes is copy + delete: never leave a half-moved copy behind.
                if ((Test-SpawnGuardFile -LiteralPath $LiteralPath) -and (Test-SpawnGuardFile -LiteralPath $quarantinePath)) {
                    Remove-SpawnGuardFile -LiteralPath $quarantinePath
                }
                # The image of a process that just exited can stay locked for a moment.
                if ($attempt -ge 4) { throw }
                Start-Sleep -Milliseconds 500
            }
        }
    }
    Set-SpawnGuardRestrictedAcl -LiteralPath $quarantinePath
    $sha256After = Get-SpawnGuardFileHash -LiteralPath $quarantinePath

    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    if ($null -eq $manifest) {
        $manifest = [pscustomobject]@{ sha256 = $sha256Before; quarantinePath = $quarantinePath; size = $size; entries = (New-Object -TypeName System.Collections.ArrayList) }
    }
    $signerValue = $null
    if (-not [string]::IsNullOrEmpty($Signer)) { $signerValue = $Signer }
    $incidentValue = $null
    if (-not [string]::IsNullOrEmpty($IncidentId)) { $incidentValue = $IncidentId }
    [void]$manifest.entries.Add([ordered]@{
            originalPath  = $LiteralPath
            quarantinedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
            incidentId    = $incidentValue
            hostname      = [System.Environment]::MachineName
            signer        = $signerValue
            sha256Before  = $sha256Before
            sha256After   = $sha256After
            originalSddl  = $originalSddl
        })
    Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
    if ($removeOriginal) { Remove-SpawnGuardFile -LiteralPath $LiteralPath }

    if ($sha256After -ne $sha256Before) {
        throw (New-SpawnGuardException -Code 'hash-mismatch' -Message ('The file changed while it was quarantined: ' + $sha256Before + ' before, ' + $sha256After + ' after.'))
    }
    return [ordered]@{
        originalPath   = $LiteralPath
        quarantinePath = $quarantinePath
        manifestPath   = $manifestPath
        sha256Before   = $sha256Before
        sha256After    = $sha256After
        signer         = $signerValue
    }
}

function Copy-SpawnGuardQuarantinedFile {
    <#
    .SYNOPSIS
        Copies a quarantined file back to its original path (creating its folder), puts back the
        ACL recorded at quarantine time ($null: inherit from the folder again), and returns the
        SHA-256 of the restored copy.

    .DESCRIPTION
        Lives in the module (not in RestoreQuarantinedFile.ps1) so that every Windows-only call it
        makes goes through the seam from inside the module, where tests can replace it.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][string]$QuarantinePath,
        [Parameter(Mandatory = $true)][string]$Destination,
        [AllowNull()][AllowEmptyString()][string]$Sddl
    )
    if (-not $PSCmdlet.ShouldProcess($Destination, ('Restore from ' + $QuarantinePath))) { return $null }
    New-SpawnGuardDirectory -LiteralPath (Get-SpawnGuardParentPath -Path $Destination)
    Copy-SpawnGuardFile -Source $QuarantinePath -Destination $Destination
    Restore-SpawnGuardAccessSddl -LiteralPath $Destination -Sddl $Sddl
    return (Get-SpawnGuardFileHash -LiteralPath $Destination)
}
