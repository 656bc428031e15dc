<#
.SYNOPSIS
    Shared safety, quarantine and output helpers for the spawnguard host scripts.

.DESCRIPTION
    The one place on the PowerShell side that knows what must never be terminated, quarantined or
    logged off. It mirrors common/protected.ts; a jest test parses both and checks they agree.
    It also holds what every script needs: request decoding, process snapshots from Win32_Process,
    the identity check that guards against PID reuse, Authenticode signer checks, hashing, the
    quarantine store, and the result document each script prints as its one JSON document.

    Windows PowerShell 3.0 compatible: no classes, enums, ::new(), ternaries or pipeline chains,
    no Get-FileHash (4.0); the test suite checks this over the parse tree.

.NOTES
    Exit codes used by every script (activities/host/runner.ts maps them):
      0 the request ran to completion (per-item statuses say what happened to each item)
      1 a failure that a retry may fix (a process did not stop, WMI failed, ...)
      2 the request is invalid (retrying cannot help)
      3 a protected target was named: nothing was done (the whole request is refused)
      4 access denied
#>

Set-StrictMode -Version 2.0
# A script's preference variables do not reach the functions of a module (they see the module's
# scope, then the global one), so the module sets its own: errors stop, nothing extra is printed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'

# ---------- the protected lists (mirror common/protected.ts) ----------

$script:SystemRoots = @('c:\windows\system32\', 'c:\windows\syswow64\', 'c:\windows\winsxs\')

# Critical OS processes: terminating one crashes or destabilizes the host. Matched by name AND system path.
$script:CriticalProcessNames = @(
    'system',
    'registry',
    'memcompression',
    'memory compression',
    'smss.exe',
    'csrss.exe',
    'wininit.exe',
    'winlogon.exe',
    'lsass.exe',
    'lsaiso.exe',
    'services.exe',
    'logonui.exe'
)

# Shared hosts whose death harms the machine or its users without removing the threat.
$script:SharedHostNames = @('services.exe', 'svchost.exe', 'explorer.exe', 'wmiprvse.exe', 'wsmprovhost.exe')

# PowerShell hosts: never stopped by path (the host worker runs its scripts with powershell.exe).
$script:PowerShellNames = @('powershell.exe', 'powershell_ise.exe', 'pwsh.exe')

$script:ServiceAccounts = @('system', 'local service', 'network service', 'localsystem', 'localservice', 'networkservice')
$script:ServiceAccountDomains = @('nt authority', 'nt service', 'window manager', 'font driver host')

# PIDs 0 (Idle) and 4 (System) are never valid targets.
$script:ProtectedProcessIds = @(0, 4)

# Microsoft signer subject names (OS binaries and Office alike); the same pattern as isMicrosoftSigner.
$script:MicrosoftSignerPattern = '^(cn=)?microsoft (windows|corporation|windows publisher|windows production pca|code signing pca)'

# Reasons that mean "refused because a target is protected" (exit code 3).
$script:ProtectedReasons = @('protected-pid', 'protected-process', 'shared-host', 'worker-process', 'powershell-by-path', 'powershell-host', 'service-account', 'worker-session')

# Error codes that note a partial collection (one source unreadable) without failing the run.
$script:PartialErrorPattern = '-unavailable$'

$script:RequestPattern = '^[A-Za-z0-9+/=]+$'

# A PID and the creation time from an alert may differ by event-timestamp rounding, never by more.
$script:IdentityToleranceSeconds = 2

# ---------- errors ----------

function New-SpawnGuardException {
    <#
    .SYNOPSIS
        An exception carrying a machine-readable spawnguard error code in its Data.
    #>
    [CmdletBinding()]
    [OutputType([System.Exception])]
    param(
        [Parameter(Mandatory = $true)][string]$Code,
        [Parameter(Mandatory = $true)][string]$Message
    )
    $exception = New-Object -TypeName System.InvalidOperationException -ArgumentList $Message
    $exception.Data['SpawnGuardCode'] = $Code
    return $exception
}

function Test-SpawnGuardAccessDenied {
    <#
    .SYNOPSIS
        True when an error record is an access-denied failure (Win32 error 5 or UnauthorizedAccess).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord)
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception) {
        if ($exception -is [System.UnauthorizedAccessException]) { return $true }
        if ($exception -is [System.ComponentModel.Win32Exception] -and $exception.NativeErrorCode -eq 5) { return $true }
        $exception = $exception.InnerException
    }
    return ($ErrorRecord.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::PermissionDenied)
}

function Get-SpawnGuardErrorCode {
    <#
    .SYNOPSIS
        The spawnguard code of a caught error: its own code, 'access-denied', or 'failure'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord)
    $exception = $ErrorRecord.Exception
    if ($null -ne $exception -and $exception.Data.Contains('SpawnGuardCode')) {
        return [string]$exception.Data['SpawnGuardCode']
    }
    if (Test-SpawnGuardAccessDenied -ErrorRecord $ErrorRecord) { return 'access-denied' }
    return 'failure'
}

# ---------- requests ----------

function ConvertFrom-SpawnGuardRequest {
    <#
    .SYNOPSIS
        Decodes a -Request argument (base64 of UTF-8 JSON) into an object; throws 'invalid-request'.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Request)
    if ($Request -notmatch $script:RequestPattern) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request must be base64 ([A-Za-z0-9+/=]).')
    }
    try {
        $bytes = [System.Convert]::FromBase64String($Request)
        # Strict UTF-8: invalid bytes throw instead of becoming U+FFFD.
        $text = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true).GetString($bytes)
        $decoded = ConvertFrom-Json -InputObject $text
    } catch {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Request is not base64 of UTF-8 JSON: ' + $_.Exception.Message))
    }
    if ($null -eq $decoded -or $decoded -is [System.Array] -or $decoded -is [string] -or $decoded -is [System.ValueType]) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request JSON must be an object.')
    }
    return $decoded
}

function Get-SpawnGuardRequestValue {
    <#
    .SYNOPSIS
        Reads one property of a decoded request, with a default when absent and a type check.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Request,
        [Parameter(Mandatory = $true)][string]$Name,
        [ValidateSet('string', 'bool', 'int', 'array', 'stringArray')][string]$Type = 'string',
        [object]$Default = $null,
        [switch]$Required,
        [int]$MaxLength = 32767,
        [int]$MaxCount = 64
    )
    $property = $Request.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) {
        if ($Required) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ("Request is missing '" + $Name + "'."))
        }
        if ($null -ne $Default -and ($Type -eq 'array' -or $Type -eq 'stringArray')) { return , [object[]]$Default }
        return $Default
    }
    $value = $property.Value
    $valid = $true
    switch ($Type) {
        'string' { $valid = ($value -is [string]) -and $value.Length -ge 1 -and $value.Length -le $MaxLength }
        'bool' { $valid = ($value -is [bool]) }
        'int' { $valid = ($value -is [int] -or $value -is [long]) -and $value -ge 0 -and $value -le 4294967295 }
        'array' { $valid = ($value -is [System.Array]) -and $value.Length -le $MaxCount }
        'stringArray' {
            $valid = ($value -is [System.Array]) -and $value.Length -le $MaxCount
            if ($valid) {
                foreach ($element in $value) {
                    if (-not ($element -is [string]) -or $element.Length -lt 1 -or $element.Length -gt $MaxLength) { $valid = $false }
                }
            }
        }
    }
    if (-not $valid) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ("Request field '" + $Name + "' is not a valid " + $Type + '.'))
    }
    if ($Type -eq 'array' -or $Type -eq 'stringArray') {
        # A JSON array of one element is still an array: the comma stops PowerShell unrolling it.
        return , $value
    }
    return $value
}

