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
    return (Get-SpawnGuardStoreDirectory -Directory $QuarantineDirectory -Label 'Quarantine directory' -DefaultName 'quarantine')
}

function Get-SpawnGuardStoreDirectory {
    <#
    .SYNOPSIS
        A spawnguard store folder (quarantine, persistence backups): the given one, validated as a
        full local path without "..", outside the Windows system directories; else
        %ProgramData%\spawnguard\<DefaultName>.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowNull()][AllowEmptyString()][string]$Directory,
        [Parameter(Mandatory = $true)][string]$Label,
        [Parameter(Mandatory = $true)][string]$DefaultName
    )
    if (-not [string]::IsNullOrEmpty($Directory)) {
        if ($Directory -notmatch '^[A-Za-z]:\\' -or $Directory -match '(^|\\)\.\.(\\|$)') {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ($Label + ' must be a full local path without "..": ' + $Directory))
        }
        if (Test-SpawnGuardSystemPath -Path ($Directory.TrimEnd('\') + '\')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ($Label + ' must not be inside the Windows system directories.'))
        }
        return $Directory.TrimEnd('\')
    }
    $programData = $env:ProgramData
    if ([string]::IsNullOrEmpty($programData)) { $programData = 'C:\ProgramData' }
    return (Join-SpawnGuardPath -Path $programData -ChildPath ('spawnguard\' + $DefaultName))
}

function Initialize-SpawnGuardQuarantineDirectory {
    <#
    .SYNOPSIS
        Creates the quarantine folder when missing (owner Administrators, ACL Administrators and
        SYSTEM, inheritance off) and refuses a store that is not ours (Assert-SpawnGuardQuarantineStore).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-SpawnGuardDirectory -LiteralPath $LiteralPath)) {
        # Nothing on the way may be a junction: the folder would be created wherever it points.
        Assert-SpawnGuardQuarantineStore -LiteralPath $LiteralPath -AllowMissing
        New-SpawnGuardDirectory -LiteralPath $LiteralPath
        if (Test-SpawnGuardDirectory -LiteralPath $LiteralPath) {
            Set-SpawnGuardAdministratorsOwner -LiteralPath $LiteralPath
            Set-SpawnGuardRestrictedAcl -LiteralPath $LiteralPath
        }
    }
    Assert-SpawnGuardQuarantineStore -LiteralPath $LiteralPath
    Set-SpawnGuardRestrictedAcl -LiteralPath $LiteralPath
}

function Find-SpawnGuardReparsePoint {
    <#
    .SYNOPSIS
        The first of the path itself and the folders above it (up to the drive) that is a reparse
        point (junction, symbolic link, mount point), or $null when there is none. Whoever can plant
        one there can send a move or a write by SYSTEM to another place than the path names.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $current = $LiteralPath.TrimEnd('\')
    while ($current.Length -gt 3) {
        if (Test-SpawnGuardReparsePoint -LiteralPath $current) { return $current }
        $parent = Get-SpawnGuardParentPath -Path $current
        if ($parent.Length -eq 0 -or $parent -eq $current) { break }
        $current = $parent
    }
    return $null
}

function Assert-SpawnGuardQuarantineStore {
    <#
    .SYNOPSIS
        Throws 'quarantine-untrusted' when the quarantine folder or any folder above it is a
        reparse point (junction, symbolic link, mount point), or when the folder is owned by anyone
        but Administrators or SYSTEM: whoever owns it can rewrite its ACL and plant manifests.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [switch]$AllowMissing)
    $link = Find-SpawnGuardReparsePoint -LiteralPath $LiteralPath
    if ($null -ne $link) {
        throw (New-SpawnGuardException -Code 'quarantine-untrusted' -Message ('The quarantine store is reached through a junction or link, which is never followed: ' + $link))
    }
    if (-not (Test-SpawnGuardDirectory -LiteralPath $LiteralPath)) {
        if ($AllowMissing) { return }
        throw (New-SpawnGuardException -Code 'quarantine-untrusted' -Message ('The quarantine store does not exist: ' + $LiteralPath))
    }
    $owner = Get-SpawnGuardOwnerSid -LiteralPath $LiteralPath
    if ($script:QuarantineOwnerSids -notcontains [string]$owner) {
        throw (New-SpawnGuardException -Code 'quarantine-untrusted' -Message ('The quarantine store ' + $LiteralPath + ' is owned by ' + $owner + ', not by Administrators or SYSTEM.'))
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

function Set-SpawnGuardEntryValue {
    <#
    .SYNOPSIS
        Sets one field of a manifest entry (read from JSON or built here), adding it when missing.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][psobject]$Entry, [Parameter(Mandatory = $true)][string]$Name, [AllowNull()][object]$Value)
    if ($PSCmdlet.ShouldProcess($Name, 'Set manifest entry field')) {
        if ($null -ne $Entry.PSObject.Properties[$Name]) {
            $Entry.PSObject.Properties[$Name].Value = $Value
        } else {
            $Entry.PSObject.Properties.Add((New-Object -TypeName System.Management.Automation.PSNoteProperty -ArgumentList $Name, $Value))
        }
    }
}

function Test-SpawnGuardPendingEntry {
    <#
    .SYNOPSIS
        True for a manifest entry written before its file was moved and not yet completed.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Entry)
    return ($null -ne $Entry.PSObject.Properties['state'] -and [string]$Entry.state -eq 'pending')
}

