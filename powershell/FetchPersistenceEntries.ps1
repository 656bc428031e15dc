<#
.SYNOPSIS
    Lists the host's persistence entries and flags those that reference given files.

.DESCRIPTION
    Collects, read-only, the places Windows starts programs from on its own. What is read, per kind,
    is one table (Get-PersistenceSource): scheduled tasks (the task API, and the registry TaskCache
    for tasks hidden from it), Run/RunOnce/RunOnceEx/Policies\Explorer\Run, Startup folders (from
    the shell folder settings), services (ImagePath, ServiceDll, FailureCommand), Winlogon
    Userinit/Shell, Winlogon Notify and GPExtensions, Image File Execution Options Debugger and
    SilentProcessExit, AppInit_DLLs, AppCertDlls, BootExecute, LSA authentication/notification/
    security packages, print monitors, netsh helpers, time providers, Active Setup, cmd.exe AutoRun,
    UserInitMprLogonScript, Group Policy scripts, per-user COM registrations (InprocServer32,
    LocalServer32), the screensaver, WMI event filters, consumers and bindings, BITS jobs and Office
    add-ins and startup folders.

    Per-user locations are read from every loaded user hive and, for a profile whose hive is not
    loaded (its user is logged off), from its NTUSER.DAT and UsrClass.dat loaded under HKEY_USERS for
    the time of the run and always unloaded afterwards. %USERPROFILE%, %APPDATA%, %LOCALAPPDATA%,
    %TEMP% in a user's values are expanded with that user's folders, not SYSTEM's.
    Each entry has its kind, location, name, command, the image the command starts (resolved
    like Windows resolves it: quotes, unquoted paths with spaces, environment variables,
    \SystemRoot\ and bare names in System32), the user it runs as or belongs to, and whether it
    references one of -ReferencePaths (by image or anywhere in its command line).

    A source that cannot be read is noted in errors with a code ending in '-unavailable'; the
    others are still reported. Windows PowerShell 3.0 and later.

.PARAMETER ReferencePaths
    Full paths of the offending files, comma-separated (a comma only separates paths when a drive
    letter or \\ follows it). Entries that reference one are flagged.

.PARAMETER IncidentId
    The incident this collection belongs to (for the audit trail).

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching FetchPersistenceRequestSchema in
    common/host-contract.ts ({ incidentId?, referencePaths }). Used instead of the parameters above.

.EXAMPLE
    .\FetchPersistenceEntries.ps1 -ReferencePaths "C:\Users\Public\evil.exe"

.EXAMPLE
    .\FetchPersistenceEntries.ps1

.OUTPUTS
    System.String. One JSON document (FetchPersistenceResultSchema): one result per entry.

.NOTES
    Exit codes: 0 ran to completion (sources that could not be read are listed in errors),
    1 failure worth retrying, 2 invalid request.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$ReferencePaths,
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

function Get-PersistenceRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    if ($Bound.ContainsKey('Request')) {
        if ($Bound.ContainsKey('ReferencePaths') -or $Bound.ContainsKey('IncidentId')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -ReferencePaths, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        return [pscustomobject]@{
            IncidentId     = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -MaxLength 512
            ReferencePaths = Get-SpawnGuardRequestValue -Request $decoded -Name 'referencePaths' -Type 'stringArray' -Default @()
        }
    }
    $paths = @()
    if ($Bound.ContainsKey('ReferencePaths')) { $paths = Split-SpawnGuardPathList -Text ([string[]]$Bound['ReferencePaths']) }
    if ($paths.Length -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give at most 64 reference paths.')
    }
    return [pscustomobject]@{ IncidentId = [string]$Bound['IncidentId']; ReferencePaths = $paths }
}

# ---------- command lines ----------

function Find-ImageOnSearchPath {
    <#
    .SYNOPSIS
        Where a bare program name (no folder) resolves: System32, then the Windows folder.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Name)
    $names = @($Name)
    if (-not $Name.Contains('.')) { $names = @(($Name + '.exe'), $Name) }
    foreach ($folder in @((Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath 'System32'), $env:SystemRoot)) {
        foreach ($candidate in $names) {
            $path = Join-SpawnGuardPath -Path $folder -ChildPath $candidate
            if (Test-SpawnGuardFile -LiteralPath $path) { return $path }
        }
    }
    return $null
}

function Resolve-CommandImage {
    <#
    .SYNOPSIS
        The executable a command line starts: the quoted part, else the longest space-separated
        prefix that is an existing file (how CreateProcess reads an unquoted path), else the first token.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$CommandLine, [AllowNull()][hashtable]$Environment)
    $text = Expand-SpawnGuardCommandText -CommandLine $CommandLine -Environment $Environment
    if ($text.Length -eq 0) { return $null }
    $candidate = $null
    if ($text.StartsWith('"')) {
        $end = $text.IndexOf('"', 1)
        if ($end -gt 1) { $candidate = $text.Substring(1, $end - 1) } else { $candidate = $text.Trim('"') }
    } else {
        $tokens = $text.Split(' ')
        $prefix = ''
        for ($i = 0; $i -lt $tokens.Length -and $i -lt 16 -and $null -eq $candidate; $i++) {
            if ($i -eq 0) { $prefix = $tokens[0] } else { $prefix = $prefix + ' ' + $tokens[$i] }
            # Characters Windows never allows in a path (the same set on every platform this runs on).
            if ($prefix -match '[\x00-\x1f"<>|]') { break }
            foreach ($try in @($prefix, ($prefix + '.exe'))) {
                if ($null -eq $candidate -and (Test-SpawnGuardAbsolutePath -Path $try) -and (Test-SpawnGuardFile -LiteralPath $try)) { $candidate = $try }
            }
        }
        if ($null -eq $candidate) { $candidate = $tokens[0].TrimEnd(',') }
    }
    if ($candidate.Length -gt 0 -and -not $candidate.Contains('\')) {
        $found = Find-ImageOnSearchPath -Name $candidate
        if ($null -ne $found) { return $found }
    }
    if ($candidate.Length -eq 0) { return $null }
    return $candidate
}

function Limit-CommandText {
    <#
    .SYNOPSIS
        A command line cut to a sane length (an ActiveScript consumer can hold a whole script).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Text)
    $maxLength = 8192
    if ([string]::IsNullOrEmpty($Text)) { return $null }
    if ($Text.Length -le $maxLength) { return $Text }
    return ($Text.Substring(0, $maxLength) + '...')
}

# ---------- the entry list ----------

function Add-PersistenceEntry {
    <#
    .SYNOPSIS
        Adds one PersistenceEntry (common/host-contract.ts), resolving its image and checking it
        against the reference paths.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References,
        [Parameter(Mandatory = $true)][string]$Kind,
        [Parameter(Mandatory = $true)][string]$Location,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name,
        [AllowNull()][AllowEmptyString()][string]$CommandLine,
        [AllowNull()][AllowEmptyString()][string]$ImagePath,
        [AllowNull()][AllowEmptyString()][string]$User,
        # The variables of the user the entry belongs to (Get-UserEnvironment); none: SYSTEM's.
        [AllowNull()][hashtable]$Environment,
        # The command is a description, not a command line: report -ImagePath as given, even when empty.
        [switch]$ImageKnown
    )
    $image = $ImagePath
    if ([string]::IsNullOrEmpty($image) -and -not $ImageKnown) { $image = Resolve-CommandImage -CommandLine $CommandLine -Environment $Environment }
    $normalizedImage = ConvertTo-SpawnGuardNormalizedPath -Path $image
    $normalizedCommand = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-SpawnGuardCommandText -CommandLine $CommandLine -Environment $Environment)
    $matchedPath = $null
    for ($i = 0; $i -lt $References.Length -and $null -eq $matchedPath; $i++) {
        $reference = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-SpawnGuardCommandText -CommandLine $References[$i])
        if ($reference.Length -eq 0) { continue }
        if ($normalizedImage -eq $reference -or $normalizedCommand.Contains($reference)) { $matchedPath = $References[$i] }
    }
    $imageValue = $null
    if (-not [string]::IsNullOrEmpty($image)) { $imageValue = $image }
    $userValue = $null
    if (-not [string]::IsNullOrEmpty($User)) { $userValue = $User }
    $displayName = $Name
    if ($displayName.Length -eq 0) { $displayName = '(Default)' }
    Add-SpawnGuardResultItem -Result $Result -Item ([ordered]@{
            kind             = $Kind
            location         = $Location
            name             = $displayName
            command          = Limit-CommandText -Text $CommandLine
            imagePath        = $imageValue
            user             = $userValue
            referencesTarget = ($null -ne $matchedPath)
            matchedPath      = $matchedPath
        })
}

# ---------- the registry ----------