function ConvertTo-SpawnGuardHashtable {
    <#
    .SYNOPSIS
        A plain hashtable copy of $PSBoundParameters (a generic dictionary), for request helpers.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][System.Collections.IDictionary]$Dictionary)
    $copy = @{}
    foreach ($key in $Dictionary.Keys) { $copy[[string]$key] = $Dictionary[$key] }
    return $copy
}

function Split-SpawnGuardPathList {
    <#
    .SYNOPSIS
        Splits analyst input such as "C:\a\x.exe,D:\b,c\y.dll" into paths. A comma only separates
        two paths when a drive letter or a UNC prefix follows it (commas are legal in file names).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([AllowEmptyCollection()][string[]]$Text = @())
    $items = New-Object -TypeName System.Collections.ArrayList
    foreach ($chunk in $Text) {
        if ($null -eq $chunk) { continue }
        foreach ($piece in ($chunk -split ',(?=\s*"?(?:[A-Za-z]:\\|\\\\))')) {
            $item = $piece.Trim().Trim('"').Trim()
            if ($item.Length -gt 0) { [void]$items.Add($item) }
        }
    }
    return , [string[]]$items.ToArray()
}

function ConvertTo-SpawnGuardProcessTarget {
    <#
    .SYNOPSIS
        Parses analyst identifiers ("1234,0x4D2,C:\x\evil.exe") into process targets.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$ProcessIdentifiers)
    $targets = New-Object -TypeName System.Collections.ArrayList
    # A comma separates items when a PID, a hex PID or a path follows it; "C:\a,1\x.exe" stays one path.
    $separator = ',(?=\s*"?(?:(?:0[xX][0-9A-Fa-f]+|[0-9]+)\s*"?\s*(?:,|$)|[A-Za-z]:\\|\\\\))'
    foreach ($chunk in $ProcessIdentifiers) {
        if ($null -eq $chunk) { continue }
        foreach ($raw in ($chunk -split $separator)) {
            $item = $raw.Trim().Trim('"').Trim()
            if ($item.Length -eq 0) { continue }
            $target = [pscustomobject]@{ target = $item; pid = $null; imagePath = $null; startTime = $null; name = $null; byPath = $false }
            if ($item -match '^0[xX][0-9A-Fa-f]{1,8}$') {
                $target.pid = [int64][System.Convert]::ToUInt32($item.Substring(2), 16)
            } elseif ($item -match '^[0-9]{1,10}$') {
                $target.pid = [int64]$item
                if ($target.pid -gt 4294967295) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a process id: ' + $item))
                }
            } elseif (Test-SpawnGuardAbsolutePath -Path $item) {
                $target.imagePath = $item
                $target.byPath = $true
            } else {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a PID, hex PID or full path: ' + $item))
            }
            [void]$targets.Add($target)
        }
    }
    if ($targets.Count -eq 0 -or $targets.Count -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 64 process identifiers.')
    }
    return , $targets.ToArray()
}

function ConvertFrom-SpawnGuardTargetRequest {
    <#
    .SYNOPSIS
        Validates the 'targets' array of a StopProcess / StopAndQuarantineProcess request.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Request)
    $items = Get-SpawnGuardRequestValue -Request $Request -Name 'targets' -Type 'array' -Required
    if ($items.Length -lt 1) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request needs at least one target.')
    }
    $targets = New-Object -TypeName System.Collections.ArrayList
    foreach ($item in $items) {
        if ($null -eq $item -or $item -is [string] -or $item -is [System.ValueType] -or $item -is [System.Array]) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Each target must be an object.')
        }
        $processId = Get-SpawnGuardRequestValue -Request $item -Name 'pid' -Type 'int' -Required
        $imagePath = Get-SpawnGuardRequestValue -Request $item -Name 'imagePath'
        if ($null -ne $imagePath -and -not (Test-SpawnGuardAbsolutePath -Path $imagePath)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Target imagePath is not a full path: ' + $imagePath))
        }
        $startTime = Get-SpawnGuardRequestValue -Request $item -Name 'startTime' -MaxLength 64
        if ($null -ne $startTime) {
            # Parsed now so a bad time is an invalid request, not a failure halfway through.
            $null = ConvertFrom-SpawnGuardIsoDate -Text $startTime
        }
        [void]$targets.Add([pscustomobject]@{
                target    = [string]$processId
                pid       = [int64]$processId
                imagePath = $imagePath
                startTime = $startTime
                name      = Get-SpawnGuardRequestValue -Request $item -Name 'name' -MaxLength 260
                byPath    = $false
            })
    }
    return , $targets.ToArray()
}

