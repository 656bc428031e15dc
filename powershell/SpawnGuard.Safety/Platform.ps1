<#
.SYNOPSIS
    The Windows seam: every call that only Windows can answer, as small named functions.

.DESCRIPTION
    CIM/WMI, Authenticode, ACLs and owners, the registry, scheduled tasks and COM objects, the WTS
    API and file-system statics live here and nowhere else, so a reviewer sees the whole Windows
    surface in one file and a Pester test mocks a named command (never a .NET static). The logic
    that decides what to do (validation, target resolution, identity checks, protection, plans,
    results) lives in the other files and is what the tests execute under pwsh.

    File functions take Windows paths as the logic knows them and pass them through
    Resolve-SpawnGuardFilePath (Paths.ps1) first, which refuses remote and device paths and then
    calls ConvertTo-SpawnGuardNativePath. On a host that is the identity; Pester tests mock that
    one function to map C:\... into a temporary folder, so the real .NET file calls below run on
    real files. Nothing in a request or the environment changes it.

    Windows PowerShell 3.0 compatible.
#>

# ---------- paths ----------

function ConvertTo-SpawnGuardNativePath {
    <#
    .SYNOPSIS
        The path the operating system is given for a Windows path the logic holds (on Windows: the same path).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    return $LiteralPath
}

# ---------- processes (Win32_Process, Stop-Process) ----------

function Get-SpawnGuardWin32Process {
    <#
    .SYNOPSIS
        Win32_Process instances through CIM, or WMI where CIM is missing; optionally one PID only.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([AllowNull()][object]$ProcessId)
    $filter = $null
    # The filter is built from an integer, never from request text.
    if ($null -ne $ProcessId) { $filter = 'ProcessId = ' + ([int64]$ProcessId).ToString([System.Globalization.CultureInfo]::InvariantCulture) }
    if ($null -ne (Get-Command -Name 'Get-CimInstance' -ErrorAction SilentlyContinue)) {
        if ($null -ne $filter) { return @(Get-CimInstance -ClassName 'Win32_Process' -Filter $filter -ErrorAction Stop) }
        return @(Get-CimInstance -ClassName 'Win32_Process' -ErrorAction Stop)
    }
    if ($null -ne $filter) { return @(Get-WmiObject -Class 'Win32_Process' -Filter $filter -ErrorAction Stop) }
    return @(Get-WmiObject -Class 'Win32_Process' -ErrorAction Stop)
}

function Stop-SpawnGuardVerifiedProcess {
    <#
    .SYNOPSIS
        Opens one process once, checks through that handle that it is still the expected instance
        (image path and start time, judged by Test-SpawnGuardInstanceIdentity) and kills it through
        the same handle. Returns 'done', 'identity-mismatch' (another process now has the PID, or
        its identity cannot be read) or 'gone'; throws when Windows refuses (access denied).
    .DESCRIPTION
        Reading .Handle first makes the Process object keep one handle for every later call (start
        time, exit state, Kill). While that handle is open Windows cannot give the PID to another
        process, so the image path read by PID (MainModule) is the same instance's too.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][int64]$ProcessId,
        [AllowNull()][AllowEmptyString()][string]$ExpectedImagePath,
        [AllowNull()][object]$ExpectedStartTime
    )
    try {
        $process = [System.Diagnostics.Process]::GetProcessById([int]$ProcessId)
    } catch [System.ArgumentException] {
        return 'gone'
    }
    try {
        $null = $process.Handle
        if ($process.HasExited) { return 'gone' }
        $actualStart = $null
        $actualPath = $null
        try { $actualStart = $process.StartTime } catch { $actualStart = $null }
        try { $actualPath = [string]$process.MainModule.FileName } catch { $actualPath = $null }
        if (-not (Test-SpawnGuardInstanceIdentity -ExpectedImagePath $ExpectedImagePath -ExpectedStartTime $ExpectedStartTime -ActualImagePath $actualPath -ActualStartTime $actualStart)) {
            return 'identity-mismatch'
        }
        try {
            $process.Kill()
        } catch {
            if ($process.HasExited) { return 'gone' }
            throw
        }
        return 'done'
    } finally {
        $process.Dispose()
    }
}

function Test-SpawnGuardProcessRunning {
    <#
    .SYNOPSIS
        True while a PID is still in the process table.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][int64]$ProcessId)
    return ($null -ne (Get-Process -Id $ProcessId -ErrorAction SilentlyContinue))
}

function Get-SpawnGuardProcessOwner {
    <#
    .SYNOPSIS
        Win32_Process.GetOwner of a CIM or WMI instance: { User, Domain }, or $null when unreadable.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][object]$Instance)
    # The owner of a protected or exiting process may be unreadable: that is not a failure.
    try {
        if ([string]$Instance.PSObject.TypeNames[0] -like 'Microsoft.Management.Infrastructure.CimInstance*') {
            $owner = Invoke-CimMethod -InputObject $Instance -MethodName 'GetOwner' -ErrorAction Stop
        } else {
            $owner = $Instance.GetOwner()
        }
    } catch {
        return $null
    }
    if ($null -eq $owner -or $owner.ReturnValue -ne 0 -or [string]::IsNullOrEmpty($owner.User)) { return $null }
    return [pscustomobject]@{ User = [string]$owner.User; Domain = [string]$owner.Domain }
}