function Find-SpawnGuardManifestEntry {
    <#
    .SYNOPSIS
        The last entry of a manifest for an original path (only a pending one with -Pending), or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Manifest, [Parameter(Mandatory = $true)][string]$OriginalPath, [switch]$Pending)
    $wanted = ConvertTo-SpawnGuardCanonicalPath -Path $OriginalPath
    $found = $null
    foreach ($entry in $Manifest.entries) {
        if ((ConvertTo-SpawnGuardCanonicalPath -Path ([string]$entry.originalPath)) -ne $wanted) { continue }
        if ($Pending -and -not (Test-SpawnGuardPendingEntry -Entry $entry)) { continue }
        $found = $entry
    }
    return $found
}

function Remove-SpawnGuardManifestEntry {
    <#
    .SYNOPSIS
        Takes one entry out of a manifest and saves it; deletes the manifest when no entry is left
        and the store no longer holds the content.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Hash, [Parameter(Mandatory = $true)][psobject]$Entry)
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $Hash
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    if ($null -eq $manifest) { return }
    $kept = New-Object -TypeName System.Collections.ArrayList
    foreach ($candidate in $manifest.entries) {
        $same = ([string]$candidate.originalPath -eq [string]$Entry.originalPath) -and ([string]$candidate.quarantinedAt -eq [string]$Entry.quarantinedAt)
        if (-not $same) { [void]$kept.Add($candidate) }
    }
    if (-not $PSCmdlet.ShouldProcess($manifestPath, 'Remove a manifest entry')) { return }
    if ($kept.Count -eq 0 -and -not (Test-SpawnGuardFile -LiteralPath (Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $Hash))) {
        Remove-SpawnGuardFile -LiteralPath $manifestPath
        return
    }
    $manifest.entries = $kept
    Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
}

