<#
.SYNOPSIS
    File facts: hashes, Authenticode signatures and trusted signers, version information.

.DESCRIPTION
    Opening and reading files goes through Platform.ps1.
#>

function Get-SpawnGuardFileHash {
    <#
    .SYNOPSIS
        Lower-case hex SHA-256 (or SHA-1) of a file, read with sharing so locked images still hash.
        (Get-FileHash needs PowerShell 4.0.)
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [ValidateSet('SHA256', 'SHA1')][string]$Algorithm = 'SHA256')
    $stream = Open-SpawnGuardFileForRead -LiteralPath $LiteralPath
    try {
        if ($Algorithm -eq 'SHA1') {
            $hasher = [System.Security.Cryptography.SHA1]::Create()
        } else {
            $hasher = [System.Security.Cryptography.SHA256]::Create()
        }
        try {
            $bytes = $hasher.ComputeHash($stream)
        } finally {
            $hasher.Dispose()
        }
    } finally {
        $stream.Dispose()
    }
    return ([System.BitConverter]::ToString($bytes)).Replace('-', '').ToLowerInvariant()
}

function Test-SpawnGuardMicrosoftSigner {
    <#
    .SYNOPSIS
        True for a Microsoft signer subject (the same pattern as isMicrosoftSigner in common/windows/protected.ts).
        Text only: whether a signature is Microsoft's is decided by its chain's root (Get-SpawnGuardSignature).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Signer)
    if ([string]::IsNullOrEmpty($Signer)) { return $false }
    return ($Signer.Trim() -match $script:MicrosoftSignerPattern)
}

function Get-SpawnGuardSignature {
    <#
    .SYNOPSIS
        Authenticode status of a file mapped to valid/invalid/unsigned/unknown, the signer subject,
        isMicrosoft (valid and signed by Microsoft) and isOsBinary.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $signature = $null
    try {
        $signature = Get-SpawnGuardAuthenticodeSignature -LiteralPath $LiteralPath
    } catch {
        return [pscustomobject]@{ status = 'unknown'; signer = $null; isMicrosoft = $false; isOsBinary = $false }
    }
    $status = 'unknown'
    switch ([string]$signature.Status) {
        'Valid' { $status = 'valid' }
        'NotSigned' { $status = 'unsigned' }
        'NotSupportedFileFormat' { $status = 'unsigned' }
        'HashMismatch' { $status = 'invalid' }
        'NotTrusted' { $status = 'invalid' }
        'Incompatible' { $status = 'invalid' }
        default { $status = 'unknown' }
    }
    $signer = $null
    if ($null -ne $signature.SignerCertificate) { $signer = [string]$signature.SignerCertificate.Subject }
    # Microsoft by the root of the signer's chain (Get-SpawnGuardAuthenticodeSignature adds it),
    # never by the subject text: anyone can buy a certificate named "Microsoft Corporation".
    $root = $null
    if ($null -ne $signature.PSObject.Properties['SignerRootThumbprint'] -and $null -ne $signature.SignerRootThumbprint) {
        $root = ([string]$signature.SignerRootThumbprint).ToUpperInvariant()
    }
    $isMicrosoft = ($status -eq 'valid') -and ($null -ne $root) -and ($script:MicrosoftRootThumbprints -contains $root)
    $isOsBinary = $false
    if ($null -ne $signature.PSObject.Properties['IsOSBinary']) {
        $isOsBinary = [bool]$signature.IsOSBinary
    } else {
        # Windows PowerShell before 5.1 has no IsOSBinary: a valid "Microsoft Windows" signature in
        # the system directories is the closest equivalent.
        $isOsBinary = $isMicrosoft -and ($signer -match '^CN=Microsoft Windows') -and (Test-SpawnGuardSystemPath -Path $LiteralPath)
    }
    return [pscustomobject]@{ status = $status; signer = $signer; isMicrosoft = $isMicrosoft; isOsBinary = $isOsBinary }
}

function Test-SpawnGuardTrustedSigner {
    <#
    .SYNOPSIS
        True when a signature is valid and from Microsoft or a configured trusted publisher
        (compared by full subject or by its CN, case-insensitively).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Signature, [AllowEmptyCollection()][string[]]$TrustedPublishers = @())
    if ($Signature.status -ne 'valid' -or [string]::IsNullOrEmpty($Signature.signer)) { return $false }
    if ($Signature.isMicrosoft) { return $true }
    $subject = $Signature.signer.Trim().ToLowerInvariant()
    $commonName = $subject
    if ($subject -match '^cn=("[^"]*"|[^,]*)') { $commonName = $Matches[1].Trim('"').Trim() }
    foreach ($publisher in $TrustedPublishers) {
        $wanted = $publisher.Trim().ToLowerInvariant()
        if ($wanted -eq $subject -or $wanted -eq $commonName -or ('cn=' + $commonName) -eq $wanted) { return $true }
    }
    return $false
}