function Get-SpawnGuardCurrentSessionId {
    <#
    .SYNOPSIS
        The logon session this PowerShell process runs in (the host worker's session).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param()
    return [int][System.Diagnostics.Process]::GetCurrentProcess().SessionId
}

function Read-SpawnGuardStandardInput {
    <#
    .SYNOPSIS
        The raw bytes on standard input (the host worker's request), at most MaxBytes; throws
        'invalid-request' beyond that. Read as bytes, not through [Console]::In, whose decoding
        follows the console code page rather than UTF-8.
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param([Parameter(Mandatory = $true)][ValidateRange(1, 67108864)][int]$MaxBytes)
    $stream = [System.Console]::OpenStandardInput()
    $buffer = New-Object -TypeName byte[] -ArgumentList 65536
    $collected = New-Object -TypeName System.IO.MemoryStream
    try {
        while ($true) {
            $read = $stream.Read($buffer, 0, $buffer.Length)
            if ($read -le 0) { break }
            if ($collected.Length + $read -gt $MaxBytes) {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message ('The request on standard input is larger than ' + $MaxBytes + ' bytes.'))
            }
            $collected.Write($buffer, 0, $read)
        }
        # The comma keeps the array whole: a function's output would otherwise be enumerated byte by byte.
        return , $collected.ToArray()
    } finally {
        $collected.Dispose()
    }
}

# ---------- files ----------

function Test-SpawnGuardFile {
    <#
    .SYNOPSIS
        True when a file (not a folder) exists at the path, taken literally.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    return [System.IO.File]::Exists((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
}

function Test-SpawnGuardDirectory {
    <#
    .SYNOPSIS
        True when a folder exists at the path, taken literally.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    return [System.IO.Directory]::Exists((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
}

function Get-SpawnGuardFileLength {
    <#
    .SYNOPSIS
        The size of a file in bytes; throws when it does not exist.
    #>
    [CmdletBinding()]
    [OutputType([int64])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $info = New-Object -TypeName System.IO.FileInfo -ArgumentList (Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath)
    # PowerShell swallows the FileNotFoundException of the Length getter (a missing file would
    # read as 0 bytes), so the missing file is reported here.
    if (-not $info.Exists) { throw (New-Object -TypeName System.IO.FileNotFoundException -ArgumentList ('File not found: ' + $LiteralPath), $LiteralPath) }
    return [int64]$info.Length
}

function Open-SpawnGuardFileForRead {
    <#
    .SYNOPSIS
        A read stream that shares read, write and delete, so the locked image of a running process still opens.
    #>
    [CmdletBinding()]
    [OutputType([System.IO.Stream])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    return (New-Object -TypeName System.IO.FileStream -ArgumentList (Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath), ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share)
}

function Get-SpawnGuardChildFile {
    <#
    .SYNOPSIS
        The files directly in a folder (not subfolders), as { Name, FullName } with Windows paths; none when it does not exist.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [string]$Filter = '*')
    $files = New-Object -TypeName System.Collections.ArrayList
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    if (-not [System.IO.Directory]::Exists($native)) { return , $files.ToArray() }
    foreach ($file in [System.IO.Directory]::GetFiles($native, $Filter)) {
        $name = [System.IO.Path]::GetFileName($file)
        [void]$files.Add([pscustomobject]@{ Name = $name; FullName = ($LiteralPath.TrimEnd('\') + '\' + $name) })
    }
    return , $files.ToArray()
}

function New-SpawnGuardDirectory {
    <#
    .SYNOPSIS
        Creates a folder (and its parents) when missing.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Create directory')) {
        $null = [System.IO.Directory]::CreateDirectory((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
    }
}

function Move-SpawnGuardFile {
    <#
    .SYNOPSIS
        Moves a file (both paths literal: "invoice[1].exe" is a name, not a pattern); fails when the destination exists.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Source, [Parameter(Mandatory = $true)][string]$Destination)
    if ($PSCmdlet.ShouldProcess($Source, ('Move to ' + $Destination))) {
        [System.IO.File]::Move((Resolve-SpawnGuardFilePath -LiteralPath $Source), (Resolve-SpawnGuardFilePath -LiteralPath $Destination))
    }
}

function Copy-SpawnGuardFile {
    <#
    .SYNOPSIS
        Copies a file over its destination (both paths literal).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Source, [Parameter(Mandatory = $true)][string]$Destination)
    if ($PSCmdlet.ShouldProcess($Source, ('Copy to ' + $Destination))) {
        [System.IO.File]::Copy((Resolve-SpawnGuardFilePath -LiteralPath $Source), (Resolve-SpawnGuardFilePath -LiteralPath $Destination), $true)
    }
}

function Remove-SpawnGuardFile {
    <#
    .SYNOPSIS
        Deletes a file (literal path); nothing happens when it is already gone.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Delete')) {
        [System.IO.File]::Delete((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
    }
}

function Read-SpawnGuardTextFile {
    <#
    .SYNOPSIS
        The whole text of a UTF-8 file.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    return [System.IO.File]::ReadAllText((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath), [System.Text.Encoding]::UTF8)
}

function Write-SpawnGuardTextFile {
    <#
    .SYNOPSIS
        Writes text as UTF-8 without a byte-order mark, replacing the file.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Text)
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Write')) {
        [System.IO.File]::WriteAllText((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath), $Text, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false))
    }
}

function Update-SpawnGuardFileFrom {
    <#
    .SYNOPSIS
        Atomically replaces Destination with Source (File.Replace), keeping no backup.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Source, [Parameter(Mandatory = $true)][string]$Destination)
    if ($PSCmdlet.ShouldProcess($Destination, ('Replace with ' + $Source))) {
        # No backup: [NullString]::Value, because PowerShell passes $null to a .NET string
        # parameter as "" and File.Replace throws on an empty backup name (every version).
        [System.IO.File]::Replace((Resolve-SpawnGuardFilePath -LiteralPath $Source), (Resolve-SpawnGuardFilePath -LiteralPath $Destination), [System.Management.Automation.Language.NullString]::Value)
    }
}

function Get-SpawnGuardVersionInfo {
    <#
    .SYNOPSIS
        OriginalFilename, CompanyName, ProductName and FileVersion from a file's version resource.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $info = [System.Diagnostics.FileVersionInfo]::GetVersionInfo((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
    $fields = [ordered]@{ originalFilename = $null; companyName = $null; productName = $null; fileVersion = $null }
    if (-not [string]::IsNullOrEmpty($info.OriginalFilename)) { $fields.originalFilename = $info.OriginalFilename.Trim() }
    if (-not [string]::IsNullOrEmpty($info.CompanyName)) { $fields.companyName = $info.CompanyName.Trim() }
    if (-not [string]::IsNullOrEmpty($info.ProductName)) { $fields.productName = $info.ProductName.Trim() }
    if (-not [string]::IsNullOrEmpty($info.FileVersion)) { $fields.fileVersion = $info.FileVersion.Trim() }
    return $fields
}

function Test-SpawnGuardReparsePoint {
    <#
    .SYNOPSIS
        True when the file or folder at the path is a reparse point (junction, symbolic link, mount
        point); false when nothing is there.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    if (-not [System.IO.File]::Exists($native) -and -not [System.IO.Directory]::Exists($native)) { return $false }
    $attributes = [System.IO.File]::GetAttributes($native)
    return (($attributes -band [System.IO.FileAttributes]::ReparsePoint) -ne 0)
}

function Get-SpawnGuardLongPath {
    <#
    .SYNOPSIS
        The path with every 8.3 short component (PROGRA~1) replaced by its long name, asked of the
        file system one folder at a time; a component that does not exist is kept as given.
    .DESCRIPTION
        Directory.GetFileSystemEntries(folder, name) goes to FindFirstFile on Windows PowerShell,
        which matches a short name and returns the long one.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    $root = [System.IO.Path]::GetPathRoot($native)
    $current = $root
    foreach ($part in $native.Substring($root.Length).Split([char[]]@('\', '/'))) {
        if ($part.Length -eq 0) { continue }
        $next = [System.IO.Path]::Combine($current, $part)
        if ($part.Contains('~') -and [System.IO.Directory]::Exists($current)) {
            $found = [System.IO.Directory]::GetFileSystemEntries($current, $part)
            if ($found.Length -eq 1) { $next = $found[0] }
        }
        $current = $next
    }
    return $current
}

# ---------- Authenticode and ACLs (Windows only) ----------

function Get-SpawnGuardAuthenticodeSignature {
    <#
    .SYNOPSIS
        Get-AuthenticodeSignature by literal path (wildcard characters in a file name are data).
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.Signature])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $command = Get-Command -Name 'Get-AuthenticodeSignature' -ErrorAction Stop
    if ($command.Parameters.ContainsKey('LiteralPath')) {
        $signature = Get-AuthenticodeSignature -LiteralPath (Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath) -ErrorAction Stop
    } else {
        $escaped = [System.Management.Automation.WildcardPattern]::Escape((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
        $signature = Get-AuthenticodeSignature -FilePath $escaped -ErrorAction Stop
    }
    # Who is Microsoft is decided by the root of the signer's chain, not by the subject text.
    $signature.PSObject.Properties.Add((New-Object -TypeName System.Management.Automation.PSNoteProperty -ArgumentList 'SignerRootThumbprint', (Get-SpawnGuardSignerRootThumbprint -Certificate $signature.SignerCertificate)))
    return $signature
}

function Get-SpawnGuardSignerRootThumbprint {
    <#
    .SYNOPSIS
        The SHA-1 thumbprint (upper-case hex) of the root certificate of a signer's chain, or $null
        when there is no certificate or no chain can be built.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][object]$Certificate)
    if (-not ($Certificate -is [System.Security.Cryptography.X509Certificates.X509Certificate2])) { return $null }
    $chain = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Chain
    try {
        # Authenticode has already judged validity and revocation; only the chain's shape is read here.
        $chain.ChainPolicy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
        $chain.ChainPolicy.VerificationFlags = [System.Security.Cryptography.X509Certificates.X509VerificationFlags]::IgnoreNotTimeValid
        $null = $chain.Build($Certificate)
        $count = $chain.ChainElements.Count
        if ($count -lt 1) { return $null }
        $root = $chain.ChainElements[$count - 1].Certificate
        if ($root.Subject -ne $root.Issuer) { return $null }
        return ([string]$root.Thumbprint).ToUpperInvariant()
    } catch {
        return $null
    } finally {
        if ($chain -is [System.IDisposable]) { $chain.Dispose() }
    }
}

function Set-SpawnGuardFileSecurity {
    <#
    .SYNOPSIS
        Applies a FileSecurity or DirectorySecurity to a path (the .NET call: Set-Acl -LiteralPath is not in every 3.0 build).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [Parameter(Mandatory = $true)][object]$Security)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    if ($PSVersionTable.PSVersion.Major -ge 6) {
        # .NET Core has no File.SetAccessControl: the same call is an extension method there.
        if ($Security -is [System.Security.AccessControl.DirectorySecurity]) {
            [System.IO.FileSystemAclExtensions]::SetAccessControl((New-Object -TypeName System.IO.DirectoryInfo -ArgumentList $native), $Security)
        } else {
            [System.IO.FileSystemAclExtensions]::SetAccessControl((New-Object -TypeName System.IO.FileInfo -ArgumentList $native), $Security)
        }
    } elseif ($Security -is [System.Security.AccessControl.DirectorySecurity]) {
        [System.IO.Directory]::SetAccessControl($native, $Security)
    } else {
        [System.IO.File]::SetAccessControl($native, $Security)
    }
}

function Set-SpawnGuardRestrictedAcl {
    <#
    .SYNOPSIS
        Reduces a file or folder's ACL to Administrators and SYSTEM (full control), inheritance off.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    $isDirectory = [System.IO.Directory]::Exists($native)
    if ($isDirectory) {
        $acl = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
        $inheritance = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    } else {
        $acl = New-Object -TypeName System.Security.AccessControl.FileSecurity
        $inheritance = [System.Security.AccessControl.InheritanceFlags]::None
    }
    # Protected (no inherited entries) and nothing copied from the parent.
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in @('S-1-5-32-544', 'S-1-5-18')) {
        $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
        $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList $identity, ([System.Security.AccessControl.FileSystemRights]::FullControl), $inheritance, ([System.Security.AccessControl.PropagationFlags]::None), ([System.Security.AccessControl.AccessControlType]::Allow)
        $acl.AddAccessRule($rule)
    }
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Set ACL to Administrators and SYSTEM')) {
        # The .NET call rather than Set-Acl: Set-Acl -LiteralPath is not in every 3.0 build.
        Set-SpawnGuardFileSecurity -LiteralPath $LiteralPath -Security $acl
    }
}

function Get-SpawnGuardAccessSddl {
    <#
    .SYNOPSIS
        The DACL of a file in SDDL (kept in the quarantine manifest so a restore can put it back), or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    try {
        $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
        if ($PSVersionTable.PSVersion.Major -ge 6) {
            $security = [System.IO.FileSystemAclExtensions]::GetAccessControl((New-Object -TypeName System.IO.FileInfo -ArgumentList $native), [System.Security.AccessControl.AccessControlSections]::Access)
        } else {
            $security = [System.IO.File]::GetAccessControl($native, [System.Security.AccessControl.AccessControlSections]::Access)
        }
        return $security.GetSecurityDescriptorSddlForm([System.Security.AccessControl.AccessControlSections]::Access)
    } catch {
        return $null
    }
}

function Restore-SpawnGuardAccessSddl {
    <#
    .SYNOPSIS
        Puts back a DACL recorded in SDDL, or (none recorded) lets the file inherit from its folder again.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [AllowNull()][AllowEmptyString()][string]$Sddl)
    $security = New-Object -TypeName System.Security.AccessControl.FileSecurity
    if (-not [string]::IsNullOrEmpty($Sddl)) {
        $security.SetSecurityDescriptorSddlForm($Sddl, [System.Security.AccessControl.AccessControlSections]::Access)
    } else {
        $security.SetAccessRuleProtection($false, $true)
    }
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Restore the original ACL')) {
        Set-SpawnGuardFileSecurity -LiteralPath $LiteralPath -Security $security
    }
}

function Get-SpawnGuardOwnerSid {
    <#
    .SYNOPSIS
        The SID (S-1-5-...) of the owner of a file or folder.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    $sections = [System.Security.AccessControl.AccessControlSections]::Owner
    $isDirectory = [System.IO.Directory]::Exists($native)
    if ($PSVersionTable.PSVersion.Major -ge 6) {
        if ($isDirectory) {
            $security = [System.IO.FileSystemAclExtensions]::GetAccessControl((New-Object -TypeName System.IO.DirectoryInfo -ArgumentList $native), $sections)
        } else {
            $security = [System.IO.FileSystemAclExtensions]::GetAccessControl((New-Object -TypeName System.IO.FileInfo -ArgumentList $native), $sections)
        }
    } elseif ($isDirectory) {
        $security = [System.IO.Directory]::GetAccessControl($native, $sections)
    } else {
        $security = [System.IO.File]::GetAccessControl($native, $sections)
    }
    return [string]$security.GetOwner([System.Security.Principal.SecurityIdentifier]).Value
}

function Set-SpawnGuardAdministratorsOwner {
    <#
    .SYNOPSIS
        Makes BUILTIN\Administrators (S-1-5-32-544) the owner of a file or folder (only the owner is written).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $native = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    if ([System.IO.Directory]::Exists($native)) {
        $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    } else {
        $security = New-Object -TypeName System.Security.AccessControl.FileSecurity
    }
    $security.SetOwner((New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'))
    if ($PSCmdlet.ShouldProcess($LiteralPath, 'Set owner to Administrators')) {
        Set-SpawnGuardFileSecurity -LiteralPath $LiteralPath -Security $security
    }
}

# ---------- the registry (read-only) ----------

function Get-SpawnGuardRegistrySubKeyName {
    <#
    .SYNOPSIS
        The names of a key's subkeys, by its full name (HKEY_LOCAL_MACHINE\...); none when it does not exist.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $names = New-Object -TypeName System.Collections.ArrayList
    foreach ($child in @(Get-ChildItem -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue)) {
        [void]$names.Add([string]$child.PSChildName)
    }
    return , [string[]]$names.ToArray()
}

function Get-SpawnGuardRegistryValueName {
    <#
    .SYNOPSIS
        The names of a key's values ('' is the default value); none when the key does not exist.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $key = Get-Item -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue
    if ($null -eq $key) { return , [string[]]@() }
    return , [string[]]$key.GetValueNames()
}

function Get-SpawnGuardRegistryValue {
    <#
    .SYNOPSIS
        One value of a key as stored (environment variables not expanded), or $null when the key or value is missing.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    $key = Get-Item -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue
    if ($null -eq $key) { return $null }
    return $key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
}

function Test-SpawnGuardRegistryKey {
    <#
    .SYNOPSIS
        True when a registry key exists.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Path)
    return ($null -ne (Get-Item -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue))
}

function ConvertTo-SpawnGuardAccountName {
    <#
    .SYNOPSIS
        DOMAIN\name of a SID string, or the SID itself when it does not resolve.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Sid)
    try {
        $identifier = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $Sid
        return [string]$identifier.Translate([System.Security.Principal.NTAccount]).Value
    } catch {
        return $Sid
    }
}

# ---------- scheduled tasks, shortcuts, WMI subscriptions ----------

function Get-SpawnGuardScheduledTask {
    <#
    .SYNOPSIS
        Get-ScheduledTask's tasks, or $null where the cmdlet is missing (2008 R2) or fails (one
        unreadable task definition makes it fail; the COM object below still lists the rest).
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param()
    if ($null -eq (Get-Command -Name 'Get-ScheduledTask' -ErrorAction SilentlyContinue)) { return $null }
    try {
        return , @(Get-ScheduledTask -ErrorAction Stop)
    } catch {
        return $null
    }
}