function Split-SpawnGuardUserName {
    <#
    .SYNOPSIS
        Splits "CONTOSO\bob", "bob@contoso.com" or "alice" into name and domain.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$UserName)
    $text = $UserName.Trim()
    if ($text.Contains('\')) {
        $index = $text.IndexOf('\')
        return [pscustomobject]@{ name = $text.Substring($index + 1); domain = $text.Substring(0, $index) }
    }
    if ($text.Contains('@')) {
        $index = $text.LastIndexOf('@')
        return [pscustomobject]@{ name = $text.Substring(0, $index); domain = $text.Substring($index + 1) }
    }
    return [pscustomobject]@{ name = $text; domain = $null }
}

# ---------- names and paths ----------

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
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    if ($normalized.Length -eq 0) { return $false }
    $roots = New-Object -TypeName System.Collections.ArrayList
    foreach ($root in $script:SystemRoots) { [void]$roots.Add($root) }
    if (-not [string]::IsNullOrEmpty($env:SystemRoot)) {
        $windows = (ConvertTo-SpawnGuardNormalizedPath -Path $env:SystemRoot).TrimEnd('\')
        foreach ($leaf in @('system32', 'syswow64', 'winsxs')) { [void]$roots.Add($windows + '\' + $leaf + '\') }
    }
    foreach ($root in $roots) {
        if ($normalized.StartsWith($root)) { return $true }
    }
    return $false
}

# System binaries and where they belong (mirrors SYSTEM_BINARIES in workflows/decision/rules.ts;
# a jest test checks the two agree). A system name elsewhere is "System File Execution Location
# Anomaly" (T1036).
$script:SystemBinaryStems = @(
    'svchost', 'lsass', 'lsaiso', 'csrss', 'services', 'smss', 'winlogon', 'wininit', 'logonui',
    'userinit', 'autochk', 'dwm', 'fontdrvhost', 'consent', 'runtimebroker', 'tiworker',
    'searchindexer', 'searchprotocolhost', 'dllhost', 'spoolsv', 'taskhost', 'taskhostw', 'wmiprvse',
    'wsmprovhost', 'winrshost', 'conhost', 'sihost', 'ctfmon', 'taskmgr', 'audiodg', 'smartscreen',
    'lsm', 'explorer', 'rundll32', 'regsvr32', 'powershell', 'powershell_ise', 'cmd', 'cscript',
    'wscript', 'mshta', 'certutil', 'bitsadmin', 'schtasks', 'wmic', 'msiexec', 'cmstp'
)

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

# ---------- dates ----------

function ConvertTo-SpawnGuardIsoDate {
    <#
    .SYNOPSIS
        ISO-8601 (round-trip, UTC) text of a date or a WMI DMTF date string, or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][object]$Date)
    if ($null -eq $Date) { return $null }
    if ($Date -is [string]) {
        if ($Date.Length -eq 0) { return $null }
        $Date = [System.Management.ManagementDateTimeConverter]::ToDateTime($Date)
    }
    return ([datetime]$Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertFrom-SpawnGuardIsoDate {
    <#
    .SYNOPSIS
        Parses an ISO-8601 time (UTC when it has no offset); throws 'invalid-request'.
    #>
    [CmdletBinding()]
    [OutputType([datetime])]
    param([Parameter(Mandatory = $true)][string]$Text)
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $parsed = [datetime]::MinValue
    if (-not [datetime]::TryParse($Text, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not an ISO-8601 time: ' + $Text))
    }
    return $parsed
}

# ---------- processes ----------

function ConvertTo-SpawnGuardProcessRecord {
    <#
    .SYNOPSIS
        A plain record of one Win32_Process instance (CIM or WMI), creation date as a DateTime.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][object]$Process)
    $created = $null
    if ($null -ne $Process.CreationDate) {
        if ($Process.CreationDate -is [string]) {
            if ($Process.CreationDate.Length -gt 0) {
                $created = [System.Management.ManagementDateTimeConverter]::ToDateTime($Process.CreationDate)
            }
        } else {
            $created = [datetime]$Process.CreationDate
        }
    }
    return [pscustomobject]@{
        ProcessId       = [int64]$Process.ProcessId
        ParentProcessId = [int64]$Process.ParentProcessId
        Name            = [string]$Process.Name
        ExecutablePath  = [string]$Process.ExecutablePath
        CommandLine     = [string]$Process.CommandLine
        CreationDate    = $created
        SessionId       = [int64]$Process.SessionId
        Source          = $Process
    }
}

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

function Get-SpawnGuardProcessSnapshot {
    <#
    .SYNOPSIS
        Every process from Win32_Process as plain records.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $snapshot = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in (Get-SpawnGuardWin32Process)) {
        [void]$snapshot.Add((ConvertTo-SpawnGuardProcessRecord -Process $process))
    }
    return , $snapshot.ToArray()
}

function Get-SpawnGuardLiveProcess {
    <#
    .SYNOPSIS
        The current record of one PID (re-read now, not from a snapshot), or $null when it is gone.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][int64]$ProcessId)
    foreach ($process in (Get-SpawnGuardWin32Process -ProcessId $ProcessId)) {
        if ([int64]$process.ProcessId -eq $ProcessId) { return (ConvertTo-SpawnGuardProcessRecord -Process $process) }
    }
    return $null
}

function Find-SpawnGuardProcess {
    <#
    .SYNOPSIS
        The snapshot record of a PID, or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    foreach ($process in $Snapshot) {
        if ($process.ProcessId -eq $ProcessId) { return $process }
    }
    return $null
}

function Find-SpawnGuardProcessByPath {
    <#
    .SYNOPSIS
        Every snapshot record whose image is the given path (compared normalized).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][string]$Path)
    $wanted = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    $found = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in $Snapshot) {
        if ((ConvertTo-SpawnGuardNormalizedPath -Path $process.ExecutablePath) -eq $wanted) { [void]$found.Add($process) }
    }
    return , $found.ToArray()
}

function Get-SpawnGuardParentChain {
    <#
    .SYNOPSIS
        The ancestors of a process, nearest first. A parent started after its child is a reused PID
        (the real parent exited), so the walk stops there.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    $chain = New-Object -TypeName System.Collections.ArrayList
    $current = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $ProcessId
    $seen = @{}
    while ($null -ne $current -and $chain.Count -lt 64) {
        $seen[$current.ProcessId] = $true
        $parentId = $current.ParentProcessId
        if ($parentId -eq $current.ProcessId -or $seen.ContainsKey($parentId)) { break }
        $parent = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $parentId
        if ($null -eq $parent) { break }
        if ($null -ne $parent.CreationDate -and $null -ne $current.CreationDate -and $parent.CreationDate -gt $current.CreationDate) { break }
        [void]$chain.Add($parent)
        $current = $parent
    }
    return , $chain.ToArray()
}

function Get-SpawnGuardDescendant {
    <#
    .SYNOPSIS
        Every descendant of a process, breadth first. A "child" started before its parent is an
        orphan whose parent PID was reused, so it is not part of the tree.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    $result = New-Object -TypeName System.Collections.ArrayList
    $queue = New-Object -TypeName System.Collections.Queue
    $root = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $ProcessId
    if ($null -eq $root) { return , $result.ToArray() }
    $queue.Enqueue($root)
    $seen = @{}
    $seen[$root.ProcessId] = $true
    while ($queue.Count -gt 0 -and $result.Count -lt 1024) {
        $parent = $queue.Dequeue()
        foreach ($candidate in $Snapshot) {
            if ($candidate.ParentProcessId -ne $parent.ProcessId -or $seen.ContainsKey($candidate.ProcessId)) { continue }
            if ($null -ne $candidate.CreationDate -and $null -ne $parent.CreationDate -and $candidate.CreationDate -lt $parent.CreationDate) { continue }
            $seen[$candidate.ProcessId] = $true
            [void]$result.Add($candidate)
            $queue.Enqueue($candidate)
        }
    }
    return , $result.ToArray()
}

function Get-SpawnGuardWorkerProcess {
    <#
    .SYNOPSIS
        This PowerShell process and its parent chain (the host worker, its service wrapper, ...).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    $chain = New-Object -TypeName System.Collections.ArrayList
    $self = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $PID
    if ($null -ne $self) { [void]$chain.Add($self) }
    foreach ($ancestor in (Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $PID)) { [void]$chain.Add($ancestor) }
    return , $chain.ToArray()
}