function Find-SpawnGuardQuarantineRecord {
    <#
    .SYNOPSIS
        The quarantine record of a file already quarantined from this original path, or $null
        (what makes a repeated quarantine "already-done"). When its entry is still pending (the
        file was moved but the entry not completed: a stop halfway), Test-SpawnGuardQuarantinePending
        says so and Complete-SpawnGuardQuarantineEntry finishes it.
    .DESCRIPTION
        The quarantined copy's path is rebuilt from the store and the hash in the manifest's name;
        the path written inside a manifest is never used.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$OriginalPath)
    if (-not (Test-SpawnGuardDirectory -LiteralPath $Directory)) { return $null }
    foreach ($file in (Get-SpawnGuardChildFile -LiteralPath $Directory -Filter '*.json')) {
        if ($file.Name -notmatch '^([0-9a-f]{64})\.json$') { continue }
        $hash = $Matches[1]
        $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $hash
        $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $hash
        try {
            $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
        } catch {
            # One unreadable manifest must not block every later quarantine.
            continue
        }
        if ($null -eq $manifest -or -not (Test-SpawnGuardFile -LiteralPath $quarantinePath)) { continue }
        $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $OriginalPath
        if ($null -eq $entry) { continue }
        $signer = $null
        if ($null -ne $entry.PSObject.Properties['signer']) { $signer = $entry.signer }
        $after = $null
        if ($null -ne $entry.PSObject.Properties['sha256After']) { $after = [string]$entry.sha256After }
        return [ordered]@{
            originalPath   = [string]$entry.originalPath
            quarantinePath = $quarantinePath
            manifestPath   = $manifestPath
            sha256Before   = $hash
            sha256After    = $after
            signer         = $signer
        }
    }
    return $null
}

function Test-SpawnGuardQuarantinePending {
    <#
    .SYNOPSIS
        True when the manifest of a quarantine record still has a pending entry for its original path.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Hash, [Parameter(Mandatory = $true)][string]$OriginalPath)
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath (Get-SpawnGuardManifestPath -Directory $Directory -Hash $Hash)
    if ($null -eq $manifest) { return $false }
    return ($null -ne (Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $OriginalPath -Pending))
}