function Get-SpawnGuardScheduledTaskFromService {
    <#
    .SYNOPSIS
        Every task (hidden ones included) through the Schedule.Service COM object, as
        { Path, Name, UserId, Actions = @({ Type, Path, Arguments, ClassId }) }.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $found = New-Object -TypeName System.Collections.ArrayList
    $service = New-Object -ComObject 'Schedule.Service'
    $service.Connect()
    $folders = New-Object -TypeName System.Collections.Queue
    $folders.Enqueue($service.GetFolder('\'))
    while ($folders.Count -gt 0) {
        $folder = $folders.Dequeue()
        foreach ($child in @($folder.GetFolders(0))) { $folders.Enqueue($child) }
        # 1 = TASK_ENUM_HIDDEN: hidden tasks are where persistence hides.
        foreach ($task in @($folder.GetTasks(1))) {
            $definition = $task.Definition
            $actions = New-Object -TypeName System.Collections.ArrayList
            foreach ($action in @($definition.Actions)) {
                $classId = $null
                $path = $null
                $arguments = $null
                # Action types: 0 = TASK_ACTION_EXEC, 5 = TASK_ACTION_COM_HANDLER.
                if ($action.Type -eq 0) {
                    $path = [string]$action.Path
                    $arguments = [string]$action.Arguments
                } elseif ($action.Type -eq 5) {
                    $classId = [string]$action.ClassId
                }
                [void]$actions.Add([pscustomobject]@{ Type = [int]$action.Type; Path = $path; Arguments = $arguments; ClassId = $classId })
            }
            [void]$found.Add([pscustomobject]@{ Path = [string]$task.Path; Name = [string]$task.Name; UserId = [string]$definition.Principal.UserId; Actions = $actions.ToArray() })
        }
    }
    return , $found.ToArray()
}

function Get-SpawnGuardShortcut {
    <#
    .SYNOPSIS
        Target and arguments of a .lnk file, read through WScript.Shell (never saved), or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    try {
        $shell = New-Object -ComObject 'WScript.Shell'
        $shortcut = $shell.CreateShortcut((Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath))
        return [pscustomobject]@{ TargetPath = [string]$shortcut.TargetPath; Arguments = [string]$shortcut.Arguments }
    } catch {
        return $null
    }
}

function Get-SpawnGuardSubscriptionInstance {
    <#
    .SYNOPSIS
        Instances of a class in root\subscription through CIM, or WMI where CIM is missing.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$ClassName)
    if ($null -ne (Get-Command -Name 'Get-CimInstance' -ErrorAction SilentlyContinue)) {
        return @(Get-CimInstance -Namespace 'root\subscription' -ClassName $ClassName -ErrorAction Stop)
    }
    return @(Get-WmiObject -Namespace 'root\subscription' -Class $ClassName -ErrorAction Stop)
}

# ---------- persistence removal and restore: registry values, tasks, service start, WMI ----------

function Get-SpawnGuardRegistryTypedValue {
    <#
    .SYNOPSIS
        One value of a key with its type, as stored: { Kind = 'String' | 'ExpandString' |
        'MultiString' | 'DWord' | 'QWord' | 'Binary' | 'None' | 'Unknown'; Data }, environment
        variables not expanded; $null when the key or the value is missing. Data is inside the
        object, so a multi-string or binary value is never unrolled on its way out.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    $key = Get-Item -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue
    if ($null -eq $key) { return $null }
    # Value names are case-insensitive, as -contains compares.
    if (@($key.GetValueNames()) -notcontains $Name) { return $null }
    $data = $key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    return [pscustomobject]@{ Kind = [string]$key.GetValueKind($Name); Data = $data }
}

function Set-SpawnGuardRegistryValue {
    <#
    .SYNOPSIS
        Writes one value of a HKEY_LOCAL_MACHINE\... or HKEY_USERS\... key with its type (the key is
        created when missing): RegistryKey.SetValue with a RegistryValueKind. Value is already of
        the type's .NET form (string, string[], int, long, byte[]).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$Path,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name,
        [Parameter(Mandatory = $true)][ValidateSet('String', 'ExpandString', 'MultiString', 'DWord', 'QWord', 'Binary')][string]$Kind,
        [Parameter(Mandatory = $true)][AllowNull()][object]$Value
    )
    if ($Path -notmatch '^(HKEY_LOCAL_MACHINE|HKEY_USERS)\\(.+)$') {
        throw (New-SpawnGuardException -Code 'unsupported-location' -Message ('Only HKEY_LOCAL_MACHINE and HKEY_USERS keys are written: ' + $Path))
    }
    $hive = [Microsoft.Win32.Registry]::LocalMachine
    if ($Matches[1] -eq 'HKEY_USERS') { $hive = [Microsoft.Win32.Registry]::Users }
    $subKey = $Matches[2]
    if (-not $PSCmdlet.ShouldProcess(($Path + '\' + $Name), 'Set registry value')) { return }
    $key = $hive.CreateSubKey($subKey)
    try {
        $key.SetValue($Name, $Value, [Microsoft.Win32.RegistryValueKind]$Kind)
    } finally {
        $key.Close()
    }
}

function Remove-SpawnGuardRegistryValue {
    <#
    .SYNOPSIS
        Deletes one value of a HKEY_LOCAL_MACHINE\... or HKEY_USERS\... key; nothing happens when the
        key or the value is already gone.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    if ($Path -notmatch '^(HKEY_LOCAL_MACHINE|HKEY_USERS)\\(.+)$') {
        throw (New-SpawnGuardException -Code 'unsupported-location' -Message ('Only HKEY_LOCAL_MACHINE and HKEY_USERS keys are written: ' + $Path))
    }
    $hive = [Microsoft.Win32.Registry]::LocalMachine
    if ($Matches[1] -eq 'HKEY_USERS') { $hive = [Microsoft.Win32.Registry]::Users }
    $subKey = $Matches[2]
    if (-not $PSCmdlet.ShouldProcess(($Path + '\' + $Name), 'Delete registry value')) { return }
    $key = $hive.OpenSubKey($subKey, $true)
    if ($null -eq $key) { return }
    try {
        $key.DeleteValue($Name, $false)
    } finally {
        $key.Close()
    }
}

function Get-SpawnGuardTaskFolder {
    <#
    .SYNOPSIS
        A folder of the Schedule.Service COM object ('\', '\Microsoft\Windows'), or $null when it
        does not exist; with -Create, a missing folder (and its parents) is created.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$FolderPath, [switch]$Create)
    $service = New-Object -ComObject 'Schedule.Service'
    $service.Connect()
    try {
        return $service.GetFolder($FolderPath)
    } catch {
        # No such folder; anything else (access denied) is a failure.
        if (-not (Test-SpawnGuardMissingObjectError -ErrorRecord $_)) { throw }
    }
    if (-not $Create) { return $null }
    return $service.GetFolder('\').CreateFolder($FolderPath.TrimStart('\'))
}

function Get-SpawnGuardScheduledTaskDefinition {
    <#
    .SYNOPSIS
        One task by its full path ('\Folder\Name') through the Schedule.Service COM object (hidden
        tasks too): { Path, Name, Xml, UserId, GroupId, LogonType, RunLevel, Actions = @({ Type,
        Path, Arguments, ClassId }) }, or $null when there is no such task.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$TaskPath)
    $index = $TaskPath.LastIndexOf('\')
    $folderPath = $TaskPath.Substring(0, $index)
    if ($folderPath.Length -eq 0) { $folderPath = '\' }
    $folder = Get-SpawnGuardTaskFolder -FolderPath $folderPath
    if ($null -eq $folder) { return $null }
    try {
        $task = $folder.GetTask($TaskPath.Substring($index + 1))
    } catch {
        if (Test-SpawnGuardMissingObjectError -ErrorRecord $_) { return $null }
        throw
    }
    $definition = $task.Definition
    $actions = New-Object -TypeName System.Collections.ArrayList
    foreach ($action in @($definition.Actions)) {
        $path = $null
        $arguments = $null
        $classId = $null
        # Action types: 0 = TASK_ACTION_EXEC, 5 = TASK_ACTION_COM_HANDLER.
        if ($action.Type -eq 0) {
            $path = [string]$action.Path
            $arguments = [string]$action.Arguments
        } elseif ($action.Type -eq 5) {
            $classId = [string]$action.ClassId
        }
        [void]$actions.Add([pscustomobject]@{ Type = [int]$action.Type; Path = $path; Arguments = $arguments; ClassId = $classId })
    }
    $principal = $definition.Principal
    return [pscustomobject]@{
        Path      = [string]$task.Path
        Name      = [string]$task.Name
        Xml       = [string]$task.Xml
        UserId    = [string]$principal.UserId
        GroupId   = [string]$principal.GroupId
        LogonType = [int]$principal.LogonType
        RunLevel  = [int]$principal.RunLevel
        Actions   = $actions.ToArray()
    }
}

function Register-SpawnGuardScheduledTaskXml {
    <#
    .SYNOPSIS
        Registers a task from its XML at its full path ('\Folder\Name') through the Schedule.Service
        COM object (ITaskFolder.RegisterTask), creating the folder when missing. TASK_CREATE only:
        a task that appeared at the path meanwhile is never replaced (the call fails instead).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][string]$TaskPath,
        [Parameter(Mandatory = $true)][string]$Xml,
        [AllowNull()][AllowEmptyString()][string]$UserId,
        [ValidateRange(0, 6)][int]$LogonType = 0
    )
    $index = $TaskPath.LastIndexOf('\')
    $folderPath = $TaskPath.Substring(0, $index)
    if ($folderPath.Length -eq 0) { $folderPath = '\' }
    if (-not $PSCmdlet.ShouldProcess($TaskPath, 'Register scheduled task')) { return }
    $folder = Get-SpawnGuardTaskFolder -FolderPath $folderPath -Create
    $user = $null
    if (-not [string]::IsNullOrEmpty($UserId)) { $user = $UserId }
    # 2 = TASK_CREATE; no password: a task that stored one cannot be put back without it.
    $null = $folder.RegisterTask($TaskPath.Substring($index + 1), $Xml, 2, $user, $null, $LogonType)
}

function Unregister-SpawnGuardScheduledTask {
    <#
    .SYNOPSIS
        Deletes a task by its full path ('\Folder\Name') through the Schedule.Service COM object
        (ITaskFolder.DeleteTask); nothing happens when it is already gone.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$TaskPath)
    $index = $TaskPath.LastIndexOf('\')
    $folderPath = $TaskPath.Substring(0, $index)
    if ($folderPath.Length -eq 0) { $folderPath = '\' }
    if (-not $PSCmdlet.ShouldProcess($TaskPath, 'Delete scheduled task')) { return }
    $folder = Get-SpawnGuardTaskFolder -FolderPath $folderPath
    if ($null -eq $folder) { return }
    try {
        $folder.DeleteTask($TaskPath.Substring($index + 1), 0)
    } catch {
        if (-not (Test-SpawnGuardMissingObjectError -ErrorRecord $_)) { throw }
    }
}

function Get-SpawnGuardServiceStartType {
    <#
    .SYNOPSIS
        A service's (or driver's) start type as the service control manager stores it, the Start
        value of HKLM\SYSTEM\CurrentControlSet\Services\<Name> (0 boot, 1 system, 2 automatic,
        3 manual, 4 disabled); $null when there is no such service.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Name)
    $key = Get-Item -LiteralPath ('Registry::HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $Name) -ErrorAction SilentlyContinue
    if ($null -eq $key) { return $null }
    $start = $key.GetValue('Start', $null)
    if ($null -eq $start) { return $null }
    return [int]$start
}

function Set-SpawnGuardServiceStartType {
    <#
    .SYNOPSIS
        Changes a service's (or driver's) start type through the service control manager
        (Win32_Service / Win32_SystemDriver ChangeStartMode, through CIM or WMI where CIM is
        missing), so the change holds at once and not only after a reboot. Start: 0 boot, 1 system,
        2 automatic, 3 manual, 4 disabled. Throws when there is no such service or Windows refuses.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$Name, [Parameter(Mandatory = $true)][ValidateRange(0, 4)][int]$Start)
    $mode = @('Boot', 'System', 'Automatic', 'Manual', 'Disabled')[$Start]
    $useCim = ($null -ne (Get-Command -Name 'Get-CimInstance' -ErrorAction SilentlyContinue))
    $found = $null
    # Every instance is compared here: no WQL is ever built from a service name.
    foreach ($className in @('Win32_Service', 'Win32_SystemDriver')) {
        if ($null -ne $found) { break }
        if ($useCim) { $instances = @(Get-CimInstance -ClassName $className -ErrorAction Stop) } else { $instances = @(Get-WmiObject -Class $className -ErrorAction Stop) }
        foreach ($instance in $instances) {
            if ([string]::Equals([string]$instance.Name, $Name, [System.StringComparison]::OrdinalIgnoreCase)) { $found = $instance }
        }
    }
    if ($null -eq $found) {
        throw (New-SpawnGuardException -Code 'not-found' -Message ('The service control manager knows no service ' + $Name + '.'))
    }
    if (-not $PSCmdlet.ShouldProcess($Name, ('Set start mode ' + $mode))) { return }
    if ($useCim) {
        $outcome = Invoke-CimMethod -InputObject $found -MethodName 'ChangeStartMode' -Arguments @{ StartMode = $mode } -ErrorAction Stop
    } else {
        $outcome = $found.ChangeStartMode($mode)
    }
    $code = [int]$outcome.ReturnValue
    if ($code -eq 2) { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList ('ChangeStartMode of ' + $Name + ': access denied.')) }
    if ($code -ne 0) {
        throw (New-SpawnGuardException -Code 'failure' -Message ('ChangeStartMode(' + $mode + ') of ' + $Name + ' returned ' + $code + '.'))
    }
}

function New-SpawnGuardSubscriptionInstance {
    <#
    .SYNOPSIS
        Creates an event consumer in root\subscription (New-CimInstance, or Set-WmiInstance where
        CIM is missing) with the given properties.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true)][ValidateSet('CommandLineEventConsumer', 'ActiveScriptEventConsumer')][string]$ClassName,
        [Parameter(Mandatory = $true)][hashtable]$Property
    )
    if (-not $PSCmdlet.ShouldProcess(($ClassName + '.Name=' + [string]$Property['Name']), 'Create WMI instance')) { return }
    if ($null -ne (Get-Command -Name 'New-CimInstance' -ErrorAction SilentlyContinue)) {
        $null = New-CimInstance -Namespace 'root\subscription' -ClassName $ClassName -Property $Property -ErrorAction Stop
        return
    }
    $null = Set-WmiInstance -Namespace 'root\subscription' -Class $ClassName -Arguments $Property -ErrorAction Stop
}

function New-SpawnGuardSubscriptionBinding {
    <#
    .SYNOPSIS
        Binds an event filter to a consumer (__FilterToConsumerBinding in root\subscription); both
        are instances as Get-SpawnGuardSubscriptionInstance returns them.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][object]$Filter, [Parameter(Mandatory = $true)][object]$Consumer)
    if (-not $PSCmdlet.ShouldProcess(([string]$Filter.Name + ' -> ' + [string]$Consumer.Name), 'Create WMI binding')) { return }
    if ($null -ne (Get-Command -Name 'New-CimInstance' -ErrorAction SilentlyContinue)) {
        # CIM takes the references as [ref] to the instances.
        $null = New-CimInstance -Namespace 'root\subscription' -ClassName '__FilterToConsumerBinding' -Property @{ Filter = [ref]$Filter; Consumer = [ref]$Consumer } -ErrorAction Stop
        return
    }
    $null = Set-WmiInstance -Namespace 'root\subscription' -Class '__FilterToConsumerBinding' -Arguments @{ Filter = $Filter; Consumer = $Consumer } -ErrorAction Stop
}