function Get-SpawnGuardWorkerProcessId {
    <#
    .SYNOPSIS
        The PIDs of this PowerShell process and its parent chain (never valid targets).
    #>
    [CmdletBinding()]
    [OutputType([int64])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    $ids = New-Object -TypeName System.Collections.ArrayList
    [void]$ids.Add([int64]$PID)
    foreach ($ancestor in (Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $PID)) {
        [void]$ids.Add([int64]$ancestor.ProcessId)
    }
    return , [int64[]]$ids.ToArray()
}

function Test-SpawnGuardServiceHostedSvchost {
    <#
    .SYNOPSIS
        True for a genuine svchost.exe started by the genuine services.exe: a service host whose
        death can take the machine's services down. (A System32 svchost.exe started by anything
        else, such as a hollowed child of an Office application, is not one.)
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Process, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    if ((Get-SpawnGuardProcessName -Name $Process.Name -Path $Process.ExecutablePath) -ne 'svchost.exe') { return $false }
    if (-not [string]::IsNullOrEmpty($Process.ExecutablePath) -and -not (Test-SpawnGuardSystemPath -Path $Process.ExecutablePath)) { return $false }
    $chain = Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $Process.ProcessId
    if ($chain.Length -eq 0) { return $false }
    $parent = $chain[0]
    return ((Get-SpawnGuardProcessName -Name $parent.Name -Path $parent.ExecutablePath) -eq 'services.exe' -and
        (Test-SpawnGuardCriticalProcess -ProcessId $parent.ProcessId -Name $parent.Name -Path $parent.ExecutablePath))
}

function Get-SpawnGuardProtectionReason {
    <#
    .SYNOPSIS
        Why a running process must not be terminated, or $null when it may be.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Process,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot
    )
    if ($script:ProtectedProcessIds -contains $Process.ProcessId) { return 'protected-pid' }
    if ($WorkerProcessIds -contains $Process.ProcessId) { return 'worker-process' }
    if (Test-SpawnGuardCriticalProcess -ProcessId $Process.ProcessId -Name $Process.Name -Path $Process.ExecutablePath) { return 'protected-process' }
    if (Test-SpawnGuardServiceHostedSvchost -Process $Process -Snapshot $Snapshot) { return 'shared-host' }
    # Explorer, WMI and WinRM hosts in their genuine place serve the whole host. A genuine-path
    # svchost is judged by its parent above: one not started by services.exe is a hollowed copy.
    $imageName = Get-SpawnGuardProcessName -Name $Process.Name -Path $Process.ExecutablePath
    if ($imageName -ne 'svchost.exe' -and (Test-SpawnGuardSharedHost -Name $Process.Name -Path $Process.ExecutablePath)) { return 'shared-host' }
    return $null
}

function Test-SpawnGuardProcessIdentity {
    <#
    .SYNOPSIS
        Checks a live process against the image path and start time the alert named (PID reuse
        guard). Returns $null when it matches, else 'pid-reused' or 'identity-unverified'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Process,
        [AllowNull()][AllowEmptyString()][string]$ExpectedImagePath,
        [AllowNull()][AllowEmptyString()][string]$ExpectedStartTime
    )
    if (-not [string]::IsNullOrEmpty($ExpectedImagePath)) {
        if ([string]::IsNullOrEmpty($Process.ExecutablePath)) { return 'identity-unverified' }
        $expected = ConvertTo-SpawnGuardNormalizedPath -Path $ExpectedImagePath
        $actual = ConvertTo-SpawnGuardNormalizedPath -Path $Process.ExecutablePath
        if ($expected -ne $actual) { return 'pid-reused' }
    }
    if (-not [string]::IsNullOrEmpty($ExpectedStartTime)) {
        if ($null -eq $Process.CreationDate) { return 'identity-unverified' }
        $expectedTime = ConvertFrom-SpawnGuardIsoDate -Text $ExpectedStartTime
        $difference = [math]::Abs(($Process.CreationDate.ToUniversalTime() - $expectedTime).TotalSeconds)
        if ($difference -gt $script:IdentityToleranceSeconds) { return 'pid-reused' }
    }
    return $null
}

function Test-SpawnGuardSameProcess {
    <#
    .SYNOPSIS
        True when two records describe the same process instance (same PID, image and creation time).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Expected, [Parameter(Mandatory = $true)][psobject]$Actual)
    if ($Expected.ProcessId -ne $Actual.ProcessId) { return $false }
    if ((ConvertTo-SpawnGuardNormalizedPath -Path $Expected.ExecutablePath) -ne (ConvertTo-SpawnGuardNormalizedPath -Path $Actual.ExecutablePath)) { return $false }
    if ($null -eq $Expected.CreationDate -or $null -eq $Actual.CreationDate) { return ($null -eq $Expected.CreationDate -and $null -eq $Actual.CreationDate) }
    return ([math]::Abs(($Expected.CreationDate - $Actual.CreationDate).TotalSeconds) -lt 1)
}

function Stop-SpawnGuardProcessInstance {
    <#
    .SYNOPSIS
        Terminates one process instance, re-checking right before that its PID still belongs to the
        instance seen in the snapshot, and waits for it to exit.
        Returns 'done', 'already-done' (gone, or its PID now belongs to another process) or
        'skipped' (-WhatIf); throws on failure.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Process, [int]$WaitMilliseconds = 10000)
    $live = Get-SpawnGuardLiveProcess -ProcessId $Process.ProcessId
    if ($null -eq $live -or -not (Test-SpawnGuardSameProcess -Expected $Process -Actual $live)) { return 'already-done' }
    if (-not $PSCmdlet.ShouldProcess(([string]$Process.ProcessId + ' (' + $Process.Name + ')'), 'Stop-Process')) { return 'skipped' }
    try {
        Stop-Process -Id $Process.ProcessId -Force -ErrorAction Stop
    } catch {
        if ($null -eq (Get-Process -Id $Process.ProcessId -ErrorAction SilentlyContinue)) { return 'already-done' }
        throw
    }
    $deadline = (Get-Date).AddMilliseconds($WaitMilliseconds)
    while ($null -ne (Get-Process -Id $Process.ProcessId -ErrorAction SilentlyContinue)) {
        if ((Get-Date) -gt $deadline) {
            throw (New-SpawnGuardException -Code 'still-running' -Message ('Process ' + $Process.ProcessId + ' did not exit.'))
        }
        Start-Sleep -Milliseconds 250
    }
    return 'done'
}

