<#
.SYNOPSIS
    Windows paths as text: absolute or not, normalized, base names, system locations.

.DESCRIPTION
    Pure string functions (no file is opened here), so they behave the same on any platform.
#>

function Test-SpawnGuardAbsolutePath {
    <#
    .SYNOPSIS
        True for a full local path (C:\...), a \\?\C:\ path or a UNC path; false for relative
        paths, device paths and anything with a NUL or a wildcard character.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path) -or $Path.Length -gt 32767) { return $false }
    $rest = $Path
    if ($Path -match '^\\\\\?\\[A-Za-z]:\\') {
        $rest = $Path.Substring(4)
    } elseif ($Path -match '^\\\\[.?]\\') {
        return $false
    }
    if ($rest.IndexOfAny([char[]]@([char]0, '*', '?', '<', '>', '|', '"')) -ge 0) { return $false }
    return ($rest -match '^[A-Za-z]:\\' -or $rest -match '^\\\\[^\\]+\\[^\\]+')
}

function Test-SpawnGuardRemotePath {
    <#
    .SYNOPSIS
        True for any path that is not a plain local drive path: UNC (\\host\share, WebDAV
        \\host@SSL\DavWWWRoot), \\?\UNC\, \??\UNC\, \Device\Mup\ and other device paths,
        \\.\GLOBALROOT\ and \\?\GLOBALROOT\, pipes. Fails closed: only C:\..., \\?\C:\...,
        \??\C:\... and \\.\C:\... are local.
    .DESCRIPTION
        A script running as SYSTEM that opens a remote path authenticates the machine account to
        whoever serves it, so such a path is never opened (no existence test, hash, signature check
        or move). The text can still be compared, e.g. to check a process's identity.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return $false }
    $text = $Path.Trim().Replace('/', '\')
    if ($text -match '^[A-Za-z]:\\') { return $false }
    if ($text -match '^(\\\\\?\\|\\\?\?\\|\\\\\.\\)[A-Za-z]:\\') { return $false }
    return ($text.StartsWith('\') -or $text -match '^[A-Za-z][A-Za-z0-9+.-]*:[/\\]{2}')
}

function Resolve-SpawnGuardFilePath {
    <#
    .SYNOPSIS
        The path a file function may open: refuses a remote or device path (code 'remote-path')
        before anything touches it, then hands the local path to the platform.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (Test-SpawnGuardRemotePath -Path $LiteralPath) {
        throw (New-SpawnGuardException -Code 'remote-path' -Message ('A remote or device path is never opened: ' + $LiteralPath))
    }
    $local = $LiteralPath.Trim()
    # \??\C:\ is the NT form of \\?\C:\, which Win32 file calls take.
    if ($local.StartsWith('\??\')) { $local = '\\?\' + $local.Substring(4) }
    return (ConvertTo-SpawnGuardNativePath -LiteralPath $local)
}

function ConvertTo-SpawnGuardNormalizedPath {
    <#
    .SYNOPSIS
        Lower-cased Windows path with backslashes and without the \\?\ or \??\ prefix (as normalizeWindowsPath).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return '' }
    $normalized = $Path.Trim().Replace('/', '\')
    if ($normalized.StartsWith('\\?\')) { $normalized = $normalized.Substring(4) }
    if ($normalized.StartsWith('\??\')) { $normalized = $normalized.Substring(4) }
    return $normalized.ToLowerInvariant()
}

function ConvertTo-SpawnGuardCanonicalPath {
    <#
    .SYNOPSIS
        A local path as Windows resolves it, lower-cased: \\?\ and \??\ dropped, '.' and '..'
        resolved, trailing dots and spaces of each component removed, an alternate data stream
        (evil.exe::$DATA, evil.exe:ads) reduced to its file. Short 8.3 names are NOT expanded here
        (that needs the file system: Get-SpawnGuardLongPath).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    if ($normalized -notmatch '^[a-z]:(\\|$)') { return $normalized }
    $drive = $normalized.Substring(0, 2)
    $parts = New-Object -TypeName System.Collections.ArrayList
    foreach ($part in $normalized.Substring(2).Split('\')) {
        # A stream name follows the first colon of a component.
        $colon = $part.IndexOf(':')
        if ($colon -ge 0) { $part = $part.Substring(0, $colon) }
        if ($part -ne '.' -and $part -ne '..') { $part = $part.TrimEnd([char[]]@('.', ' ')) }
        if ($part.Length -eq 0 -or $part -eq '.') { continue }
        if ($part -eq '..') {
            if ($parts.Count -gt 0) { $parts.RemoveAt($parts.Count - 1) }
            continue
        }
        [void]$parts.Add($part)
    }
    return ($drive + '\' + ($parts.ToArray() -join '\'))
}

function Test-SpawnGuardShortNamePath {
    <#
    .SYNOPSIS
        True when a component of the path looks like an 8.3 short name (PROGRA~1, WINDOW~1): text
        alone cannot tell where such a path really points.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return $false }
    foreach ($part in $Path.Replace('/', '\').Split('\')) {
        if ($part -match '~[0-9]') { return $true }
    }
    return $false
}

function Test-SpawnGuardUnderDirectory {
    <#
    .SYNOPSIS
        True when a path (canonicalized) is the folder or lies under it (canonicalized too).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path, [Parameter(Mandatory = $true)][string]$Directory)
    $canonical = ConvertTo-SpawnGuardCanonicalPath -Path $Path
    $folder = (ConvertTo-SpawnGuardCanonicalPath -Path $Directory).TrimEnd('\')
    if ($canonical.Length -eq 0 -or $folder.Length -eq 0) { return $false }
    return ($canonical -eq $folder -or $canonical.StartsWith($folder + '\'))
}

function Get-SpawnGuardBaseName {
    <#
    .SYNOPSIS
        The lower-cased file name of a path.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    $parts = $normalized.Split('\')
    return $parts[$parts.Length - 1]
}

function ConvertTo-SpawnGuardImageName {
    <#
    .SYNOPSIS
        A process name as compared with the protected list: lower case, ".exe" added where missing.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Name)
    if ([string]::IsNullOrEmpty($Name)) { return '' }
    $lower = $Name.Trim().ToLowerInvariant()
    if ($lower.Contains('.') -or $lower -eq 'system' -or $lower -eq 'registry' -or $lower.StartsWith('mem')) {
        return $lower
    }
    return $lower + '.exe'
}

function Test-SpawnGuardSystemPath {
    <#
    .SYNOPSIS
        True when a path lies under System32, SysWOW64 or WinSxS of the Windows directory.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    # Compared after canonicalization: "C:\Windows\System32\..\..\Users\x" is not a system path,
    # "C:\Windows\System32.\x" and "C:\Windows\System32\x::$DATA" are.
    $normalized = ConvertTo-SpawnGuardCanonicalPath -Path $Path
    if ($normalized.Length -eq 0) { return $false }
    $roots = New-Object -TypeName System.Collections.ArrayList
    foreach ($root in $script:SystemRoots) { [void]$roots.Add($root) }
    if (-not [string]::IsNullOrEmpty($env:SystemRoot)) {
        $windows = (ConvertTo-SpawnGuardCanonicalPath -Path $env:SystemRoot).TrimEnd('\')
        foreach ($leaf in @('system32', 'syswow64', 'winsxs')) { [void]$roots.Add($windows + '\' + $leaf + '\') }
    }
    foreach ($root in $roots) {
        if ($normalized.StartsWith($root)) { return $true }
    }
    return $false
}

function Test-SpawnGuardExpectedLocation {
    <#
    .SYNOPSIS
        $null when the file name is not a system binary; else whether the path is where it belongs
        (System32, SysWOW64 or WinSxS; explorer.exe also in the Windows folder).
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $name = Get-SpawnGuardBaseName -Path $Path
    $stem = $name
    if ($name.EndsWith('.exe')) { $stem = $name.Substring(0, $name.Length - 4) }
    if ($script:SystemBinaryStems -notcontains $stem) { return $null }
    if (Test-SpawnGuardSystemPath -Path $Path) { return $true }
    return ($stem -eq 'explorer' -and (ConvertTo-SpawnGuardNormalizedPath -Path $Path) -match '^[a-z]:\\windows\\explorer\.exe$')
}

function Get-SpawnGuardProcessName {
    <#
    .SYNOPSIS
        The image name used for list checks: from the process name, else from the path.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Name, [AllowNull()][AllowEmptyString()][string]$Path)
    if (-not [string]::IsNullOrEmpty($Name)) { return (ConvertTo-SpawnGuardImageName -Name $Name) }
    if (-not [string]::IsNullOrEmpty($Path)) { return (Get-SpawnGuardBaseName -Path $Path) }
    return ''
}

function Join-SpawnGuardPath {
    <#
    .SYNOPSIS
        Path\ChildPath for Windows paths as text (Join-Path would look the drive up, and fails for a drive this machine lacks).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][string]$ChildPath)
    return ($Path.TrimEnd('\') + '\' + $ChildPath.TrimStart('\'))
}

function Get-SpawnGuardParentPath {
    <#
    .SYNOPSIS
        The folder part of a Windows path ("C:\a\b.exe" gives "C:\a"), or '' when it has none.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path)) { return '' }
    $index = $Path.TrimEnd('\').LastIndexOf('\')
    if ($index -lt 0) { return '' }
    if ($index -eq 2 -and $Path[1] -eq ':') { return $Path.Substring(0, 3) }
    return $Path.Substring(0, $index)
}