function Remove-SpawnGuardSubscriptionInstance {
    <#
    .SYNOPSIS
        Deletes one instance of root\subscription as Get-SpawnGuardSubscriptionInstance returned it
        (Remove-CimInstance, or Remove-WmiObject for a WMI object).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][object]$Instance)
    if (-not $PSCmdlet.ShouldProcess([string]$Instance.Name, 'Delete WMI instance')) { return }
    if ([string]$Instance.PSObject.TypeNames[0] -like 'Microsoft.Management.Infrastructure.CimInstance*') {
        Remove-CimInstance -InputObject $Instance -ErrorAction Stop
        return
    }
    Remove-WmiObject -InputObject $Instance -ErrorAction Stop
}

# ---------- user hives of logged-off users (RegLoadKey), BITS jobs ----------

$script:HiveSource = @'
using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace SpawnGuard
{
    public static class UserHive
    {
        [StructLayout(LayoutKind.Sequential, Pack = 1)]
        private struct TokenPrivilege
        {
            public int Count;
            public long Luid;
            public int Attributes;
        }
        [DllImport("kernel32.dll")]
        private static extern IntPtr GetCurrentProcess();
        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool CloseHandle(IntPtr handle);
        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool OpenProcessToken(IntPtr process, int access, out IntPtr token);
        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        private static extern bool LookupPrivilegeValue(string system, string name, out long luid);
        [DllImport("advapi32.dll", SetLastError = true)]
        private static extern bool AdjustTokenPrivileges(IntPtr token, bool disableAll, ref TokenPrivilege state, int length, IntPtr previous, IntPtr returned);
        [DllImport("advapi32.dll", CharSet = CharSet.Unicode)]
        private static extern int RegLoadKey(IntPtr key, string subKey, string file);
        [DllImport("advapi32.dll", CharSet = CharSet.Unicode)]
        private static extern int RegUnLoadKey(IntPtr key, string subKey);
        private const int TOKEN_ADJUST_PRIVILEGES = 0x20;
        private const int TOKEN_QUERY = 0x8;
        private const int SE_PRIVILEGE_ENABLED = 2;
        private static readonly IntPtr HKEY_USERS = new IntPtr(unchecked((int)0x80000003));

        private static void Enable(string privilege)
        {
            IntPtr token;
            if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, out token)) throw new Win32Exception(Marshal.GetLastWin32Error());
            try
            {
                TokenPrivilege state = new TokenPrivilege();
                state.Count = 1;
                state.Attributes = SE_PRIVILEGE_ENABLED;
                long luid;
                if (!LookupPrivilegeValue(null, privilege, out luid)) throw new Win32Exception(Marshal.GetLastWin32Error());
                state.Luid = luid;
                if (!AdjustTokenPrivileges(token, false, ref state, 0, IntPtr.Zero, IntPtr.Zero)) throw new Win32Exception(Marshal.GetLastWin32Error());
                int error = Marshal.GetLastWin32Error();
                if (error != 0) throw new Win32Exception(error);
            }
            finally
            {
                CloseHandle(token);
            }
        }

        public static void Load(string name, string file)
        {
            Enable("SeBackupPrivilege");
            Enable("SeRestorePrivilege");
            int error = RegLoadKey(HKEY_USERS, name, file);
            if (error != 0) throw new Win32Exception(error);
        }

        public static void Unload(string name)
        {
            Enable("SeBackupPrivilege");
            Enable("SeRestorePrivilege");
            int error = RegUnLoadKey(HKEY_USERS, name);
            if (error != 0) throw new Win32Exception(error);
        }
    }
}
'@