function Resolve-SpawnGuardProcessTarget {
    <#
    .SYNOPSIS
        Turns one requested target into a plan: the live processes to act on, or why nothing is done.
        Refusal (a protected target) is separate from skipping: a refusal stops the whole request.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Target,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [switch]$ForQuarantine
    )
    $plan = [pscustomobject]@{
        Target    = $Target
        Processes = @()
        ImagePath = $Target.imagePath
        Name      = $Target.name
        ProcessId = $Target.pid
        Refusal   = $null
        Status    = $null
        Reason    = $null
        Message   = $null
    }
    if ($Target.byPath) {
        $plan.Name = Get-SpawnGuardBaseName -Path $Target.imagePath
        if (Test-SpawnGuardPowerShellHost -Path $Target.imagePath) {
            # Stopping every powershell.exe would stop the host worker's own scripts.
            $plan.Refusal = 'powershell-by-path'
            $plan.Message = 'PowerShell is never stopped by path: that would stop the host worker.'
            return $plan
        }
        if (Test-SpawnGuardCriticalProcess -Path $Target.imagePath) {
            $plan.Refusal = 'protected-process'
            $plan.Message = 'A critical Windows process image.'
            return $plan
        }
        $matched = Find-SpawnGuardProcessByPath -Snapshot $Snapshot -Path $Target.imagePath
        foreach ($process in $matched) {
            $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
            if ($null -ne $reason) {
                $plan.Refusal = $reason
                $plan.Message = 'Process ' + $process.ProcessId + ' running this image is protected.'
                return $plan
            }
        }
        $plan.Processes = $matched
        if ($matched.Length -eq 1) { $plan.ProcessId = $matched[0].ProcessId }
        if ($matched.Length -eq 0) {
            $plan.Status = 'already-done'
            $plan.Reason = 'not-running'
            $plan.Message = 'No process is running this image.'
        }
        return $plan
    }

    if ($script:ProtectedProcessIds -contains $Target.pid) {
        $plan.Refusal = 'protected-pid'
        $plan.Message = 'PID ' + $Target.pid + ' belongs to the kernel.'
        return $plan
    }
    if ($WorkerProcessIds -contains $Target.pid) {
        $plan.Refusal = 'worker-process'
        $plan.Message = 'The host worker itself or its parent chain.'
        return $plan
    }
    # The request's own description is checked too (as the TypeScript side does): a request that
    # names lsass.exe in System32 is refused whatever the PID now holds.
    if ((-not [string]::IsNullOrEmpty($Target.name) -or -not [string]::IsNullOrEmpty($Target.imagePath)) -and
        (Test-SpawnGuardCriticalProcess -Name $Target.name -Path $Target.imagePath)) {
        $plan.Refusal = 'protected-process'
        $plan.Message = 'The request names a critical Windows process.'
        return $plan
    }
    if ($ForQuarantine -and (Test-SpawnGuardPowerShellHost -Name $Target.name -Path $Target.imagePath)) {
        $plan.Refusal = 'powershell-host'
        $plan.Message = 'The PowerShell image is never quarantined: the host worker runs its scripts with it.'
        return $plan
    }
    $process = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $Target.pid
    if ($null -eq $process) {
        $plan.Status = 'already-done'
        $plan.Reason = 'not-found'
        $plan.Message = 'No process has this PID: it has already exited.'
        return $plan
    }
    $plan.Name = $process.Name
    $identity = Test-SpawnGuardProcessIdentity -Process $process -ExpectedImagePath $Target.imagePath -ExpectedStartTime $Target.startTime
    if ($null -ne $identity) {
        $plan.Status = 'skipped'
        $plan.Reason = $identity
        $plan.ImagePath = $process.ExecutablePath
        if ($identity -eq 'pid-reused') {
            $plan.Message = 'PID ' + $Target.pid + ' now belongs to another process (' + $process.ExecutablePath + '); the alerted process has exited. Nothing was done.'
        } else {
            $plan.Message = 'The image path or start time of PID ' + $Target.pid + ' cannot be read, so its identity cannot be checked. Nothing was done.'
        }
        return $plan
    }
    $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
    if ($null -ne $reason) {
        $plan.Refusal = $reason
        $plan.Message = 'Process ' + $process.ProcessId + ' (' + $process.Name + ') is protected.'
        return $plan
    }
    if ($ForQuarantine -and (Test-SpawnGuardPowerShellHost -Name $process.Name -Path $process.ExecutablePath)) {
        $plan.Refusal = 'powershell-host'
        $plan.Message = 'The PowerShell image is never quarantined: the host worker runs its scripts with it.'
        return $plan
    }
    $plan.Processes = @($process)
    $plan.ImagePath = $process.ExecutablePath
    return $plan
}

function Stop-SpawnGuardProcessTree {
    <#
    .SYNOPSIS
        Terminates the given processes and, optionally, their descendants; protected descendants
        are left alone. Returns what was terminated, what was already gone and what failed.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Processes,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [switch]$IncludeDescendants
    )
    $outcome = [pscustomobject]@{
        RootStatus        = 'already-done'
        TerminatedPids    = New-Object -TypeName System.Collections.ArrayList
        Failures          = New-Object -TypeName System.Collections.ArrayList
        LeftAlone         = New-Object -TypeName System.Collections.ArrayList
        WhatIf            = $false
    }
    $visited = @{}
    # Processes this call terminated, by PID: the parents whose late children the second pass stops.
    $stopped = @{}
    $queue = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in $Processes) { [void]$queue.Add([pscustomobject]@{ Process = $process; IsRoot = $true }) }
    if ($IncludeDescendants) {
        foreach ($process in $Processes) {
            foreach ($descendant in (Get-SpawnGuardDescendant -Snapshot $Snapshot -ProcessId $process.ProcessId)) {
                [void]$queue.Add([pscustomobject]@{ Process = $descendant; IsRoot = $false })
            }
        }
    }
    # Roots first so they cannot start new children while the tree is being stopped; a second
    # pass below catches children started in between.
    for ($pass = 0; $pass -lt 2; $pass++) {
        foreach ($entry in $queue) {
            $process = $entry.Process
            if ($visited.ContainsKey($process.ProcessId)) { continue }
            $visited[$process.ProcessId] = $true
            if (-not $entry.IsRoot) {
                $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
                if ($null -ne $reason) {
                    [void]$outcome.LeftAlone.Add(([string]$process.ProcessId + ' (' + $process.Name + '): ' + $reason))
                    continue
                }
            }
            try {
                $status = Stop-SpawnGuardProcessInstance -Process $process
                if ($status -eq 'done') {
                    $stopped[$process.ProcessId] = $process
                    [void]$outcome.TerminatedPids.Add([int64]$process.ProcessId)
                    if ($entry.IsRoot) { $outcome.RootStatus = 'done' }
                } elseif ($status -eq 'skipped') {
                    $outcome.WhatIf = $true
                }
            } catch {
                [void]$outcome.Failures.Add([pscustomobject]@{
                        ProcessId = [int64]$process.ProcessId
                        IsRoot    = $entry.IsRoot
                        Code      = Get-SpawnGuardErrorCode -ErrorRecord $_
                        Message   = $_.Exception.Message
                    })
            }
        }
        if (-not $IncludeDescendants -or $outcome.TerminatedPids.Count -eq 0) { break }
        $queue = New-Object -TypeName System.Collections.ArrayList
        $fresh = Get-SpawnGuardProcessSnapshot
        foreach ($candidate in $fresh) {
            if ($visited.ContainsKey($candidate.ProcessId) -or -not $stopped.ContainsKey($candidate.ParentProcessId)) { continue }
            $parent = $stopped[$candidate.ParentProcessId]
            if ($null -ne $candidate.CreationDate -and $null -ne $parent.CreationDate -and $candidate.CreationDate -lt $parent.CreationDate) { continue }
            [void]$queue.Add([pscustomobject]@{ Process = $candidate; IsRoot = $false })
        }
        $Snapshot = $fresh
    }
    return $outcome
}