function Move-SpawnGuardFileToQuarantine {
    <#
    .SYNOPSIS
        Quarantines one file: hash before (it must equal ExpectedHash when one is given), a
        pending manifest entry, a move (not copy) to <sha256>.quarantine, owner Administrators and
        ACL Administrators and SYSTEM, hash after and the signature of the moved bytes, then the
        entry completed. Returns the QuarantineRecord (common/host-contract.ts); throws with a code
        on failure ('file-changed', 'quarantine-corrupt', 'trusted-signer', 'signature-unknown', ...).
    .DESCRIPTION
        The order keeps the file recoverable whenever a step fails or the machine stops: the
        manifest names the original path before the file leaves it, a second copy of content
        already held is deleted only once its entry is complete, and a retry finds and completes a
        pending entry. A moved copy whose signature turns out trusted (or unreadable) goes back.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$LiteralPath,
        [Parameter(Mandatory = $true)][string]$Directory,
        [AllowNull()][AllowEmptyString()][string]$IncidentId,
        [AllowNull()][AllowEmptyString()][string]$Signer,
        [AllowNull()][AllowEmptyString()][string]$ExpectedHash,
        [AllowEmptyCollection()][string[]]$TrustedPublishers = @()
    )
    # The hash, the signature check and the move must all act on the file the path names.
    $link = Find-SpawnGuardReparsePoint -LiteralPath $LiteralPath
    if ($null -ne $link) {
        throw (New-SpawnGuardException -Code 'reparse-point' -Message ('The path goes through a junction or link, which is never followed: ' + $link + '; the file was left in place.'))
    }
    $sha256Before = Get-SpawnGuardFileHash -LiteralPath $LiteralPath
    if (-not [string]::IsNullOrEmpty($ExpectedHash) -and $sha256Before -ne $ExpectedHash.ToLowerInvariant()) {
        throw (New-SpawnGuardException -Code 'file-changed' -Message ('The file at ' + $LiteralPath + ' now hashes to ' + $sha256Before + ', not ' + $ExpectedHash.ToLowerInvariant() + ': it is not the file the alert saw, so it was left in place.'))
    }
    $size = Get-SpawnGuardFileLength -LiteralPath $LiteralPath
    $originalSddl = Get-SpawnGuardAccessSddl -LiteralPath $LiteralPath
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $sha256Before
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $sha256Before
    if (-not $PSCmdlet.ShouldProcess($LiteralPath, ('Move to ' + $quarantinePath))) { return $null }
    Initialize-SpawnGuardQuarantineDirectory -LiteralPath $Directory

    $alreadyHeld = Test-SpawnGuardFile -LiteralPath $quarantinePath
    if ($alreadyHeld -and (Get-SpawnGuardFileHash -LiteralPath $quarantinePath) -ne $sha256Before) {
        throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('Quarantined copy ' + $quarantinePath + ' no longer matches its name.'))
    }

    # 1. The manifest names this path before the file leaves it (a retry reuses a pending entry).
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    if ($null -eq $manifest) {
        $manifest = [pscustomobject]@{ sha256 = $sha256Before; quarantinePath = $quarantinePath; size = $size; entries = (New-Object -TypeName System.Collections.ArrayList) }
    }
    $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $LiteralPath -Pending
    if ($null -eq $entry) {
        $incidentValue = $null
        if (-not [string]::IsNullOrEmpty($IncidentId)) { $incidentValue = $IncidentId }
        $signerValue = $null
        if (-not [string]::IsNullOrEmpty($Signer)) { $signerValue = $Signer }
        $entry = [pscustomobject][ordered]@{
            originalPath  = $LiteralPath
            quarantinedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
            incidentId    = $incidentValue
            hostname      = [System.Environment]::MachineName
            signer        = $signerValue
            sha256Before  = $sha256Before
            sha256After   = $null
            originalSddl  = $originalSddl
            state         = 'pending'
        }
        [void]$manifest.entries.Add($entry)
    }
    Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest

    # 2. The content goes into the store (unless the same content is already there).
    if (-not $alreadyHeld) {
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
                if ($attempt -ge 4) {
                    $failure = $_
                    if (Test-SpawnGuardFile -LiteralPath $LiteralPath) {
                        # Still in place: the pending entry is withdrawn.
                        Remove-SpawnGuardManifestEntry -Directory $Directory -Hash $sha256Before -Entry $entry
                    }
                    throw $failure
                }
                Start-Sleep -Milliseconds 500
            }
        }
    }

    # 3. Completed; only then is a second copy of content already held deleted.
    $record = Complete-SpawnGuardQuarantineEntry -Directory $Directory -Hash $sha256Before -OriginalPath $LiteralPath -TrustedPublishers $TrustedPublishers -Signer $Signer -KeepPending:$alreadyHeld
    if ($alreadyHeld) {
        # The entry stays pending until the second copy is gone: a stop in between is finished by
        # the next run instead of being taken for the same file dropped again.
        Remove-SpawnGuardFile -LiteralPath $LiteralPath
        $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
        $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $LiteralPath -Pending
        if ($null -ne $entry) {
            Set-SpawnGuardEntryValue -Entry $entry -Name 'state' -Value 'quarantined'
            Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
        }
    }
    if ($record.sha256After -ne $sha256Before) {
        throw (New-SpawnGuardException -Code 'hash-mismatch' -Message ('The file changed while it was quarantined: ' + $sha256Before + ' before, ' + $record.sha256After + ' after.'))
    }
    return [ordered]@{
        originalPath   = $LiteralPath
        quarantinePath = $quarantinePath
        manifestPath   = $manifestPath
        sha256Before   = $sha256Before
        sha256After    = $record.sha256After
        signer         = $record.signer
    }
}