function Initialize-SpawnGuardHiveApi {
    <#
    .SYNOPSIS
        Compiles the RegLoadKey/RegUnLoadKey wrapper once per process.
    #>
    [CmdletBinding()]
    param()
    if ($null -eq ('SpawnGuard.UserHive' -as [type])) {
        Add-Type -TypeDefinition $script:HiveSource -Language CSharp -ErrorAction Stop
    }
}

function Mount-SpawnGuardUserHive {
    <#
    .SYNOPSIS
        Loads a hive file (a logged-off user's NTUSER.DAT or UsrClass.dat) under HKEY_USERS\<Name>
        with RegLoadKey (SeBackupPrivilege and SeRestorePrivilege enabled; LocalSystem holds both);
        returns the key's full name. The caller unloads it with Dismount-SpawnGuardUserHive in a
        finally. Fails (ERROR_SHARING_VIOLATION) when the file is in use: the user is logged on.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][ValidatePattern('^SpawnGuard_S-1-[0-9-]+(_Classes)?$')][string]$Name,
        [Parameter(Mandatory = $true)][string]$LiteralPath
    )
    $file = Resolve-SpawnGuardFilePath -LiteralPath $LiteralPath
    Initialize-SpawnGuardHiveApi
    [SpawnGuard.UserHive]::Load($Name, $file)
    return ('HKEY_USERS\' + $Name)
}