function New-SpawnGuardProcessActionResult {
    <#
    .SYNOPSIS
        One ProcessActionResult (common/host-contract.ts) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Plan,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message,
        [AllowEmptyCollection()][int64[]]$TerminatedPids = @(),
        [AllowNull()][object]$Quarantine
    )
    $processId = $null
    if ($null -ne $Plan.ProcessId) { $processId = [int64]$Plan.ProcessId }
    $name = $null
    if (-not [string]::IsNullOrEmpty($Plan.Name)) { $name = [string]$Plan.Name }
    $imagePath = $null
    if (-not [string]::IsNullOrEmpty($Plan.ImagePath)) { $imagePath = [string]$Plan.ImagePath }
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    return [ordered]@{
        target         = [string]$Plan.Target.target
        pid            = $processId
        name           = $name
        imagePath      = $imagePath
        status         = $Status
        reason         = $reasonValue
        message        = $messageValue
        terminatedPids = [object[]]$TerminatedPids
        quarantine     = $Quarantine
    }
}

function Test-SpawnGuardRefusedPlan {
    <#
    .SYNOPSIS
        True when any plan names a protected target (the whole request is then refused).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Plans)
    foreach ($plan in $Plans) {
        if ($null -ne $plan.Refusal) { return $true }
    }
    return $false
}

function Add-SpawnGuardRefusedPlan {
    <#
    .SYNOPSIS
        Reports a refused request: each protected target with its reason, every other target as
        not attempted. Nothing was done to any of them (as the TypeScript side refuses it whole).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Plans)
    foreach ($plan in $Plans) {
        if ($null -ne $plan.Refusal) {
            $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'skipped' -Reason $plan.Refusal -Message $plan.Message
            # The runner reports a failed script by its errors: say there which target was refused and why.
            Add-SpawnGuardError -Result $Result -Code $plan.Refusal -Message ('Target ' + $plan.Target.target + ': ' + $plan.Message)
        } else {
            $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'skipped' -Reason 'request-refused' -Message 'Not attempted: another target in this request is protected, so the whole request was refused.'
        }
        Add-SpawnGuardResultItem -Result $Result -Item $item
    }
}

function Get-SpawnGuardTreeOutcomeSummary {
    <#
    .SYNOPSIS
        Status, reason and message of a process action from a Stop-SpawnGuardProcessTree outcome.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Outcome)
    $notes = New-Object -TypeName System.Collections.ArrayList
    $status = $Outcome.RootStatus
    $reason = $null
    if ($Outcome.TerminatedPids.Count -gt 0) { [void]$notes.Add('Terminated PIDs ' + ($Outcome.TerminatedPids -join ', ') + '.') }
    if ($status -eq 'already-done' -and $Outcome.Failures.Count -eq 0) { [void]$notes.Add('The process had already exited.') }
    if ($Outcome.LeftAlone.Count -gt 0) { [void]$notes.Add('Protected descendants left alone: ' + ($Outcome.LeftAlone -join '; ') + '.') }
    if ($Outcome.WhatIf) {
        $status = 'skipped'
        $reason = 'what-if'
    }
    foreach ($failure in $Outcome.Failures) {
        [void]$notes.Add('PID ' + $failure.ProcessId + ': ' + $failure.Message)
        $status = 'failed'
        if ($null -eq $reason -or $failure.IsRoot) {
            $reason = $failure.Code
            if (-not $failure.IsRoot -and $failure.Code -ne 'access-denied') { $reason = 'descendant-' + $failure.Code }
        }
    }
    return [pscustomobject]@{ Status = $status; Reason = $reason; Message = ($notes -join ' ') }
}

# ---------- files ----------

function Get-SpawnGuardFileHash {
    <#
    .SYNOPSIS
        Lower-case hex SHA-256 (or SHA-1) of a file, read with sharing so locked images still hash.
        (Get-FileHash needs PowerShell 4.0.)
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [ValidateSet('SHA256', 'SHA1')][string]$Algorithm = 'SHA256')
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $LiteralPath, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share
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
        True for a Microsoft signer subject (the same pattern as isMicrosoftSigner in common/protected.ts).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Signer)
    if ([string]::IsNullOrEmpty($Signer)) { return $false }
    return ($Signer.Trim() -match $script:MicrosoftSignerPattern)
}

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
        return (Get-AuthenticodeSignature -LiteralPath $LiteralPath -ErrorAction Stop)
    }
    $escaped = [System.Management.Automation.WildcardPattern]::Escape($LiteralPath)
    return (Get-AuthenticodeSignature -FilePath $escaped -ErrorAction Stop)
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
    $isMicrosoft = ($status -eq 'valid') -and (Test-SpawnGuardMicrosoftSigner -Signer $signer)
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

function Get-SpawnGuardVersionInfo {
    <#
    .SYNOPSIS
        OriginalFilename, CompanyName, ProductName and FileVersion from a file's version resource.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $info = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($LiteralPath)
    $fields = [ordered]@{ originalFilename = $null; companyName = $null; productName = $null; fileVersion = $null }
    if (-not [string]::IsNullOrEmpty($info.OriginalFilename)) { $fields.originalFilename = $info.OriginalFilename.Trim() }
    if (-not [string]::IsNullOrEmpty($info.CompanyName)) { $fields.companyName = $info.CompanyName.Trim() }
    if (-not [string]::IsNullOrEmpty($info.ProductName)) { $fields.productName = $info.ProductName.Trim() }
    if (-not [string]::IsNullOrEmpty($info.FileVersion)) { $fields.fileVersion = $info.FileVersion.Trim() }
    return $fields
}

function Set-SpawnGuardRestrictedAcl {
    <#
    .SYNOPSIS
        Reduces a file or folder's ACL to Administrators and SYSTEM (full control), inheritance off.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $item = Get-Item -LiteralPath $LiteralPath -Force -ErrorAction Stop
    if ($item.PSIsContainer) {
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
        if ($item.PSIsContainer) {
            [System.IO.Directory]::SetAccessControl($item.FullName, $acl)
        } else {
            [System.IO.File]::SetAccessControl($item.FullName, $acl)
        }
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
        $security = [System.IO.File]::GetAccessControl($LiteralPath, [System.Security.AccessControl.AccessControlSections]::Access)
        return $security.GetSecurityDescriptorSddlForm([System.Security.AccessControl.AccessControlSections]::Access)
    } catch {
        return $null
    }
}