function Complete-SpawnGuardQuarantineEntry {
    <#
    .SYNOPSIS
        Finishes the pending entry of OriginalPath for content held in the store: owner
        Administrators and the restricted ACL on the copy, its hash, and the signature of the very
        bytes held. Returns the QuarantineRecord. A copy signed by Microsoft or a trusted publisher,
        or whose signature cannot be read, is put back at OriginalPath (when nothing is there) and
        the entry withdrawn; then it throws 'trusted-signer' or 'signature-unknown'. -KeepPending
        leaves the entry pending (the caller still has a second copy to delete).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$Directory,
        [Parameter(Mandatory = $true)][string]$Hash,
        [Parameter(Mandatory = $true)][string]$OriginalPath,
        [AllowEmptyCollection()][string[]]$TrustedPublishers = @(),
        [AllowNull()][AllowEmptyString()][string]$Signer,
        [switch]$KeepPending
    )
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $Hash
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $Hash
    if (-not $PSCmdlet.ShouldProcess($quarantinePath, 'Complete the quarantine entry')) { return $null }
    Set-SpawnGuardAdministratorsOwner -LiteralPath $quarantinePath
    Set-SpawnGuardRestrictedAcl -LiteralPath $quarantinePath
    $sha256After = Get-SpawnGuardFileHash -LiteralPath $quarantinePath
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    if ($null -eq $manifest) {
        throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('No manifest for ' + $quarantinePath + '.'))
    }
    $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $OriginalPath -Pending
    if ($null -eq $entry) { $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $OriginalPath }
    if ($null -eq $entry) {
        throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('The manifest of ' + $quarantinePath + ' does not name ' + $OriginalPath + '.'))
    }

    # The signature is judged on the bytes now held, not on whatever was at the path earlier.
    $signature = Get-SpawnGuardSignature -LiteralPath $quarantinePath
    $block = $null
    if (Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers $TrustedPublishers) {
        $block = 'trusted-signer'
    } elseif ($signature.status -eq 'unknown') {
        $block = 'signature-unknown'
    }
    if ($null -ne $block) {
        if (-not (Test-SpawnGuardFile -LiteralPath $OriginalPath)) {
            $others = 0
            foreach ($candidate in $manifest.entries) {
                $same = ([string]$candidate.originalPath -eq [string]$entry.originalPath) -and ([string]$candidate.quarantinedAt -eq [string]$entry.quarantinedAt)
                if (-not $same) { $others++ }
            }
            # The store's copy stays for the other entries; otherwise the file itself goes back.
            if ($others -gt 0) {
                Copy-SpawnGuardFile -Source $quarantinePath -Destination $OriginalPath
            } else {
                Move-SpawnGuardFile -Source $quarantinePath -Destination $OriginalPath
            }
            $sddl = $null
            if ($null -ne $entry.PSObject.Properties['originalSddl']) { $sddl = [string]$entry.originalSddl }
            Restore-SpawnGuardAccessSddl -LiteralPath $OriginalPath -Sddl $sddl
        }
        Remove-SpawnGuardManifestEntry -Directory $Directory -Hash $Hash -Entry $entry
        throw (New-SpawnGuardException -Code $block -Message ('The quarantined copy of ' + $OriginalPath + ' is ' + $block + ': it was put back and not quarantined.'))
    }

    $signerValue = $signature.signer
    if ([string]::IsNullOrEmpty($signerValue)) {
        $signerValue = $null
        if (-not [string]::IsNullOrEmpty($Signer)) { $signerValue = $Signer }
    }
    Set-SpawnGuardEntryValue -Entry $entry -Name 'signer' -Value $signerValue
    Set-SpawnGuardEntryValue -Entry $entry -Name 'sha256After' -Value $sha256After
    if (-not $KeepPending) { Set-SpawnGuardEntryValue -Entry $entry -Name 'state' -Value 'quarantined' }
    Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
    return [ordered]@{
        originalPath   = [string]$entry.originalPath
        quarantinePath = $quarantinePath
        manifestPath   = $manifestPath
        sha256Before   = $Hash
        sha256After    = $sha256After
        signer         = $signerValue
    }
}