function Dismount-SpawnGuardUserHive {
    <#
    .SYNOPSIS
        Unloads a hive Mount-SpawnGuardUserHive loaded. Registry handles this process still holds
        (keys the provider opened, not yet finalized) would keep it loaded: they are collected first.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][ValidatePattern('^SpawnGuard_S-1-[0-9-]+(_Classes)?$')][string]$Name)
    Initialize-SpawnGuardHiveApi
    [System.GC]::Collect()
    [System.GC]::WaitForPendingFinalizers()
    try {
        [SpawnGuard.UserHive]::Unload($Name)
    } catch {
        Start-Sleep -Milliseconds 500
        [System.GC]::Collect()
        [System.GC]::WaitForPendingFinalizers()
        [SpawnGuard.UserHive]::Unload($Name)
    }
}

function Get-SpawnGuardBitsJob {
    <#
    .SYNOPSIS
        Every user's BITS jobs as { JobId, DisplayName, Owner, NotifyCommandLine, Files }, or $null
        where the BitsTransfer module is missing.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    if ($null -eq (Get-Command -Name 'Get-BitsTransfer' -ErrorAction SilentlyContinue)) { return $null }
    $jobs = New-Object -TypeName System.Collections.ArrayList
    foreach ($job in @(Get-BitsTransfer -AllUsers -ErrorAction Stop)) {
        $notify = ''
        if ($null -ne $job.PSObject.Properties['NotifyCmdLine']) {
            # Program and parameters (the parameters repeat the program as their first item).
            $parts = @($job.NotifyCmdLine)
            if ($parts.Length -ge 2 -and -not [string]::IsNullOrEmpty([string]$parts[1])) { $notify = [string]$parts[1] }
            elseif ($parts.Length -ge 1) { $notify = [string]$parts[0] }
        }
        $files = New-Object -TypeName System.Collections.ArrayList
        foreach ($file in @($job.FileList)) {
            if ($null -ne $file) { [void]$files.Add([string]$file.RemoteName + ' -> ' + [string]$file.LocalName) }
        }
        [void]$jobs.Add([pscustomobject]@{ JobId = [string]$job.JobId; DisplayName = [string]$job.DisplayName; Owner = [string]$job.OwnerAccount; NotifyCommandLine = $notify; Files = $files.ToArray() })
    }
    return , $jobs.ToArray()
}