function Get-RegistryValueText {
    <#
    .SYNOPSIS
        The values of a key as name/text pairs, environment variables left unexpanded (as stored);
        a multi-string value gives one pair per string. None when the key does not exist.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Path, [AllowEmptyCollection()][string[]]$Names = @())
    $pairs = New-Object -TypeName System.Collections.ArrayList
    $wanted = $Names
    if ($wanted.Length -eq 0) { $wanted = Get-SpawnGuardRegistryValueName -Path $Path }
    foreach ($name in $wanted) {
        $value = Get-SpawnGuardRegistryValue -Path $Path -Name $name
        if ($null -eq $value) { continue }
        if ($value -is [System.Array] -and -not ($value -is [byte[]])) {
            foreach ($element in $value) {
                # Only strings: a REG_BINARY value reaches us unrolled (object[] of bytes), not as byte[].
                if ($element -is [string] -and $element.Length -gt 0) { [void]$pairs.Add([pscustomobject]@{ Name = [string]$name; Text = $element }) }
            }
        } elseif ($value -is [string] -and $value.Trim().Length -gt 0) {
            [void]$pairs.Add([pscustomobject]@{ Name = [string]$name; Text = $value })
        }
    }
    return , $pairs.ToArray()
}

function ConvertTo-ShortHiveName {
    <#
    .SYNOPSIS
        HKLM\... / HKU\... for a HKEY_LOCAL_MACHINE\... / HKEY_USERS\... name (as analysts write them);
        a hive this run loaded from a file is named by that file (C:\Users\carol\NTUSER.DAT\Software\...).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Path)
    foreach ($mount in $script:HiveDisplayNames) {
        if ($Path -eq $mount.Root -or $Path.StartsWith($mount.Root + '\', [System.StringComparison]::OrdinalIgnoreCase)) {
            return ($mount.Display + $Path.Substring($mount.Root.Length))
        }
    }
    return ($Path -replace '^HKEY_LOCAL_MACHINE\\', 'HKLM\' -replace '^HKEY_USERS\\', 'HKU\')
}

function Get-SourceKeyRoot {
    <#
    .SYNOPSIS
        The full key names a registry row of the table reads (\* not yet resolved), each with the
        user it belongs to and that user's environment.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Source)
    $roots = New-Object -TypeName System.Collections.ArrayList
    if ($Source.Scope -eq 'machine' -or $Source.Scope -eq 'machine-and-user') {
        [void]$roots.Add([pscustomobject]@{ Path = ('HKEY_LOCAL_MACHINE\' + $Source.Location); User = $null; Environment = $null })
        if ($Source.Wow -and $Source.Location -match '^(?i)SOFTWARE\\(.+)$') {
            [void]$roots.Add([pscustomobject]@{ Path = ('HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node\' + $Matches[1]); User = $null; Environment = $null })
        }
    }
    if ($Source.Scope -eq 'user' -or $Source.Scope -eq 'machine-and-user') {
        $relative = $Source.Location -replace '^(?i)SOFTWARE\\', 'Software\'
        foreach ($hive in (Get-UserHive)) {
            $path = $hive.Root + '\' + $relative
            # A hive loaded from NTUSER.DAT has no Software\Classes link: its classes are UsrClass.dat.
            if ($relative -match '^(?i)Software\\Classes\\(.+)$' -and -not [string]::IsNullOrEmpty($hive.ClassesRoot)) { $path = $hive.ClassesRoot + '\' + $Matches[1] }
            [void]$roots.Add([pscustomobject]@{ Path = $path; User = $hive.User; Environment = $hive.Environment })
        }
    }
    return , $roots.ToArray()
}

function Resolve-SourceKey {
    <#
    .SYNOPSIS
        The existing keys a key name with \* segments stands for, each with the subkey the first \* matched.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $parts = $Path -split '\\\*(?=\\|$)'
    $current = @([pscustomobject]@{ Path = $parts[0]; Match = $null })
    for ($i = 1; $i -lt $parts.Length; $i++) {
        $next = New-Object -TypeName System.Collections.ArrayList
        foreach ($key in $current) {
            foreach ($sub in (Get-SpawnGuardRegistrySubKeyName -Path $key.Path)) {
                $match = $key.Match
                if ($null -eq $match) { $match = $sub }
                [void]$next.Add([pscustomobject]@{ Path = ($key.Path + '\' + $sub + $parts[$i]); Match = $match })
            }
        }
        $current = $next.ToArray()
    }
    return , @($current)
}

function Resolve-DllImage {
    <#
    .SYNOPSIS
        The file a DLL value names: the path as given (variables expanded), or a bare name in System32
        (where the loader finds the DLLs of LSA, Winlogon, the spooler, netsh and the time service).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Text, [AllowNull()][hashtable]$Environment)
    $path = (Expand-SpawnGuardCommandText -CommandLine $Text -Environment $Environment).Trim().Trim('"')
    if ($path.Length -eq 0) { return $null }
    if ($path.Contains('\')) { return $path }
    return (Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath ('System32\' + $path))
}

function Resolve-PackageImage {
    <#
    .SYNOPSIS
        The DLL an LSA package name loads: System32\<name>.dll (a name with a path or extension as given).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Text)
    $name = ([string]$Text).Trim().Trim('"')
    if ($name.Length -eq 0) { return $null }
    if (-not $name.Contains('\') -and -not $name.Contains('.')) { $name = $name + '.dll' }
    return (Resolve-DllImage -Text $name)
}

function Get-SourceEntryName {
    <#
    .SYNOPSIS
        An entry's name as a table row asks for it (see New-PersistenceSource -Name).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Source, [Parameter(Mandatory = $true)][psobject]$Key, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$ValueName)
    $valueLabel = $ValueName
    if ($valueLabel.Length -eq 0) { $valueLabel = '(Default)' }
    switch ($Source.Name) {
        'match-value' { return ([string]$Key.Match + ' ' + $valueLabel) }
        'match-key' { return ([string]$Key.Match + ' ' + $Key.Path.Substring($Key.Path.LastIndexOf('\') + 1)) }
        'match' { return [string]$Key.Match }
        'label' {
            $label = [string](Get-SpawnGuardRegistryValue -Path $Key.Path -Name '')
            if ($label.Length -eq 0) { $label = [string]$Key.Match }
            return $label
        }
    }
    return $ValueName
}

function Add-RegistrySourceEntry {
    <#
    .SYNOPSIS
        The entries of one registry row of the table: every value it names, of every key it stands for.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References,
        [Parameter(Mandatory = $true)][psobject]$Source
    )
    foreach ($root in (Get-SourceKeyRoot -Source $Source)) {
        foreach ($key in (Resolve-SourceKey -Path $root.Path)) {
            foreach ($pair in (Get-RegistryValueText -Path $key.Path -Names $Source.Values)) {
                $texts = @($pair.Text)
                if ($Source.Separator.Length -gt 0) { $texts = @($pair.Text -split $Source.Separator) }
                foreach ($text in $texts) {
                    # The command as stored; a split list's items without their padding.
                    $command = $text
                    if ($Source.Separator.Length -gt 0) { $command = $text.Trim() }
                    if ($command.Trim().Length -eq 0) { continue }
                    $image = $null
                    $imageKnown = $false
                    switch ($Source.Image) {
                        'dll' { $image = Resolve-DllImage -Text $command -Environment $root.Environment }
                        'clsid' {
                            # The class is looked up where the key is (the user's classes first), then the machine's.
                            $imageKnown = $true
                            $at = $key.Path.IndexOf('\CLSID\', [System.StringComparison]::OrdinalIgnoreCase)
                            $classesRoots = @('HKEY_LOCAL_MACHINE\SOFTWARE\Classes', 'HKEY_LOCAL_MACHINE\SOFTWARE\Classes\Wow6432Node')
                            if ($at -gt 0) { $classesRoots = @($key.Path.Substring(0, $at)) + $classesRoots }
                            $server = Get-ClassServer -ClassId $command.Trim() -ClassesRoots $classesRoots
                            if ($null -ne $server) {
                                $command = $command.Trim() + ' -> ' + $server.Text
                                if ($server.Kind -eq 'InprocServer32') { $image = Resolve-DllImage -Text $server.Text -Environment $root.Environment }
                                else { $image = Resolve-CommandImage -CommandLine $server.Text -Environment $root.Environment }
                            }
                        }
                        'package' { $image = Resolve-PackageImage -Text $command }
                        'autocheck' {
                            # "autocheck autochk *": autocheck marks the native program that follows it.
                            if ($command -match '^\s*autocheck\s+(\S+)') { $image = Find-ImageOnSearchPath -Name $Matches[1] }
                        }
                    }
                    # An empty LSA package list is stored as "".
                    if ($Source.Image -eq 'package' -and $null -eq $image) { continue }
                    $name = Get-SourceEntryName -Source $Source -Key $key -ValueName $pair.Name
                    Add-PersistenceEntry -Result $Result -References $References -Kind $Source.Kind -Location (ConvertTo-ShortHiveName -Path $key.Path) -Name $name -CommandLine $command -ImagePath $image -User $root.User -Environment $root.Environment -ImageKnown:$imageKnown
                }
            }
        }
    }
}

# ---------- the table: every kind, where it is read from, and how its image is found ----------

function New-PersistenceSource {
    <#
    .SYNOPSIS
        One row of the source table (Get-PersistenceSource).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][string]$Kind,
        # machine: a key under HKEY_LOCAL_MACHINE; user: a key of every user hive (loaded, or loaded
        # from NTUSER.DAT for this run); machine-and-user: both (SOFTWARE\... is Software\... in a user
        # hive); source: not a plain registry key, read by -Collector.
        [Parameter(Mandatory = $true)][ValidateSet('machine', 'user', 'machine-and-user', 'source')][string]$Scope,
        # The key relative to its hive (a \* segment stands for every subkey), or what -Collector reads.
        [Parameter(Mandatory = $true)][string]$Location,
        # The value names to read; none: every value of the key.
        [string[]]$Values = @(),
        # command: the program a command line starts; dll: a DLL path, or a bare name in System32;
        # package: an LSA package name (System32\<name>.dll); autocheck: BootExecute's native programs;
        # clsid: a class id whose server (InprocServer32, else LocalServer32) is looked up in the same
        # classes root, then the machine's (TreatAs sends a class to another one).
        [ValidateSet('command', 'dll', 'package', 'autocheck', 'clsid')][string]$Image = 'command',
        # value: the value name; match-value: the subkey \* matched and the value name; match-key: the
        # subkey \* matched and the key's last segment; match: the subkey \* matched; label: the key's
        # default value, else the subkey \* matched.
        [ValidateSet('value', 'match-value', 'match-key', 'match', 'label')][string]$Name = 'value',
        # A regular expression that splits one value into several programs (Winlogon Userinit: a comma list).
        [string]$Separator = '',
        # A SOFTWARE key is read in the 32-bit view too (SOFTWARE\Wow6432Node).
        [switch]$Wow,
        # The function that reads a source the generic registry reader cannot.
        [ValidateSet('', 'Add-ScheduledTaskEntry', 'Add-TaskCacheEntry', 'Add-StartupFolderEntry', 'Add-ServiceEntry', 'Add-WmiSubscriptionEntry', 'Add-BitsJobEntry', 'Add-OfficeAddinEntry', 'Add-GroupPolicyScriptEntry')]
        [string]$Collector = ''
    )
    return [pscustomobject]@{ Kind = $Kind; Scope = $Scope; Location = $Location; Values = $Values; Image = $Image; Name = $Name; Separator = $Separator; Wow = [bool]$Wow; Collector = $Collector }
}

function Get-PersistenceSource {
    <#
    .SYNOPSIS
        The one table of what is collected: each kind, where it is read, which values, how the image
        is derived, and whether it is machine-wide or per user. The collectors iterate it.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $cv = 'SOFTWARE\Microsoft\Windows\CurrentVersion'
    $nt = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $control = 'SYSTEM\CurrentControlSet\Control'
    return , @(
        (New-PersistenceSource -Kind 'scheduled-task' -Scope 'source' -Location 'Get-ScheduledTask, else the Schedule.Service COM object' -Collector 'Add-ScheduledTaskEntry'),
        (New-PersistenceSource -Kind 'scheduled-task' -Scope 'source' -Location "HKLM\$nt\Schedule\TaskCache (tasks the API does not list, tasks without a security descriptor)" -Collector 'Add-TaskCacheEntry'),
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\Run" -Wow),
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\RunOnce" -Wow),
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\Policies\Explorer\Run" -Wow),
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\RunOnceEx" -Wow),
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\RunOnceEx\*" -Wow),
        # RunOnceEx\<n>\Depend lists DLLs that are loaded too (a known persistence trick).
        (New-PersistenceSource -Kind 'run-key' -Scope 'machine-and-user' -Location "$cv\RunOnceEx\*\Depend" -Wow),
        (New-PersistenceSource -Kind 'startup-folder' -Scope 'source' -Location 'Common Startup and each user''s Startup from User Shell Folders / Shell Folders' -Collector 'Add-StartupFolderEntry'),
        (New-PersistenceSource -Kind 'service' -Scope 'source' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\*: ImagePath, ServiceDll, FailureCommand' -Collector 'Add-ServiceEntry'),
        (New-PersistenceSource -Kind 'winlogon' -Scope 'machine-and-user' -Location "$nt\Winlogon" -Values @('Userinit', 'Shell', 'Taskman', 'AppSetup') -Separator ',' -Wow),
        (New-PersistenceSource -Kind 'winlogon-notify' -Scope 'machine' -Location "$nt\Winlogon\Notify\*" -Values @('DllName') -Image 'dll' -Name 'match' -Wow),
        (New-PersistenceSource -Kind 'gp-extension' -Scope 'machine' -Location "$nt\Winlogon\GPExtensions\*" -Values @('DllName') -Image 'dll' -Name 'label' -Wow),
        (New-PersistenceSource -Kind 'ifeo-debugger' -Scope 'machine' -Location "$nt\Image File Execution Options\*" -Values @('Debugger') -Name 'match-value' -Wow),
        (New-PersistenceSource -Kind 'ifeo-debugger' -Scope 'machine' -Location "$nt\SilentProcessExit\*" -Values @('MonitorProcess') -Name 'match-value' -Wow),
        (New-PersistenceSource -Kind 'appinit-dlls' -Scope 'machine' -Location "$nt\Windows" -Values @('AppInit_DLLs') -Wow),
        (New-PersistenceSource -Kind 'appcert-dlls' -Scope 'machine' -Location "$control\Session Manager\AppCertDlls" -Image 'dll'),
        (New-PersistenceSource -Kind 'boot-execute' -Scope 'machine' -Location "$control\Session Manager" -Values @('BootExecute', 'SetupExecute', 'Execute') -Image 'autocheck'),
        (New-PersistenceSource -Kind 'lsa-package' -Scope 'machine' -Location "$control\Lsa" -Values @('Authentication Packages', 'Notification Packages', 'Security Packages') -Image 'package'),
        (New-PersistenceSource -Kind 'lsa-package' -Scope 'machine' -Location "$control\Lsa\OSConfig" -Values @('Security Packages') -Image 'package'),
        (New-PersistenceSource -Kind 'print-monitor' -Scope 'machine' -Location "$control\Print\Monitors\*" -Values @('Driver') -Image 'dll' -Name 'match'),
        (New-PersistenceSource -Kind 'netsh-helper' -Scope 'machine' -Location 'SOFTWARE\Microsoft\NetSh' -Image 'dll' -Wow),
        (New-PersistenceSource -Kind 'time-provider' -Scope 'machine' -Location 'SYSTEM\CurrentControlSet\Services\W32Time\TimeProviders\*' -Values @('DllName') -Image 'dll' -Name 'match'),
        (New-PersistenceSource -Kind 'active-setup' -Scope 'machine' -Location 'SOFTWARE\Microsoft\Active Setup\Installed Components\*' -Values @('StubPath') -Name 'label' -Wow),
        (New-PersistenceSource -Kind 'command-processor-autorun' -Scope 'machine-and-user' -Location 'SOFTWARE\Microsoft\Command Processor' -Values @('AutoRun') -Wow),
        (New-PersistenceSource -Kind 'logon-script' -Scope 'user' -Location 'Environment' -Values @('UserInitMprLogonScript')),
        (New-PersistenceSource -Kind 'gpo-script' -Scope 'source' -Location '%SystemRoot%\System32\GroupPolicy\{Machine,User}\Scripts\{scripts,psscripts}.ini, Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts and Group Policy\State\<Machine or SID>\Scripts' -Collector 'Add-GroupPolicyScriptEntry'),
        # Per-user COM registrations take precedence over the machine's (HKCU\Software\Classes is the user's UsrClass.dat).
        (New-PersistenceSource -Kind 'com-hijack' -Scope 'user' -Location 'Software\Classes\CLSID\*\InprocServer32' -Values @('') -Image 'dll' -Name 'match-key'),
        (New-PersistenceSource -Kind 'com-hijack' -Scope 'user' -Location 'Software\Classes\CLSID\*\LocalServer32' -Values @('') -Name 'match-key'),
        # TreatAs sends every use of a class to another one: the other class's server is what loads.
        (New-PersistenceSource -Kind 'com-hijack' -Scope 'user' -Location 'Software\Classes\CLSID\*\TreatAs' -Values @('') -Image 'clsid' -Name 'match-key'),
        (New-PersistenceSource -Kind 'screensaver' -Scope 'user' -Location 'Control Panel\Desktop' -Values @('SCRNSAVE.EXE')),
        (New-PersistenceSource -Kind 'screensaver' -Scope 'user' -Location 'Software\Policies\Microsoft\Windows\Control Panel\Desktop' -Values @('SCRNSAVE.EXE')),
        (New-PersistenceSource -Kind 'wmi-subscription' -Scope 'source' -Location 'root\subscription: __EventFilter, __FilterToConsumerBinding, CommandLine and ActiveScript consumers' -Collector 'Add-WmiSubscriptionEntry'),
        (New-PersistenceSource -Kind 'bits-job' -Scope 'source' -Location 'Get-BitsTransfer -AllUsers: each job''s notify command line' -Collector 'Add-BitsJobEntry'),
        (New-PersistenceSource -Kind 'office-addin' -Scope 'source' -Location 'Software\Microsoft\Office\<app>\Addins (HKLM, each user); Word STARTUP and Excel XLSTART folders: each user''s, the ones the user''s options name, and the installation''s' -Collector 'Add-OfficeAddinEntry')
    )
}

# ---------- user hives: the loaded ones, and NTUSER.DAT of the others for the time of the run ----------

$script:UserHives = @()
$script:ApiTaskPaths = $null
$script:MountedHives = @()
$script:HiveDisplayNames = @()

function Get-ProfilePath {
    <#
    .SYNOPSIS
        Every profile of ProfileList: SID -> profile folder (ProfileImagePath expanded).
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    $profiles = @{}
    $profileList = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
    foreach ($sid in (Get-SpawnGuardRegistrySubKeyName -Path $profileList)) {
        # ProfileImagePath is stored with variables (%SystemDrive%\Users\bob).
        $path = [System.Environment]::ExpandEnvironmentVariables([string](Get-SpawnGuardRegistryValue -Path ($profileList + '\' + $sid) -Name 'ProfileImagePath'))
        if ($path.Length -gt 0) { $profiles[$sid] = $path }
    }
    return $profiles
}

function Get-SortedKey {
    <#
    .SYNOPSIS
        The keys of a hashtable, sorted (ordinal, case-insensitive), so that output order is stable.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][hashtable]$Table)
    $keys = [string[]]@($Table.Keys)
    [System.Array]::Sort($keys, [System.StringComparer]::OrdinalIgnoreCase)
    return , $keys
}

function Get-UserEnvironment {
    <#
    .SYNOPSIS
        The variables a user's values are written with (%USERPROFILE%, %APPDATA%, %LOCALAPPDATA%,
        %TEMP%, %TMP%), as that user has them: from the profile folder, the hive's User Shell
        Folders and Environment, and the logon's Volatile Environment. Not SYSTEM's.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)][string]$Root, [AllowNull()][AllowEmptyString()][string]$ProfilePath)
    $environment = @{}
    if (-not [string]::IsNullOrEmpty($ProfilePath)) {
        $environment['USERPROFILE'] = $ProfilePath
        $environment['APPDATA'] = Join-SpawnGuardPath -Path $ProfilePath -ChildPath 'AppData\Roaming'
        $environment['LOCALAPPDATA'] = Join-SpawnGuardPath -Path $ProfilePath -ChildPath 'AppData\Local'
    }
    $volatile = $Root + '\Volatile Environment'
    $profileValue = [string](Get-SpawnGuardRegistryValue -Path $volatile -Name 'USERPROFILE')
    if ($profileValue.Length -gt 0) { $environment['USERPROFILE'] = $profileValue }
    $shellFolders = $Root + '\Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders'
    foreach ($pair in @(@('APPDATA', 'AppData'), @('LOCALAPPDATA', 'Local AppData'))) {
        $value = [string](Get-SpawnGuardRegistryValue -Path $shellFolders -Name $pair[1])
        if ($value.Length -gt 0) { $environment[$pair[0]] = Expand-SpawnGuardCommandText -CommandLine $value -Environment $environment }
        $value = [string](Get-SpawnGuardRegistryValue -Path $volatile -Name $pair[0])
        if ($value.Length -gt 0) { $environment[$pair[0]] = $value }
    }
    foreach ($name in @('TEMP', 'TMP')) {
        $value = [string](Get-SpawnGuardRegistryValue -Path ($Root + '\Environment') -Name $name)
        if ($value.Length -gt 0) { $environment[$name] = Expand-SpawnGuardCommandText -CommandLine $value -Environment $environment }
    }
    return $environment
}

function Mount-ProfileHive {
    <#
    .SYNOPSIS
        Loads a profile's NTUSER.DAT (and UsrClass.dat) under HKEY_USERS for this run
        (Mount-SpawnGuardProfileHive of the module); $null when the profile has no hive file, is
        remote or reached through a junction (never opened as SYSTEM) or cannot be loaded (noted).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][string]$Sid, [Parameter(Mandatory = $true)][string]$ProfilePath)
    # Only account SIDs make a key name; SYSTEM, LOCAL SERVICE and NETWORK SERVICE are always loaded.
    if ($Sid -notmatch '^S-1-[0-9]+(-[0-9]+)+$' -or $Sid -match '^S-1-5-(18|19|20)$') { return $null }
    $hive = Mount-SpawnGuardProfileHive -Sid $Sid -ProfilePath $ProfilePath -Classes
    if ($null -ne $hive.Problem) { Add-SpawnGuardError -Result $Result -Code 'user-hive-unavailable' -Message $hive.Problem }
    if ($null -eq $hive.Root) { return $null }
    $script:MountedHives += @($hive.Names)
    $script:HiveDisplayNames += [pscustomobject]@{ Root = $hive.Root; Display = $hive.File }
    if ($null -ne $hive.ClassesRoot) { $script:HiveDisplayNames += [pscustomobject]@{ Root = $hive.ClassesRoot; Display = $hive.ClassesFile } }
    return [pscustomobject]@{ Sid = $Sid; Root = $hive.Root; ClassesRoot = $hive.ClassesRoot; ProfilePath = $ProfilePath }
}

function Initialize-UserHive {
    <#
    .SYNOPSIS
        Every user hive the collectors read: the ones loaded under HKEY_USERS, then the NTUSER.DAT of
        each profile whose hive is not loaded (a logged-off user), loaded for the time of the run.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result)
    $hives = New-Object -TypeName System.Collections.ArrayList
    $profiles = Get-ProfilePath
    $loaded = @{}
    foreach ($sid in (Get-SpawnGuardRegistrySubKeyName -Path 'HKEY_USERS')) {
        if ($sid -like 'SpawnGuard_*') {
            # Left loaded by an earlier run that could not unload it: unload it now, or say so.
            try { Dismount-SpawnGuardUserHive -Name $sid } catch { Add-SpawnGuardError -Result $Result -Code 'user-hive-unavailable' -Message ('HKEY_USERS\' + $sid + ' (loaded by an earlier run) could not be unloaded: ' + $_.Exception.Message) }
            continue
        }
        if ($sid -like '*_Classes') { continue }
        $loaded[$sid] = $true
        $root = 'HKEY_USERS\' + $sid
        $profilePath = $null
        if ($profiles.ContainsKey($sid)) { $profilePath = $profiles[$sid] }
        [void]$hives.Add([pscustomobject]@{
                Sid = $sid; Root = $root; ClassesRoot = $null; User = (ConvertTo-SpawnGuardAccountName -Sid $sid)
                ProfilePath = $profilePath; Environment = (Get-UserEnvironment -Root $root -ProfilePath $profilePath)
            })
    }
    foreach ($sid in (Get-SortedKey -Table $profiles)) {
        if ($loaded.ContainsKey($sid)) { continue }
        $mounted = Mount-ProfileHive -Result $Result -Sid $sid -ProfilePath $profiles[$sid]
        if ($null -eq $mounted) { continue }
        [void]$hives.Add([pscustomobject]@{
                Sid = $sid; Root = $mounted.Root; ClassesRoot = $mounted.ClassesRoot; User = (ConvertTo-SpawnGuardAccountName -Sid $sid)
                ProfilePath = $profiles[$sid]; Environment = (Get-UserEnvironment -Root $mounted.Root -ProfilePath $profiles[$sid])
            })
    }
    $script:UserHives = $hives.ToArray()
}

function Dismount-UserHive {
    <#
    .SYNOPSIS
        Unloads every hive Initialize-UserHive loaded (a hive left loaded would keep its user from logging on).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result)
    for ($i = $script:MountedHives.Length - 1; $i -ge 0; $i--) {
        $name = [string]$script:MountedHives[$i]
        try {
            Dismount-SpawnGuardUserHive -Name $name
        } catch {
            Add-SpawnGuardError -Result $Result -Code 'user-hive-unavailable' -Message ('HKEY_USERS\' + $name + ' (loaded by this run) could not be unloaded: ' + $_.Exception.Message)
        }
    }
    $script:MountedHives = @()
}

function Get-UserHive {
    <#
    .SYNOPSIS
        The user hives of this run (Initialize-UserHive): Sid, Root, ClassesRoot, User, ProfilePath, Environment.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    return , @($script:UserHives)
}

# ---------- the collectors that read more than registry values ----------

function Get-ShortcutCommand {
    <#
    .SYNOPSIS
        Target and arguments of a .lnk file as a command line, or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $shortcut = Get-SpawnGuardShortcut -LiteralPath $LiteralPath
    if ($null -eq $shortcut -or [string]::IsNullOrEmpty($shortcut.TargetPath)) { return $null }
    $command = '"' + $shortcut.TargetPath + '"'
    if (-not [string]::IsNullOrEmpty($shortcut.Arguments)) { $command = $command + ' ' + $shortcut.Arguments }
    return [pscustomobject]@{ Command = $command; Image = $shortcut.TargetPath }
}

function Get-StartupFolder {
    <#
    .SYNOPSIS
        The Startup folders to list: Common Startup, then each profile's Startup, read from User Shell
        Folders (else Shell Folders) with the owner's variables, the Windows default where neither is set.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $folders = New-Object -TypeName System.Collections.ArrayList
    $programData = $env:ProgramData
    if ([string]::IsNullOrEmpty($programData)) { $programData = 'C:\ProgramData' }
    $common = Get-ShellFolderPath -Root 'HKEY_LOCAL_MACHINE' -Name 'Common Startup' -Environment $null
    if ($null -eq $common) { $common = Join-SpawnGuardPath -Path $programData -ChildPath 'Microsoft\Windows\Start Menu\Programs\StartUp' }
    [void]$folders.Add([pscustomobject]@{ Path = $common; User = $null })
    $hives = @{}
    foreach ($hive in (Get-UserHive)) { $hives[$hive.Sid] = $hive }
    $profiles = Get-ProfilePath
    foreach ($sid in (Get-SortedKey -Table $profiles)) {
        $path = $null
        $environment = @{ USERPROFILE = $profiles[$sid] }
        if ($hives.ContainsKey($sid)) {
            $environment = $hives[$sid].Environment
            $path = Get-ShellFolderPath -Root $hives[$sid].Root -Name 'Startup' -Environment $environment
        }
        if ($null -eq $path) { $path = Join-SpawnGuardPath -Path $profiles[$sid] -ChildPath 'AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup' }
        [void]$folders.Add([pscustomobject]@{ Path = $path; User = (ConvertTo-SpawnGuardAccountName -Sid $sid) })
    }
    return , $folders.ToArray()
}

function Get-ShellFolderPath {
    <#
    .SYNOPSIS
        A shell folder's path from <Root>\Software\...\Explorer\User Shell Folders (variables expanded
        with the owner's environment), else from Shell Folders; $null when neither has it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Root, [Parameter(Mandatory = $true)][string]$Name, [AllowNull()][hashtable]$Environment)
    $explorer = $Root + '\Software\Microsoft\Windows\CurrentVersion\Explorer'
    foreach ($key in @('User Shell Folders', 'Shell Folders')) {
        $value = [string](Get-SpawnGuardRegistryValue -Path ($explorer + '\' + $key) -Name $Name)
        if ($value.Trim().Length -gt 0) { return (Expand-SpawnGuardCommandText -CommandLine $value -Environment $Environment) }
    }
    return $null
}

function Add-FolderFileEntry {
    <#
    .SYNOPSIS
        One entry per file of a folder that starts on its own (shortcuts resolved to their targets);
        a remote folder (redirected to a share) is noted, never opened as SYSTEM.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References,
        [Parameter(Mandatory = $true)][string]$Kind,
        [Parameter(Mandatory = $true)][string]$Folder,
        [AllowNull()][AllowEmptyString()][string]$User
    )
    if (Test-SpawnGuardRemotePath -Path $Folder) {
        Add-SpawnGuardError -Result $Result -Code ($Kind + '-unavailable') -Message ('Not opened: ' + $Folder + ' is a remote path.')
        return
    }
    foreach ($file in (Get-SpawnGuardChildFile -LiteralPath $Folder)) {
        if ($file.Name -eq 'desktop.ini') { continue }
        $command = '"' + $file.FullName + '"'
        $image = $file.FullName
        if ($file.Name -like '*.lnk') {
            $shortcut = Get-ShortcutCommand -LiteralPath $file.FullName
            if ($null -ne $shortcut) {
                $command = $shortcut.Command
                $image = $shortcut.Image
            }
        }
        Add-PersistenceEntry -Result $Result -References $References -Kind $Kind -Location $Folder -Name $file.Name -CommandLine $command -ImagePath $image -User $User
    }
}

function Add-StartupFolderEntry {
    <#
    .SYNOPSIS
        Files in the all-users Startup folder and in every profile's Startup folder.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $seen = @{}
    foreach ($folder in (Get-StartupFolder)) {
        if ($seen.ContainsKey($folder.Path)) { continue }
        $seen[$folder.Path] = $true
        Add-FolderFileEntry -Result $Result -References $References -Kind 'startup-folder' -Folder $folder.Path -User $folder.User
    }
}

function ConvertFrom-TaskActionBlob {
    <#
    .SYNOPSIS
        The actions of a TaskCache\Tasks\{GUID} Actions value, or $null when its layout is not the
        known one: UInt16 version, a context string (from version 2), then actions (UInt16 magic,
        id string; exec 0x6666: command, arguments, working folder, from version 3 UInt16 flags;
        COM handler 0x7777: CLSID, data string). Strings: UInt32 byte count, UTF-16LE.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([AllowNull()][AllowEmptyCollection()][byte[]]$Bytes)
    if ($null -eq $Bytes -or $Bytes.Length -lt 2) { return $null }
    $version = [int][System.BitConverter]::ToUInt16($Bytes, 0)
    if ($version -lt 1 -or $version -gt 3) { return $null }
    foreach ($withContext in @($true, $false)) {
        $state = @{ At = 2; Ok = $true }
        $actions = New-Object -TypeName System.Collections.ArrayList
        if ($withContext) { $null = Read-TaskBlobString -Bytes $Bytes -State $state }
        while ($state.Ok -and $state.At -lt $Bytes.Length) {
            if ($state.At + 2 -gt $Bytes.Length) { $state.Ok = $false; break }
            $magic = [int][System.BitConverter]::ToUInt16($Bytes, $state.At)
            $state.At += 2
            $null = Read-TaskBlobString -Bytes $Bytes -State $state
            if ($magic -eq 0x6666) {
                $command = Read-TaskBlobString -Bytes $Bytes -State $state
                $arguments = Read-TaskBlobString -Bytes $Bytes -State $state
                $null = Read-TaskBlobString -Bytes $Bytes -State $state
                if ($version -ge 3) { $state.At += 2 }
                [void]$actions.Add([pscustomobject]@{ Type = 'exec'; Command = $command; Arguments = $arguments; ClassId = $null })
            } elseif ($magic -eq 0x7777) {
                if ($state.At + 16 -gt $Bytes.Length) { $state.Ok = $false; break }
                $guidBytes = New-Object -TypeName 'byte[]' -ArgumentList 16
                [System.Array]::Copy($Bytes, $state.At, $guidBytes, 0, 16)
                $state.At += 16
                $classId = '{' + (New-Object -TypeName System.Guid -ArgumentList (, $guidBytes)).ToString() + '}'
                $null = Read-TaskBlobString -Bytes $Bytes -State $state
                [void]$actions.Add([pscustomobject]@{ Type = 'com'; Command = $null; Arguments = $null; ClassId = $classId })
            } else {
                $state.Ok = $false
            }
        }
        if ($state.Ok -and $state.At -eq $Bytes.Length -and $actions.Count -gt 0) { return , $actions.ToArray() }
    }
    return $null
}

function Read-TaskBlobString {
    <#
    .SYNOPSIS
        One length-prefixed UTF-16LE string of an Actions blob at State.At; sets State.Ok to false when it does not fit.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][byte[]]$Bytes, [Parameter(Mandatory = $true)][hashtable]$State)
    if (-not $State.Ok -or $State.At + 4 -gt $Bytes.Length) { $State.Ok = $false; return $null }
    $length = [int64][System.BitConverter]::ToUInt32($Bytes, $State.At)
    $State.At += 4
    if ($length % 2 -ne 0 -or $State.At + $length -gt $Bytes.Length) { $State.Ok = $false; return $null }
    $text = [System.Text.Encoding]::Unicode.GetString($Bytes, $State.At, [int]$length)
    $State.At += [int]$length
    return $text.TrimEnd([char]0)
}

function Add-TaskCacheEntry {
    <#
    .SYNOPSIS
        Tasks read from the registry TaskCache that the task API did not list, or whose Tree key has no
        security descriptor (SD): a task hidden that way still runs. The action is decoded from the
        Actions value when its layout is the known one, else the task is reported with a note.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $cache = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache'
    foreach ($id in (Get-SpawnGuardRegistrySubKeyName -Path ($cache + '\Tasks'))) {
        $key = $cache + '\Tasks\' + $id
        $taskPath = [string](Get-SpawnGuardRegistryValue -Path $key -Name 'Path')
        if ($taskPath.Length -eq 0) { continue }
        $tree = $cache + '\Tree' + $taskPath
        $notes = New-Object -TypeName System.Collections.ArrayList
        if (-not (Test-SpawnGuardRegistryKey -Path $tree)) { [void]$notes.Add('no Tree key') }
        elseif ($null -eq (Get-SpawnGuardRegistryValue -Path $tree -Name 'SD')) { [void]$notes.Add('hidden: no security descriptor') }
        if ($null -ne $script:ApiTaskPaths -and -not $script:ApiTaskPaths.ContainsKey($taskPath)) { [void]$notes.Add('not listed by the task scheduler') }
        if ($notes.Count -eq 0) { continue }
        $label = $taskPath + ' (' + ($notes.ToArray() -join '; ') + ')'
        $blob = Get-SpawnGuardRegistryValue -Path $key -Name 'Actions'
        $actions = $null
        # A REG_BINARY value reaches us unrolled (object[] of bytes); anything else is not an Actions blob.
        if ($null -ne $blob) {
            try { $actions = ConvertFrom-TaskActionBlob -Bytes ([byte[]]@($blob)) } catch { $actions = $null }
        }
        if ($null -eq $actions) {
            Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location (ConvertTo-ShortHiveName -Path $key) -Name ($label + ' (actions not decoded)') -CommandLine $null -ImagePath $null -ImageKnown
            continue
        }
        foreach ($action in $actions) {
            if ($action.Type -eq 'exec') {
                $command = [string]$action.Command
                if (([string]$action.Arguments).Length -gt 0) { $command = $command + ' ' + [string]$action.Arguments }
                Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location (ConvertTo-ShortHiveName -Path $key) -Name $label -CommandLine $command -ImagePath (Resolve-CommandImage -CommandLine ([string]$action.Command))
            } else {
                Add-ComHandlerEntry -Result $Result -References $References -Location (ConvertTo-ShortHiveName -Path $key) -Name $label -ClassId $action.ClassId -User $null
            }
        }
    }
}

function Add-ServiceEntry {
    <#
    .SYNOPSIS
        Every service's ImagePath, its ServiceDll when it runs inside svchost, and its FailureCommand.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'
    foreach ($name in (Get-SpawnGuardRegistrySubKeyName -Path $services)) {
        $path = $services + '\' + $name
        $imagePath = Get-SpawnGuardRegistryValue -Path $path -Name 'ImagePath'
        if ($null -eq $imagePath -or [string]$imagePath -eq '') { continue }
        $account = [string](Get-SpawnGuardRegistryValue -Path $path -Name 'ObjectName')
        Add-PersistenceEntry -Result $Result -References $References -Kind 'service' -Location (ConvertTo-ShortHiveName -Path $path) -Name $name -CommandLine ([string]$imagePath) -User $account
        # Parenthesized: the comma binds tighter than +, and @($path + '\Parameters', $path) is one bogus key name.
        foreach ($dllKey in @(($path + '\Parameters'), $path)) {
            $dll = Get-SpawnGuardRegistryValue -Path $dllKey -Name 'ServiceDll'
            if ($null -ne $dll -and [string]$dll -ne '') {
                Add-PersistenceEntry -Result $Result -References $References -Kind 'service' -Location (ConvertTo-ShortHiveName -Path $dllKey) -Name ($name + ' (ServiceDll)') -CommandLine ([string]$dll) -ImagePath (Expand-SpawnGuardCommandText -CommandLine ([string]$dll)) -User $account
                break
            }
        }
        # The recovery program the service control manager runs when the service fails.
        $failure = [string](Get-SpawnGuardRegistryValue -Path $path -Name 'FailureCommand')
        if ($failure.Trim().Length -gt 0) {
            Add-PersistenceEntry -Result $Result -References $References -Kind 'service' -Location (ConvertTo-ShortHiveName -Path $path) -Name ($name + ' (FailureCommand)') -CommandLine $failure -User $account
        }
    }
}

function Add-ScheduledTaskEntry {
    <#
    .SYNOPSIS
        Every scheduled task action: Get-ScheduledTask where it exists, else the Schedule.Service COM object.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $tasks = Get-SpawnGuardScheduledTask
    if ($null -eq $tasks) {
        Add-ScheduledTaskComEntry -Result $Result -References $References
        return
    }
    $script:ApiTaskPaths = @{}
    foreach ($task in $tasks) {
        $location = [string]$task.TaskPath + [string]$task.TaskName
        $script:ApiTaskPaths[$location] = $true
        $user = $null
        if ($null -ne $task.Principal) { $user = [string]$task.Principal.UserId }
        foreach ($action in @($task.Actions)) {
            if ($null -ne $action.PSObject.Properties['Execute']) {
                $command = [string]$action.Execute
                $arguments = ''
                if ($null -ne $action.PSObject.Properties['Arguments']) { $arguments = [string]$action.Arguments }
                if ($arguments.Length -gt 0) { $command = $command + ' ' + $arguments }
                $image = Resolve-CommandImage -CommandLine ([string]$action.Execute)
                Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location $location -Name ([string]$task.TaskName) -CommandLine $command -ImagePath $image -User $user
            } elseif ($null -ne $action.PSObject.Properties['ClassId']) {
                Add-ComHandlerEntry -Result $Result -References $References -Location $location -Name ([string]$task.TaskName) -ClassId ([string]$action.ClassId) -User $user
            }
        }
    }
}

function Add-ComHandlerEntry {
    <#
    .SYNOPSIS
        A task action that runs a COM handler: the DLL registered for its CLSID is the image.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References,
        [Parameter(Mandatory = $true)][string]$Location,
        [Parameter(Mandatory = $true)][string]$Name,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$ClassId,
        [AllowNull()][AllowEmptyString()][string]$User
    )
    $server = $null
    if ($ClassId -match '^\{?[0-9A-Fa-f-]{36}\}?$') {
        $server = [string](Get-SpawnGuardRegistryValue -Path ('HKEY_LOCAL_MACHINE\SOFTWARE\Classes\CLSID\' + $ClassId + '\InprocServer32') -Name '')
    }
    $image = $null
    if (-not [string]::IsNullOrEmpty($server)) { $image = Expand-SpawnGuardCommandText -CommandLine $server }
    Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location $Location -Name $Name -CommandLine ('COM handler ' + $ClassId) -ImagePath $image -User $User -ImageKnown
}

function Add-ScheduledTaskComEntry {
    <#
    .SYNOPSIS
        Every scheduled task action through the Schedule.Service COM object (hidden tasks included).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $script:ApiTaskPaths = @{}
    foreach ($task in (Get-SpawnGuardScheduledTaskFromService)) {
        $script:ApiTaskPaths[[string]$task.Path] = $true
        foreach ($action in @($task.Actions)) {
            # Action types: 0 = TASK_ACTION_EXEC, 5 = TASK_ACTION_COM_HANDLER.
            if ($action.Type -eq 0) {
                $command = [string]$action.Path
                if (([string]$action.Arguments).Length -gt 0) { $command = $command + ' ' + [string]$action.Arguments }
                $image = Resolve-CommandImage -CommandLine ([string]$action.Path)
                Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location ([string]$task.Path) -Name ([string]$task.Name) -CommandLine $command -ImagePath $image -User ([string]$task.UserId)
            } elseif ($action.Type -eq 5) {
                Add-ComHandlerEntry -Result $Result -References $References -Location ([string]$task.Path) -Name ([string]$task.Name) -ClassId ([string]$action.ClassId) -User ([string]$task.UserId)
            }
        }
    }
}

function Add-WmiSubscriptionEntry {
    <#
    .SYNOPSIS
        Permanent WMI event consumers that run programs or scripts, the event filters (their WQL
        query is the trigger), and each filter-to-consumer binding joined to its consumer.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $consumers = @{}
    foreach ($consumer in (Get-SpawnGuardSubscriptionInstance -ClassName 'CommandLineEventConsumer')) {
        $command = [string]$consumer.CommandLineTemplate
        $image = [string]$consumer.ExecutablePath
        if ($command.Length -eq 0) { $command = $image }
        $consumers['CommandLineEventConsumer:' + [string]$consumer.Name] = [pscustomobject]@{ Command = $command; Image = $image }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:CommandLineEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
    foreach ($consumer in (Get-SpawnGuardSubscriptionInstance -ClassName 'ActiveScriptEventConsumer')) {
        $command = [string]$consumer.ScriptFileName
        if ($command.Length -eq 0) { $command = [string]$consumer.ScriptText }
        # ActiveScript consumers run inside scrcons.exe; the script file, when there is one, is the payload.
        $image = Find-ImageOnSearchPath -Name 'scrcons.exe'
        if (([string]$consumer.ScriptFileName).Length -gt 0) { $image = [string]$consumer.ScriptFileName }
        $consumers['ActiveScriptEventConsumer:' + [string]$consumer.Name] = [pscustomobject]@{ Command = $command; Image = $image }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:ActiveScriptEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
    foreach ($filter in (Get-SpawnGuardSubscriptionInstance -ClassName '__EventFilter')) {
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:__EventFilter' -Name ([string]$filter.Name) -CommandLine ([string]$filter.Query) -ImagePath $null -ImageKnown
    }
    foreach ($binding in (Get-SpawnGuardSubscriptionInstance -ClassName '__FilterToConsumerBinding')) {
        $filter = ConvertFrom-SpawnGuardWmiReference -Reference $binding.Filter
        $consumer = ConvertFrom-SpawnGuardWmiReference -Reference $binding.Consumer
        $target = $consumers[$consumer.Class + ':' + $consumer.Name]
        $command = $consumer.Class + '.Name="' + $consumer.Name + '"'
        $image = $null
        if ($null -ne $target) {
            $command = $target.Command
            $image = $target.Image
        }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:__FilterToConsumerBinding' -Name ($filter.Name + ' -> ' + $consumer.Class + ' ' + $consumer.Name) -CommandLine $command -ImagePath $image -ImageKnown
    }
}

function Add-BitsJobEntry {
    <#
    .SYNOPSIS
        Every user's BITS jobs: the command a job runs when it completes or fails (SetNotifyCmdLine),
        else the files it transfers.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $jobs = Get-SpawnGuardBitsJob
    if ($null -eq $jobs) {
        Add-SpawnGuardError -Result $Result -Code 'bits-job-unavailable' -Message 'BITS jobs were not listed: Get-BitsTransfer is missing on this host.'
        return
    }
    foreach ($job in $jobs) {
        $command = [string]$job.NotifyCommandLine
        $image = $null
        $imageKnown = $false
        if ($command.Trim().Length -eq 0) {
            $command = 'transfers ' + (@($job.Files) -join '; ')
            $imageKnown = $true
        }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'bits-job' -Location ('BITS job ' + [string]$job.JobId) -Name ([string]$job.DisplayName) -CommandLine $command -ImagePath $image -User ([string]$job.Owner) -ImageKnown:$imageKnown
    }
}

function Get-ClassServer {
    <#
    .SYNOPSIS
        The server of a class id: Kind (InprocServer32 or LocalServer32) and Text (the DLL or
        command line), from the first classes root that has one; $null when none does.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$ClassId, [Parameter(Mandatory = $true)][string[]]$ClassesRoots)
    if ($ClassId -notmatch '^\{?[0-9A-Fa-f-]{36}\}?$') { return $null }
    foreach ($lookup in $ClassesRoots) {
        foreach ($server in @('InprocServer32', 'LocalServer32')) {
            $value = [string](Get-SpawnGuardRegistryValue -Path ($lookup + '\CLSID\' + $ClassId + '\' + $server) -Name '')
            if ($value.Trim().Length -gt 0) { return [pscustomobject]@{ Kind = $server; Text = $value } }
        }
    }
    return $null
}

function Get-ProgIdServer {
    <#
    .SYNOPSIS
        The DLL (InprocServer32) or program (LocalServer32) of a ProgID, looked up in the given classes roots in order.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$ProgId, [Parameter(Mandatory = $true)][string[]]$ClassesRoots)
    foreach ($root in $ClassesRoots) {
        $classId = [string](Get-SpawnGuardRegistryValue -Path ($root + '\' + $ProgId + '\CLSID') -Name '')
        $server = Get-ClassServer -ClassId $classId -ClassesRoots $ClassesRoots
        if ($null -ne $server) { return $server.Text }
    }
    return $null
}

function Add-OfficeAddinEntry {
    <#
    .SYNOPSIS
        Office add-ins (Software\Microsoft\Office\<app>\Addins\<ProgID>, machine-wide and per user):
        the Manifest (VSTO) or the DLL registered for the ProgID's CLSID; and each user's Word STARTUP
        and Excel XLSTART folders.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $machineClasses = @('HKEY_LOCAL_MACHINE\SOFTWARE\Classes', 'HKEY_LOCAL_MACHINE\SOFTWARE\Classes\Wow6432Node')
    $roots = New-Object -TypeName System.Collections.ArrayList
    foreach ($software in @('HKEY_LOCAL_MACHINE\SOFTWARE', 'HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node')) {
        [void]$roots.Add([pscustomobject]@{ Software = $software; Classes = $machineClasses; User = $null; Environment = $null })
    }
    foreach ($hive in (Get-UserHive)) {
        $userClasses = $hive.Root + '\Software\Classes'
        if (-not [string]::IsNullOrEmpty($hive.ClassesRoot)) { $userClasses = $hive.ClassesRoot }
        [void]$roots.Add([pscustomobject]@{ Software = ($hive.Root + '\Software'); Classes = (@($userClasses) + $machineClasses); User = $hive.User; Environment = $hive.Environment })
    }
    foreach ($root in $roots) {
        foreach ($key in (Resolve-SourceKey -Path ($root.Software + '\Microsoft\Office\*\Addins\*'))) {
            $progId = $key.Path.Substring($key.Path.LastIndexOf('\') + 1)
            $manifest = [string](Get-SpawnGuardRegistryValue -Path $key.Path -Name 'Manifest')
            $server = Get-ProgIdServer -ProgId $progId -ClassesRoots $root.Classes
            $command = $server
            $image = $null
            if (-not [string]::IsNullOrEmpty($server)) { $image = Resolve-CommandImage -CommandLine $server -Environment $root.Environment }
            if ($manifest.Trim().Length -gt 0) {
                $command = $manifest
                # file:///C:/Addins/x.vsto|vstolocal
                $manifestPath = ($manifest -replace '\|vstolocal$', '' -replace '^file:///', '').Replace('/', '\')
                if ($null -eq $image) { $image = Expand-SpawnGuardCommandText -CommandLine $manifestPath -Environment $root.Environment }
            }
            $name = $key.Match + ' ' + $progId
            $loadBehavior = Get-SpawnGuardRegistryValue -Path $key.Path -Name 'LoadBehavior'
            if ($null -ne $loadBehavior) { $name = $name + ' (LoadBehavior ' + [string]$loadBehavior + ')' }
            Add-PersistenceEntry -Result $Result -References $References -Kind 'office-addin' -Location (ConvertTo-ShortHiveName -Path $key.Path) -Name $name -CommandLine $command -ImagePath $image -User $root.User -Environment $root.Environment -ImageKnown
        }
    }
    foreach ($hive in (Get-UserHive)) {
        if ($null -ne $hive.Environment -and $hive.Environment.ContainsKey('APPDATA')) {
            foreach ($folder in @('Microsoft\Word\STARTUP', 'Microsoft\Excel\XLSTART')) {
                Add-FolderFileEntry -Result $Result -References $References -Kind 'office-addin' -Folder (Join-SpawnGuardPath -Path $hive.Environment['APPDATA'] -ChildPath $folder) -User $hive.User
            }
        }
        # Word's and Excel's options can name another startup folder (File > Options > Advanced).
        foreach ($option in @(@('Word\Options', 'STARTUP-PATH'), @('Excel\Options', 'AltStartup'))) {
            foreach ($key in (Resolve-SourceKey -Path ($hive.Root + '\Software\Microsoft\Office\*\' + $option[0]))) {
                $folder = [string](Get-SpawnGuardRegistryValue -Path $key.Path -Name $option[1])
                $expanded = Expand-SpawnGuardCommandText -CommandLine $folder.Trim() -Environment $hive.Environment
                # A remote folder is noted (never opened) by Add-FolderFileEntry; a relative one names nothing.
                if (-not (Test-SpawnGuardRemotePath -Path $expanded) -and -not (Test-SpawnGuardAbsolutePath -Path $expanded)) { continue }
                Add-FolderFileEntry -Result $Result -References $References -Kind 'office-addin' -Folder $expanded -User $hive.User
            }
        }
    }
    # The installation's own STARTUP and XLSTART load for every user.
    foreach ($folder in (Get-OfficeProgramFolder)) {
        foreach ($child in @('STARTUP', 'XLSTART')) {
            Add-FolderFileEntry -Result $Result -References $References -Kind 'office-addin' -Folder (Join-SpawnGuardPath -Path $folder -ChildPath $child)
        }
    }
}

function Get-OfficeProgramFolder {
    <#
    .SYNOPSIS
        The folders Office programs are installed in: each version's Common\InstallRoot Path (MSI
        installs, both registry views) and Click-to-Run's InstallPath\root\Office<nn>. Local paths only.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param()
    $folders = New-Object -TypeName System.Collections.ArrayList
    foreach ($software in @('HKEY_LOCAL_MACHINE\SOFTWARE', 'HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node')) {
        foreach ($key in (Resolve-SourceKey -Path ($software + '\Microsoft\Office\*\Common\InstallRoot'))) {
            [void]$folders.Add([string](Get-SpawnGuardRegistryValue -Path $key.Path -Name 'Path'))
        }
    }
    $clickToRun = [string](Get-SpawnGuardRegistryValue -Path 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Office\ClickToRun' -Name 'InstallPath')
    if ($clickToRun.Trim().Length -gt 0) {
        foreach ($version in @('Office16', 'Office15')) { [void]$folders.Add((Join-SpawnGuardPath -Path $clickToRun.Trim() -ChildPath ('root\' + $version))) }
    }
    $unique = New-Object -TypeName System.Collections.ArrayList
    foreach ($folder in $folders) {
        $trimmed = $folder.Trim().TrimEnd('\')
        if ($trimmed.Length -eq 0 -or -not (Test-SpawnGuardAbsolutePath -Path $trimmed) -or (Test-SpawnGuardRemotePath -Path $trimmed)) { continue }
        $known = $false
        foreach ($seen in $unique) { if ([string]::Equals($seen, $trimmed, [System.StringComparison]::OrdinalIgnoreCase)) { $known = $true } }
        if (-not $known) { [void]$unique.Add($trimmed) }
    }
    return , [string[]]$unique.ToArray()
}

function Add-GroupPolicyScriptEntry {
    <#
    .SYNOPSIS
        Group Policy startup, shutdown, logon and logoff scripts: the local policy's scripts.ini and
        psscripts.ini files, and the scripts the applied policies wrote to the registry.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $policy = Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath 'System32\GroupPolicy'
    foreach ($scope in @('Machine', 'User')) {
        $scripts = Join-SpawnGuardPath -Path $policy -ChildPath ($scope + '\Scripts')
        foreach ($file in @('scripts.ini', 'psscripts.ini')) {
            $path = Join-SpawnGuardPath -Path $scripts -ChildPath $file
            if (-not (Test-SpawnGuardFile -LiteralPath $path)) { continue }
            foreach ($item in (ConvertFrom-ScriptsIni -Text (Read-SpawnGuardTextFile -LiteralPath $path))) {
                $scriptPath = $item.CmdLine
                $image = $null
                # A bare name is a file of the policy's Scripts\<Section> folder.
                if (-not $scriptPath.Contains('\')) { $image = Join-SpawnGuardPath -Path $scripts -ChildPath ($item.Section + '\' + $scriptPath.Trim('"')) }
                $command = '"' + $scriptPath.Trim('"') + '"'
                if ($item.Parameters.Length -gt 0) { $command = $command + ' ' + $item.Parameters }
                Add-PersistenceEntry -Result $Result -References $References -Kind 'gpo-script' -Location ($path + ' [' + $item.Section + ']') -Name ($item.Index + 'CmdLine') -CommandLine $command -ImagePath $image
            }
        }
    }
    $relative = 'Microsoft\Windows\CurrentVersion\Group Policy\Scripts\*\*\*'
    # State\Machine and State\<SID> hold the scripts as last applied, for the machine and each user.
    $state = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\State\*\Scripts\*\*\*'
    $roots = @(
        [pscustomobject]@{ Path = ('HKEY_LOCAL_MACHINE\SOFTWARE\' + $relative); User = $null; Environment = $null },
        [pscustomobject]@{ Path = $state; User = $null; Environment = $null }
    )
    foreach ($hive in (Get-UserHive)) { $roots += [pscustomobject]@{ Path = ($hive.Root + '\Software\' + $relative); User = $hive.User; Environment = $hive.Environment } }
    foreach ($root in $roots) {
        foreach ($key in (Resolve-SourceKey -Path $root.Path)) {
            $scriptPath = [string](Get-SpawnGuardRegistryValue -Path $key.Path -Name 'Script')
            if ($scriptPath.Trim().Length -eq 0) { continue }
            $command = '"' + $scriptPath.Trim('"') + '"'
            $parameters = [string](Get-SpawnGuardRegistryValue -Path $key.Path -Name 'Parameters')
            if ($parameters.Length -gt 0) { $command = $command + ' ' + $parameters }
            Add-PersistenceEntry -Result $Result -References $References -Kind 'gpo-script' -Location (ConvertTo-ShortHiveName -Path $key.Path) -Name ($key.Match + ' Script') -CommandLine $command -User $root.User -Environment $root.Environment
        }
    }
}

function ConvertFrom-ScriptsIni {
    <#
    .SYNOPSIS
        The scripts of a scripts.ini / psscripts.ini: Section, Index, CmdLine and Parameters of each.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([AllowNull()][AllowEmptyString()][string]$Text)
    $items = New-Object -TypeName System.Collections.ArrayList
    $section = ''
    $found = @{}
    foreach ($line in ([string]$Text -split "`r?`n")) {
        $trimmed = $line.Trim()
        if ($trimmed -match '^\[(.+)\]$') { $section = $Matches[1]; continue }
        if ($trimmed -match '^(\d+)(CmdLine|Parameters)=(.*)$') {
            $key = $section + '|' + $Matches[1]
            if (-not $found.ContainsKey($key)) {
                $found[$key] = [pscustomobject]@{ Section = $section; Index = $Matches[1]; CmdLine = ''; Parameters = '' }
                [void]$items.Add($found[$key])
            }
            $found[$key].($Matches[2]) = $Matches[3].Trim()
        }
    }
    $scripts = New-Object -TypeName System.Collections.ArrayList
    foreach ($item in $items) { if ($item.CmdLine.Length -gt 0) { [void]$scripts.Add($item) } }
    return , $scripts.ToArray()
}

function Invoke-FetchPersistenceEntries {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-PersistenceRequest -Bound $Bound
        $references = [string[]]@($parsed.ReferencePaths)
        try {
            Initialize-UserHive -Result $Result
            # One row of the table at a time: a source that cannot be read is noted, the others still run.
            foreach ($source in (Get-PersistenceSource)) {
                try {
                    switch ($source.Collector) {
                        '' { Add-RegistrySourceEntry -Result $Result -References $references -Source $source }
                        'Add-ScheduledTaskEntry' { Add-ScheduledTaskEntry -Result $Result -References $references }
                        'Add-TaskCacheEntry' { Add-TaskCacheEntry -Result $Result -References $references }
                        'Add-StartupFolderEntry' { Add-StartupFolderEntry -Result $Result -References $references }
                        'Add-ServiceEntry' { Add-ServiceEntry -Result $Result -References $references }
                        'Add-WmiSubscriptionEntry' { Add-WmiSubscriptionEntry -Result $Result -References $references }
                        'Add-BitsJobEntry' { Add-BitsJobEntry -Result $Result -References $references }
                        'Add-OfficeAddinEntry' { Add-OfficeAddinEntry -Result $Result -References $references }
                        'Add-GroupPolicyScriptEntry' { Add-GroupPolicyScriptEntry -Result $Result -References $references }
                    }
                } catch {
                    Add-SpawnGuardError -Result $Result -Code ($source.Kind + '-unavailable') -Message $_.Exception.Message
                }
            }
        } finally {
            # A hive loaded from NTUSER.DAT is unloaded whatever happened: left loaded, its user could not log on.
            Dismount-UserHive -Result $Result
        }
    } catch {
        Add-SpawnGuardError -Result $Result -Code (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
    }
}

# Main guard: dot-sourcing the script (as the Pester tests do) loads its functions and runs nothing.
if ($MyInvocation.InvocationName -ne '.') {
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-FetchPersistenceEntries -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