# ---------- the quarantine store ----------

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
    return (Join-Path -Path $programData -ChildPath 'spawnguard\quarantine')
}

function Initialize-SpawnGuardQuarantineDirectory {
    <#
    .SYNOPSIS
        Creates the quarantine folder when missing and restricts it to Administrators and SYSTEM.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-Path -LiteralPath $LiteralPath -PathType Container)) {
        if ($PSCmdlet.ShouldProcess($LiteralPath, 'Create quarantine directory')) {
            # .NET rather than New-Item: the path is taken literally, wildcard characters included.
            $null = [System.IO.Directory]::CreateDirectory($LiteralPath)
        }
    }
    if (Test-Path -LiteralPath $LiteralPath -PathType Container) {
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
    return (Join-Path -Path $Directory -ChildPath ($Hash.ToLowerInvariant() + '.quarantine'))
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
    return (Join-Path -Path $Directory -ChildPath ($Hash.ToLowerInvariant() + $suffix))
}

function Read-SpawnGuardQuarantineManifest {
    <#
    .SYNOPSIS
        A manifest file as an object with an 'entries' array, or $null when there is none.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-Path -LiteralPath $LiteralPath -PathType Leaf)) { return $null }
    $text = [System.IO.File]::ReadAllText($LiteralPath, [System.Text.Encoding]::UTF8)
    $manifest = ConvertFrom-Json -InputObject $text
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
    [System.IO.File]::WriteAllText($temporary, $json, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false))
    if (Test-Path -LiteralPath $LiteralPath -PathType Leaf) {
        [System.IO.File]::Replace($temporary, $LiteralPath, $null)
    } else {
        [System.IO.File]::Move($temporary, $LiteralPath)
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
    if (-not (Test-Path -LiteralPath $Directory -PathType Container)) { return $null }
    $wanted = ConvertTo-SpawnGuardNormalizedPath -Path $OriginalPath
    foreach ($file in (Get-ChildItem -LiteralPath $Directory -Filter '*.json' -Force -ErrorAction Stop)) {
        if ($file.Name -notmatch '^[0-9a-f]{64}\.json$') { continue }
        try {
            $manifest = Read-SpawnGuardQuarantineManifest -LiteralPath $file.FullName
        } catch {
            # One unreadable manifest must not block every later quarantine.
            continue
        }
        if ($null -eq $manifest -or -not (Test-Path -LiteralPath $manifest.quarantinePath -PathType Leaf)) { continue }
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
    $size = (Get-Item -LiteralPath $LiteralPath -Force -ErrorAction Stop).Length
    $originalSddl = Get-SpawnGuardAccessSddl -LiteralPath $LiteralPath
    $quarantinePath = Get-SpawnGuardQuarantinePath -Directory $Directory -Hash $sha256Before
    $manifestPath = Get-SpawnGuardManifestPath -Directory $Directory -Hash $sha256Before
    if (-not $PSCmdlet.ShouldProcess($LiteralPath, ('Move to ' + $quarantinePath))) { return $null }
    Initialize-SpawnGuardQuarantineDirectory -LiteralPath $Directory

    if (Test-Path -LiteralPath $quarantinePath -PathType Leaf) {
        # The same content is already quarantined (from another path or incident): one copy is kept.
        if ((Get-SpawnGuardFileHash -LiteralPath $quarantinePath) -ne $sha256Before) {
            throw (New-SpawnGuardException -Code 'quarantine-corrupt' -Message ('Quarantined copy ' + $quarantinePath + ' no longer matches its name.'))
        }
        Remove-Item -LiteralPath $LiteralPath -Force -ErrorAction Stop
    } else {
        $moved = $false
        for ($attempt = 1; -not $moved; $attempt++) {
            try {
                # .NET rather than Move-Item: both paths are taken literally ("invoice[1].exe").
                [System.IO.File]::Move($LiteralPath, $quarantinePath)
                $moved = $true
            } catch {
                # A move across volumes is copy + delete: never leave a half-moved copy behind.
                if ((Test-Path -LiteralPath $LiteralPath -PathType Leaf) -and (Test-Path -LiteralPath $quarantinePath -PathType Leaf)) {
                    Remove-Item -LiteralPath $quarantinePath -Force -ErrorAction SilentlyContinue
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

# ---------- sessions (WTS API; never quser, whose output is localized) ----------

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

# WTS_CONNECTSTATE_CLASS values, as reported in results.
$script:WtsStates = @('active', 'connected', 'connect-query', 'shadow', 'disconnected', 'idle', 'listen', 'reset', 'down', 'init')

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

function Get-SpawnGuardSession {
    <#
    .SYNOPSIS
        Every session on this machine from WTSEnumerateSessions / WTSQuerySessionInformation:
        numeric id, user, domain, state, type (console, rdp, other) and client-reported address.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    Initialize-SpawnGuardWtsApi
    $consoleId = [SpawnGuard.Wts]::ActiveConsoleSessionId()
    $sessions = New-Object -TypeName System.Collections.ArrayList
    foreach ($raw in [SpawnGuard.Wts]::Enumerate()) {
        $state = 'unknown'
        if ($raw.State -ge 0 -and $raw.State -lt $script:WtsStates.Length) { $state = $script:WtsStates[$raw.State] }
        $type = 'other'
        if ($raw.SessionId -eq $consoleId -or $raw.WinStationName -eq 'Console') {
            $type = 'console'
        } elseif ($raw.ProtocolType -eq 2 -or ([string]$raw.WinStationName) -like 'RDP-*') {
            $type = 'rdp'
        }
        [void]$sessions.Add([pscustomobject]@{
                SessionId     = [int]$raw.SessionId
                UserName      = [string]$raw.UserName
                DomainName    = [string]$raw.DomainName
                State         = $state
                SessionType   = $type
                ClientAddress = $raw.ClientAddress
            })
    }
    return , $sessions.ToArray()
}

function Stop-SpawnGuardSession {
    <#
    .SYNOPSIS
        Logs one session off with WTSLogoffSession (waiting for it to end). Takes only a numeric
        session id; returns 0 or the Win32 error code.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][ValidateRange(1, 65535)][int]$SessionId)
    Initialize-SpawnGuardWtsApi
    if (-not $PSCmdlet.ShouldProcess(('session ' + $SessionId), 'WTSLogoffSession')) { return 0 }
    return [SpawnGuard.Wts]::Logoff($SessionId)
}

# ---------- the result document ----------

function Initialize-SpawnGuardOutput {
    <#
    .SYNOPSIS
        Prepares the one JSON document: UTF-8 output, and no ETS Count/value wrapping of arrays
        (Windows PowerShell 3.0-5.1 can serialize an array as {"value":[...],"Count":n}).
    #>
    [CmdletBinding()]
    param()
    try {
        Remove-TypeData -TypeName 'System.Array' -ErrorAction Stop
    } catch {
        $null = $_
    }
    try {
        [Console]::OutputEncoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    } catch {
        # No console attached (a test host): the caller receives the string through the pipeline.
        $null = $_
    }
}

function New-SpawnGuardResult {
    <#
    .SYNOPSIS
        Starts the result document a script prints at the end.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Script)
    return [pscustomobject]@{
        Script    = $Script
        Hostname  = [System.Environment]::MachineName
        StartedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
        Results   = New-Object -TypeName System.Collections.ArrayList
        Errors    = New-Object -TypeName System.Collections.ArrayList
    }
}

function Add-SpawnGuardError {
    <#
    .SYNOPSIS
        Adds one { code, message } to the result's errors.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][string]$Code,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Message
    )
    [void]$Result.Errors.Add([ordered]@{ code = $Code; message = $Message })
}

function Add-SpawnGuardResultItem {
    <#
    .SYNOPSIS
        Adds one item (an ordered dictionary) to the result's results.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Item)
    [void]$Result.Results.Add($Item)
}

function Get-SpawnGuardExitCode {
    <#
    .SYNOPSIS
        0 ok, 2 invalid request, 4 access denied, 3 protected target refused, 1 other failure.
        Errors whose code ends in '-unavailable' are partial-collection notes and do not fail a run.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][psobject]$Result)
    $codes = New-Object -TypeName System.Collections.ArrayList
    $failed = $false
    foreach ($entry in $Result.Errors) {
        if ($entry.code -match $script:PartialErrorPattern) { continue }
        [void]$codes.Add($entry.code)
        $failed = $true
    }
    foreach ($item in $Result.Results) {
        $status = $null
        $reason = $null
        if ($item.Contains('status')) { $status = $item['status'] }
        if ($item.Contains('reason')) { $reason = $item['reason'] }
        if ($status -eq 'failed') {
            $failed = $true
            [void]$codes.Add($reason)
        }
        if ($status -eq 'skipped') { [void]$codes.Add($reason) }
    }
    if ($codes -contains 'invalid-request') { return 2 }
    foreach ($reason in $script:ProtectedReasons) {
        if ($codes -contains $reason) { return 3 }
    }
    if ($codes -contains 'access-denied') { return 4 }
    if ($failed) { return 1 }
    return 0
}