function Copy-SpawnGuardQuarantinedFile {
    <#
    .SYNOPSIS
        Puts a quarantined file back at its original path and returns the SHA-256 of what is now
        there: copied beside the destination (<name>.spawnguard-restore), verified, and only then
        moved into place (File.Replace over a file that is there, for overwrite), then given the
        ACL recorded at quarantine time ($null: inherit from the folder again). A copy that does not verify
        is deleted and the destination is left untouched.

    .DESCRIPTION
        Lives in the module (not in RestoreQuarantinedFile.ps1) so that every Windows-only call it
        makes goes through the seam from inside the module, where tests can replace it. The
        quarantined copy itself is never touched here: the caller removes it only after this
        returned the expected hash.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][string]$QuarantinePath,
        [Parameter(Mandatory = $true)][string]$Destination,
        [AllowNull()][AllowEmptyString()][string]$Sddl,
        [AllowNull()][AllowEmptyString()][string]$ExpectedHash
    )
    if (-not $PSCmdlet.ShouldProcess($Destination, ('Restore from ' + $QuarantinePath))) { return $null }
    # A junction planted where the file was would send this SYSTEM write anywhere (System32 included).
    $link = Find-SpawnGuardReparsePoint -LiteralPath $Destination
    if ($null -ne $link) {
        throw (New-SpawnGuardException -Code 'reparse-point' -Message ('The original path goes through a junction or link, which is never followed: ' + $link + '; nothing was written.'))
    }
    New-SpawnGuardDirectory -LiteralPath (Get-SpawnGuardParentPath -Path $Destination)
    $staging = $Destination + '.spawnguard-restore'
    # A staging copy left by an interrupted restore is simply overwritten.
    Copy-SpawnGuardFile -Source $QuarantinePath -Destination $staging
    $staged = Get-SpawnGuardFileHash -LiteralPath $staging
    if (-not [string]::IsNullOrEmpty($ExpectedHash) -and $staged -ne $ExpectedHash) {
        Remove-SpawnGuardFile -LiteralPath $staging
        return $staged
    }
    if (Test-SpawnGuardFile -LiteralPath $Destination) {
        Update-SpawnGuardFileFrom -Source $staging -Destination $Destination
    } else {
        Move-SpawnGuardFile -Source $staging -Destination $Destination
    }
    Restore-SpawnGuardAccessSddl -LiteralPath $Destination -Sddl $Sddl
    return (Get-SpawnGuardFileHash -LiteralPath $Destination)
}

function Test-SpawnGuardRestoredAcl {
    <#
    .SYNOPSIS
        Whether a restored file's access control list, read back, is the one recorded at quarantine
        time (SDDL of the DACL): $true or $false, or $null when none was recorded.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [AllowNull()][AllowEmptyString()][string]$Sddl)
    if ([string]::IsNullOrEmpty($Sddl)) { return $null }
    $actual = Get-SpawnGuardAccessSddl -LiteralPath $LiteralPath
    return ([string]::Equals([string]$actual, $Sddl, [System.StringComparison]::OrdinalIgnoreCase))
}