# ---------- sessions: the WTS API (never quser, whose output is localized) ----------

$script:WtsSource = @'
using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.InteropServices;

namespace SpawnGuard
{
    public class WtsSessionInfo
    {
        public int SessionId;
        public string WinStationName;
        public int State;
        public string UserName;
        public string DomainName;
        public int ProtocolType;
        public string ClientAddress;
    }

    public static class Wts
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct WTS_SESSION_INFO
        {
            public int SessionId;
            public IntPtr pWinStationName;
            public int State;
        }

        [DllImport("wtsapi32.dll", SetLastError = true)]
        private static extern bool WTSEnumerateSessionsW(IntPtr server, int reserved, int version, out IntPtr sessions, out int count);

        [DllImport("wtsapi32.dll", SetLastError = true)]
        private static extern bool WTSQuerySessionInformationW(IntPtr server, int sessionId, int infoClass, out IntPtr buffer, out int bytes);

        [DllImport("wtsapi32.dll")]
        private static extern void WTSFreeMemory(IntPtr memory);

        [DllImport("wtsapi32.dll", SetLastError = true)]
        private static extern bool WTSLogoffSession(IntPtr server, int sessionId, bool wait);

        [DllImport("kernel32.dll")]
        private static extern uint WTSGetActiveConsoleSessionId();