function Write-SpawnGuardResult {
    <#
    .SYNOPSIS
        Writes the one JSON document (script, ok, hostname, startedAt, finishedAt, results,
        errors) to the output. results and errors are object[] inside the document, so a list of
        one element stays a list.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][int]$ExitCode)
    $document = [ordered]@{
        script     = $Result.Script
        ok         = ($ExitCode -eq 0)
        hostname   = $Result.Hostname
        startedAt  = $Result.StartedAt
        finishedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
        results    = [object[]]$Result.Results.ToArray()
        errors     = [object[]]$Result.Errors.ToArray()
    }
    # Depth 10 covers the deepest result (a process tree entry inside results); the default of 2
    # would silently truncate it to type names.
    $json = ConvertTo-Json -InputObject $document -Depth 10 -Compress
    Write-Output -InputObject $json
}

Export-ModuleMember -Function @(
    'New-SpawnGuardException', 'Test-SpawnGuardAccessDenied', 'Get-SpawnGuardErrorCode',
    'ConvertFrom-SpawnGuardRequest', 'Get-SpawnGuardRequestValue', 'ConvertTo-SpawnGuardHashtable', 'Split-SpawnGuardPathList',
    'ConvertTo-SpawnGuardProcessTarget', 'ConvertFrom-SpawnGuardTargetRequest', 'Split-SpawnGuardUserName',
    'Test-SpawnGuardAbsolutePath', 'ConvertTo-SpawnGuardNormalizedPath', 'Get-SpawnGuardBaseName',
    'ConvertTo-SpawnGuardImageName', 'Test-SpawnGuardSystemPath', 'Test-SpawnGuardExpectedLocation', 'Get-SpawnGuardProcessName',
    'Test-SpawnGuardCriticalProcess', 'Test-SpawnGuardSharedHost', 'Test-SpawnGuardPowerShellHost',
    'Test-SpawnGuardServiceAccount', 'ConvertTo-SpawnGuardIsoDate', 'ConvertFrom-SpawnGuardIsoDate',
    'ConvertTo-SpawnGuardProcessRecord', 'Get-SpawnGuardWin32Process', 'Get-SpawnGuardProcessSnapshot',
    'Get-SpawnGuardLiveProcess', 'Find-SpawnGuardProcess', 'Find-SpawnGuardProcessByPath',
    'Get-SpawnGuardParentChain', 'Get-SpawnGuardDescendant', 'Get-SpawnGuardWorkerProcess',
    'Get-SpawnGuardWorkerProcessId', 'Test-SpawnGuardServiceHostedSvchost', 'Get-SpawnGuardProtectionReason',
    'Test-SpawnGuardProcessIdentity', 'Test-SpawnGuardSameProcess', 'Stop-SpawnGuardProcessInstance',
    'Resolve-SpawnGuardProcessTarget', 'Stop-SpawnGuardProcessTree', 'New-SpawnGuardProcessActionResult',
    'Test-SpawnGuardRefusedPlan', 'Add-SpawnGuardRefusedPlan', 'Get-SpawnGuardTreeOutcomeSummary', 'Get-SpawnGuardFileHash', 'Test-SpawnGuardMicrosoftSigner',
    'Get-SpawnGuardAuthenticodeSignature', 'Get-SpawnGuardSignature', 'Test-SpawnGuardTrustedSigner',
    'Get-SpawnGuardVersionInfo', 'Set-SpawnGuardRestrictedAcl', 'Get-SpawnGuardAccessSddl',
    'Get-SpawnGuardQuarantineDirectory', 'Initialize-SpawnGuardQuarantineDirectory', 'Get-SpawnGuardQuarantinePath',
    'Get-SpawnGuardManifestPath', 'Read-SpawnGuardQuarantineManifest', 'Save-SpawnGuardQuarantineManifest',
    'Find-SpawnGuardQuarantineRecord', 'Move-SpawnGuardFileToQuarantine', 'Initialize-SpawnGuardWtsApi',
    'Get-SpawnGuardSession', 'Stop-SpawnGuardSession', 'Initialize-SpawnGuardOutput',
    'New-SpawnGuardResult', 'Add-SpawnGuardError', 'Add-SpawnGuardResultItem', 'Get-SpawnGuardExitCode',
    'Write-SpawnGuardResult'
)