function Restore-SpawnGuardQuarantinedEntry {
    <#
    .SYNOPSIS
        Puts one quarantined file back at one original path recorded in its manifest (a startup
        file removed as persistence): the copy verified against its hash, copied back with
        Copy-SpawnGuardQuarantinedFile (original ACL included), the entry moved to the history
        (<sha256>.restored.json), and the quarantined copy and manifest removed once no entry is
        left. Returns { status, reason, message, aclRestored } ('done', 'already-done' when the path
        holds the file already, 'skipped' for 'target-exists' or 'not-quarantined', 'failed').
    .DESCRIPTION
        The same store rules as RestoreQuarantinedFile.ps1: the store is refused when it is reached
        through a junction or owned by someone else, the quarantined copy's path is rebuilt from
        the store and the hash (never read from the manifest), and the original path is written
        only when it is a full local path that goes through no junction or link.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][string]$Directory,
        [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Hash,
        [Parameter(Mandatory = $true)][string]$OriginalPath
    )
    if (-not (Test-SpawnGuardAbsolutePath -Path $OriginalPath) -or (Test-SpawnGuardRemotePath -Path $OriginalPath)) {
        return [pscustomobject]@{ status = 'failed'; reason = 'invalid-path'; message = ('Not a full local path, never written: ' + $OriginalPath); aclRestored = $null }
    }
    Assert-SpawnGuardQuarantineStore -LiteralPath $Directory -AllowMissing
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $Hash
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $Hash
    $historyPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $Hash -Restored
    $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $manifestPath
    $entry = $null
    if ($null -ne $manifest) { $entry = Find-SpawnGuardManifestEntry -Manifest $manifest -OriginalPath $OriginalPath }
    $history = Read-SpawnGuardQuarantineManifest -LiteralPath $historyPath
    $recorded = $entry
    if ($null -eq $recorded -and $null -ne $history) { $recorded = Find-SpawnGuardManifestEntry -Manifest $history -OriginalPath $OriginalPath }
    $sddl = $null
    if ($null -ne $recorded -and $null -ne $recorded.PSObject.Properties['originalSddl']) { $sddl = [string]$recorded.originalSddl }

    $link = Find-SpawnGuardReparsePoint -LiteralPath $OriginalPath
    if ($null -ne $link) {
        return [pscustomobject]@{ status = 'failed'; reason = 'reparse-point'; message = ('The original path goes through a junction or link, which is never followed (' + $link + '); nothing was written.'); aclRestored = $null }
    }
    if (Test-SpawnGuardFile -LiteralPath $OriginalPath) {
        if ((Get-SpawnGuardFileHash -LiteralPath $OriginalPath) -eq $Hash) {
            return [pscustomobject]@{ status = 'already-done'; reason = $null; message = 'The original path already holds this file.'; aclRestored = (Test-SpawnGuardRestoredAcl -LiteralPath $OriginalPath -Sddl $sddl) }
        }
        return [pscustomobject]@{ status = 'skipped'; reason = 'target-exists'; message = ('Another file is at ' + $OriginalPath + ': it was left alone.'); aclRestored = $null }
    }
    if ($null -eq $entry) {
        return [pscustomobject]@{ status = 'skipped'; reason = 'not-quarantined'; message = ('No quarantined file with hash ' + $Hash + ' names ' + $OriginalPath + ' in ' + $Directory + '.'); aclRestored = $null }
    }
    if (-not (Test-SpawnGuardFile -LiteralPath $quarantinePath) -or (Get-SpawnGuardFileHash -LiteralPath $quarantinePath) -ne $Hash) {
        throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('The quarantined copy ' + $quarantinePath + ' is missing or no longer has hash ' + $Hash + '.'))
    }
    if (-not $PSCmdlet.ShouldProcess($OriginalPath, ('Restore from ' + $quarantinePath))) { return $null }
    $after = Copy-SpawnGuardQuarantinedFile -QuarantinePath $quarantinePath -Destination $OriginalPath -Sddl $sddl -ExpectedHash $Hash
    if ($after -ne $Hash) {
        return [pscustomobject]@{ status = 'failed'; reason = 'hash-mismatch'; message = ('The restored copy hashes to ' + $after + '.'); aclRestored = $null }
    }
    $aclRestored = Test-SpawnGuardRestoredAcl -LiteralPath $OriginalPath -Sddl $sddl

    # The history first, then the manifest, the copy last: a stop in between leaves the file
    # recoverable (RestoreQuarantinedFile.ps1 finishes a copy whose entries are all restored).
    if ($null -eq $history) {
        $history = [pscustomobject]@{ sha256 = $Hash; quarantinePath = $quarantinePath; size = $manifest.size; entries = (New-Object -TypeName System.Collections.ArrayList) }
    }
    [void]$history.entries.Add($entry)
    Save-SpawnGuardQuarantineManifest -LiteralPath $historyPath -Manifest $history
    $kept = New-Object -TypeName System.Collections.ArrayList
    foreach ($candidate in $manifest.entries) {
        $same = ([string]$candidate.originalPath -eq [string]$entry.originalPath) -and ([string]$candidate.quarantinedAt -eq [string]$entry.quarantinedAt)
        if (-not $same) { [void]$kept.Add($candidate) }
    }
    if ($kept.Count -eq 0) {
        Remove-SpawnGuardFile -LiteralPath $manifestPath
        Remove-SpawnGuardFile -LiteralPath $quarantinePath
    } else {
        $manifest.entries = $kept
        Save-SpawnGuardQuarantineManifest -LiteralPath $manifestPath -Manifest $manifest
    }
    return [pscustomobject]@{ status = 'done'; reason = $null; message = 'Restored from quarantine with its original permissions.'; aclRestored = $aclRestored }
}