        private const int WTSWinStationName = 6;
        private const int WTSUserName = 5;
        private const int WTSDomainName = 7;
        private const int WTSClientAddress = 14;
        private const int WTSClientProtocolType = 16;
        private const int AF_INET = 2;
        private const int AF_INET6 = 23;

        private static string QueryString(int sessionId, int infoClass)
        {
            IntPtr buffer;
            int bytes;
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, infoClass, out buffer, out bytes)) return null;
            try { return Marshal.PtrToStringUni(buffer); } finally { WTSFreeMemory(buffer); }
        }

        private static int QueryProtocol(int sessionId)
        {
            IntPtr buffer;
            int bytes;
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, WTSClientProtocolType, out buffer, out bytes)) return -1;
            try { return (int)(ushort)Marshal.ReadInt16(buffer); } finally { WTSFreeMemory(buffer); }
        }

        // WTS_CLIENT_ADDRESS: DWORD AddressFamily, BYTE Address[20]. For AF_INET the IPv4 address
        // starts two bytes into Address; for AF_INET6 Address holds the 16 bytes.
        private static string QueryAddress(int sessionId)
        {
            IntPtr buffer;
            int bytes;
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, WTSClientAddress, out buffer, out bytes)) return null;
            try
            {
                if (bytes < 24) return null;
                int family = Marshal.ReadInt32(buffer);
                byte[] address = new byte[20];
                Marshal.Copy(new IntPtr(buffer.ToInt64() + 4), address, 0, 20);
                if (family == AF_INET)
                {
                    byte[] v4 = new byte[4];
                    Array.Copy(address, 2, v4, 0, 4);
                    return new IPAddress(v4).ToString();
                }
                if (family == AF_INET6)
                {
                    byte[] v6 = new byte[16];
                    Array.Copy(address, 0, v6, 0, 16);
                    return new IPAddress(v6).ToString();
                }
                return null;
            }
            finally { WTSFreeMemory(buffer); }
        }

        public static long ActiveConsoleSessionId()
        {
            uint id = WTSGetActiveConsoleSessionId();
            if (id == 0xFFFFFFFF) return -1;
            return id;
        }

        public static WtsSessionInfo[] Enumerate()
        {
            IntPtr sessions;
            int count;
            if (!WTSEnumerateSessionsW(IntPtr.Zero, 0, 1, out sessions, out count))
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error());
            }
            List<WtsSessionInfo> found = new List<WtsSessionInfo>();
            try
            {
                int size = Marshal.SizeOf(typeof(WTS_SESSION_INFO));
                for (int i = 0; i < count; i++)
                {
                    WTS_SESSION_INFO raw = (WTS_SESSION_INFO)Marshal.PtrToStructure(new IntPtr(sessions.ToInt64() + (long)i * size), typeof(WTS_SESSION_INFO));
                    WtsSessionInfo info = new WtsSessionInfo();
                    info.SessionId = raw.SessionId;
                    info.WinStationName = Marshal.PtrToStringUni(raw.pWinStationName);
                    info.State = raw.State;
                    info.UserName = QueryString(raw.SessionId, WTSUserName);
                    info.DomainName = QueryString(raw.SessionId, WTSDomainName);
                    info.ProtocolType = QueryProtocol(raw.SessionId);
                    info.ClientAddress = QueryAddress(raw.SessionId);
                    found.Add(info);
                }
            }
            finally { WTSFreeMemory(sessions); }
            return found.ToArray();
        }

        // Returns 0 on success, else the Win32 error code.
        public static int Logoff(int sessionId)
        {
            if (WTSLogoffSession(IntPtr.Zero, sessionId, true)) return 0;
            return Marshal.GetLastWin32Error();
        }
    }
}
'@

function Initialize-SpawnGuardWtsApi {
    <#
    .SYNOPSIS
        Compiles the WTS API wrapper (P/Invoke into wtsapi32.dll) once per session.
    #>
    [CmdletBinding()]
    param()
    if ($null -eq ('SpawnGuard.Wts' -as [type])) {
        Add-Type -TypeDefinition $script:WtsSource -Language CSharp -ErrorAction Stop
    }
}

function Get-SpawnGuardWtsSession {
    <#
    .SYNOPSIS
        WTSEnumerateSessions with each session's user, domain, protocol and client address, and the
        active console session id: { ConsoleSessionId, Sessions = SpawnGuard.WtsSessionInfo[] }.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    Initialize-SpawnGuardWtsApi
    return [pscustomobject]@{ ConsoleSessionId = [SpawnGuard.Wts]::ActiveConsoleSessionId(); Sessions = [SpawnGuard.Wts]::Enumerate() }
}

function Invoke-SpawnGuardWtsLogoff {
    <#
    .SYNOPSIS
        WTSLogoffSession on one numeric session id (waiting for it to end); 0 or the Win32 error code.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][ValidateRange(1, 65535)][int]$SessionId)
    Initialize-SpawnGuardWtsApi
    return [int][SpawnGuard.Wts]::Logoff($SessionId)
}
