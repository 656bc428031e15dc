<#
.SYNOPSIS
    Which processes and accounts are protected, by name and genuine location.

.DESCRIPTION
    The checks both sides of the language boundary make before anything is terminated or logged off.
#>

function Test-SpawnGuardCriticalProcess {
    <#
    .SYNOPSIS
        PID 0/4, or a critical name running from the system directory (or with no known path: an
        impostor cannot be proven, so it is refused). A lsass.exe in a user folder is NOT protected.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][object]$ProcessId, [AllowNull()][AllowEmptyString()][string]$Name, [AllowNull()][AllowEmptyString()][string]$Path)
    if ($null -ne $ProcessId -and $script:ProtectedProcessIds -contains [int64]$ProcessId) { return $true }
    $imageName = Get-SpawnGuardProcessName -Name $Name -Path $Path
    if ($script:CriticalProcessNames -notcontains $imageName) { return $false }
    if ($imageName -eq 'system' -or $imageName -eq 'registry' -or $imageName.StartsWith('mem')) { return $true }
    if ([string]::IsNullOrEmpty($Path)) { return $true }
    return (Test-SpawnGuardSystemPath -Path $Path)
}

function Test-SpawnGuardSharedHost {
    <#
    .SYNOPSIS
        A shared system host (svchost, explorer, ...) in its genuine location.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Name, [AllowNull()][AllowEmptyString()][string]$Path)
    $imageName = Get-SpawnGuardProcessName -Name $Name -Path $Path
    if ($script:SharedHostNames -notcontains $imageName) { return $false }
    if ([string]::IsNullOrEmpty($Path)) { return $true }
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    if (Test-SpawnGuardSystemPath -Path $normalized) { return $true }
    return ($normalized -eq 'c:\windows\explorer.exe' -or $normalized -eq 'c:\windows\syswow64\explorer.exe')
}

function Test-SpawnGuardPowerShellHost {
    <#
    .SYNOPSIS
        True for powershell.exe, powershell_ise.exe and pwsh.exe (by name or path).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Name, [AllowNull()][AllowEmptyString()][string]$Path)
    $imageName = Get-SpawnGuardProcessName -Name $Name -Path $Path
    return ($script:PowerShellNames -contains $imageName)
}

function Test-SpawnGuardServiceAccount {
    <#
    .SYNOPSIS
        SYSTEM, LOCAL SERVICE, NETWORK SERVICE, NT AUTHORITY/NT SERVICE accounts, machine accounts.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name, [AllowNull()][AllowEmptyString()][string]$Domain)
    $lowerName = $Name.Trim().ToLowerInvariant()
    $lowerDomain = ''
    if (-not [string]::IsNullOrEmpty($Domain)) { $lowerDomain = $Domain.Trim().ToLowerInvariant() }
    if ($script:ServiceAccounts -contains $lowerName) { return $true }
    if ($script:ServiceAccountDomains -contains $lowerDomain) { return $true }
    return ($lowerName.EndsWith('$') -or $lowerName -match '^s-1-5-(18|19|20)$')
}

function Test-SpawnGuardWindowsDirectoryFile {
    <#
    .SYNOPSIS
        True when a file lies under %SystemRoot% (or C:\Windows) after canonicalization, or when
        that cannot be ruled out: a short 8.3 component (WINDOW~1, PROGRA~1) that the file system
        does not expand counts as inside. Such a file is never quarantined, whatever its signature.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $canonical = ConvertTo-SpawnGuardCanonicalPath -Path $Path
    if (Test-SpawnGuardShortNamePath -Path $canonical) {
        try {
            $canonical = ConvertTo-SpawnGuardCanonicalPath -Path (Get-SpawnGuardLongPath -LiteralPath $Path)
        } catch {
            return $true
        }
        if (Test-SpawnGuardShortNamePath -Path $canonical) { return $true }
    }
    $folders = New-Object -TypeName System.Collections.ArrayList
    [void]$folders.Add('C:\Windows')
    if (-not [string]::IsNullOrEmpty($env:SystemRoot)) { [void]$folders.Add($env:SystemRoot) }
    foreach ($folder in $folders) {
        if (Test-SpawnGuardUnderDirectory -Path $canonical -Directory $folder) { return $true }
    }
    return $false
}
