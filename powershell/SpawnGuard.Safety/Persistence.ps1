<#
.SYNOPSIS
    Persistence entries an analyst approved for removal, and their backups: where each removable
    kind may be removed from, whether an entry still references the offending file, the backup
    documents and their store.

.DESCRIPTION
    Pure logic and the backup files (through Platform.ps1's file functions). The registry, task,
    service and WMI calls are made by RemovePersistenceEntry.ps1 and RestorePersistenceEntry.ps1,
    through the seam. A location or name from a request or a backup is data: it is matched against
    the known places of its kind here, and a place that does not match is never written.
#>

# ---------- command lines (shared with FetchPersistenceEntries.ps1) ----------

function Expand-SpawnGuardCommandText {
    <#
    .SYNOPSIS
        A command line with environment variables (a user's own first, when given) and NT path
        prefixes (\??\, \SystemRoot\) expanded.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$CommandLine, [AllowNull()][hashtable]$Environment)
    if ([string]::IsNullOrEmpty($CommandLine)) { return '' }
    $text = $CommandLine.Trim()
    # A user's value: that user's variables first (SYSTEM's %APPDATA% is not theirs).
    if ($null -ne $Environment) {
        foreach ($name in @($Environment.Keys)) {
            $text = [regex]::Replace($text, ('%' + [regex]::Escape([string]$name) + '%'), ([string]$Environment[$name]).Replace('$', '$$'), [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)
        }
    }
    $text = [System.Environment]::ExpandEnvironmentVariables($text)
    if ($text.StartsWith('\??\')) { $text = $text.Substring(4) }
    if ($text -match '^\\SystemRoot\\') { $text = $env:SystemRoot + $text.Substring(11) }
    if ($text -match '^(?i)system32\\') { $text = (Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath $text) }
    return $text
}

function Test-SpawnGuardCommandReference {
    <#
    .SYNOPSIS
        True when a command line (variables expanded, a user's own first) names the file: its
        normalized path is inside the normalized command, as FetchPersistenceEntries.ps1 flags it.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [AllowNull()][AllowEmptyString()][string]$CommandLine,
        [Parameter(Mandatory = $true)][string]$MatchedPath,
        [AllowNull()][hashtable]$Environment
    )
    $reference = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-SpawnGuardCommandText -CommandLine $MatchedPath)
    if ($reference.Length -eq 0) { return $false }
    $command = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-SpawnGuardCommandText -CommandLine $CommandLine -Environment $Environment)
    return $command.Contains($reference)
}

function ConvertFrom-SpawnGuardWmiReference {
    <#
    .SYNOPSIS
        Class and Name of a binding's Filter or Consumer: a CIM instance reference, or a WMI path
        such as CommandLineEventConsumer.Name="x".
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([AllowNull()][object]$Reference)
    if ($null -eq $Reference) { return [pscustomobject]@{ Class = ''; Name = '' } }
    if ($Reference -is [string]) {
        $class = ($Reference -replace '^.*:', '') -replace '\..*$', ''
        $name = ''
        if ($Reference -match 'Name="((?:[^"\\]|\\.)*)"') { $name = $Matches[1] -replace '\\(.)', '$1' }
        return [pscustomobject]@{ Class = $class; Name = $name }
    }
    $class = ''
    if ($null -ne $Reference.PSObject.Properties['CimClass'] -and $null -ne $Reference.CimClass) { $class = [string]$Reference.CimClass.CimClassName }
    elseif ($null -ne $Reference.PSObject.Properties['__CLASS']) { $class = [string]$Reference.__CLASS }
    $name = ''
    if ($null -ne $Reference.PSObject.Properties['Name']) { $name = [string]$Reference.Name }
    return [pscustomobject]@{ Class = $class; Name = $name }
}

# ---------- the kinds ----------

function Get-SpawnGuardPersistenceKind {
    <#
    .SYNOPSIS
        The persistence kinds of the contract (PERSISTENCE_KINDS), or only those a host removes and
        restores (-Removable: REMOVABLE_PERSISTENCE_KINDS).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([switch]$Removable)
    if ($Removable) { return , [string[]]$script:RemovablePersistenceKinds }
    return , [string[]]$script:PersistenceKinds
}

function Get-SpawnGuardPersistenceBackupFormat {
    <#
    .SYNOPSIS
        The backup format of a removable kind (registry-value, task-xml, service-start,
        wmi-instance, quarantined-file), or $null for any other kind.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Kind)
    if ($script:RemovablePersistenceKinds -cnotcontains $Kind) { return $null }
    return [string]$script:PersistenceBackupFormats[$Kind]
}

function Get-SpawnGuardSubscriptionProperty {
    <#
    .SYNOPSIS
        The properties backed up and written back for an event consumer class, or $null for a
        class that is not a consumer removed here (an event filter, a binding, anything else).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$ClassName)
    foreach ($known in @($script:SubscriptionConsumerProperties.Keys)) {
        if ([string]::Equals([string]$known, $ClassName, [System.StringComparison]::Ordinal)) { return , [string[]]$script:SubscriptionConsumerProperties[$known] }
    }
    return $null
}

function ConvertTo-SpawnGuardSubscriptionValue {
    <#
    .SYNOPSIS
        A consumer property as a backup gives it back, in the type WMI expects: the numeric ones
        (uint32 in the schema) as UInt32; strings and booleans as they are. Throws 'invalid-backup'
        for anything else (a list, an object, a number out of range).
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Property, [AllowNull()][object]$Value)
    if ($null -eq $Value) { return $null }
    if ($script:SubscriptionNumericProperties -contains $Property) {
        if (($Value -is [int] -or $Value -is [long]) -and [int64]$Value -ge 0 -and [int64]$Value -le 4294967295) { return [uint32]$Value }
        if ($Value -is [uint32]) { return $Value }
    } elseif ($Value -is [string] -or $Value -is [bool]) {
        return $Value
    }
    throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup gives ' + $Property + ' a value of the wrong type.'))
}

# ---------- where each kind may be removed from ----------

function ConvertTo-SpawnGuardRunKeyPath {
    <#
    .SYNOPSIS
        The full key name (HKEY_LOCAL_MACHINE\... or HKEY_USERS\<SID>\...) of a run-key location as
        FetchPersistenceEntries reports it (HKLM\SOFTWARE\..., HKLM\SOFTWARE\Wow6432Node\...,
        HKU\<SID>\Software\...), with the SID of a user hive ($null for the machine): only Run,
        RunOnce, RunOnceEx (and its subkeys and Depend lists) and Policies\Explorer\Run. $null for
        any other place, a hive loaded from a file by the listing, or anything with '..' in it.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Location)
    if ($Location -match '^(?:HKLM|HKEY_LOCAL_MACHINE)\\SOFTWARE\\(Wow6432Node\\)?(.+)$') {
        $view = $Matches[1]
        $relative = $Matches[2]
        if ($relative -notmatch $script:RunKeyPattern) { return $null }
        $prefix = 'HKEY_LOCAL_MACHINE\SOFTWARE\'
        if (-not [string]::IsNullOrEmpty($view)) { $prefix = $prefix + 'Wow6432Node\' }
        return [pscustomobject]@{ Key = ($prefix + $relative); Sid = $null }
    }
    if ($Location -match '^(?:HKU|HKEY_USERS)\\(S-1-[0-9]+(?:-[0-9]+)+)\\Software\\(.+)$') {
        $sid = $Matches[1]
        $relative = $Matches[2]
        if ($relative -notmatch $script:RunKeyPattern) { return $null }
        return [pscustomobject]@{ Key = ('HKEY_USERS\' + $sid + '\Software\' + $relative); Sid = $sid }
    }
    return $null
}

# ---------- a logged-off user's hive (shared with FetchPersistenceEntries.ps1) ----------

function Get-SpawnGuardProfileImagePath {
    <#
    .SYNOPSIS
        A profile's folder (ProfileImagePath of HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\<SID>,
        variables expanded), or '' when the SID has no profile.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Sid)
    if ($Sid -notmatch '^S-1-[0-9]+(-[0-9]+)+$') { return '' }
    $value = Get-SpawnGuardRegistryValue -Path ('HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\' + $Sid) -Name 'ProfileImagePath'
    return [System.Environment]::ExpandEnvironmentVariables([string]$value)
}

function Mount-SpawnGuardProfileHive {
    <#
    .SYNOPSIS
        Loads a logged-off user's NTUSER.DAT (and with -Classes their UsrClass.dat) under
        HKEY_USERS\SpawnGuard_<SID> for the time of one operation. Returns { Sid, Root (the loaded
        key, $null when nothing was loaded), ClassesRoot, File, ClassesFile, ProfilePath, Names (what
        Dismount-SpawnGuardProfileHive unloads), Problem (why the hive was not loaded, or why the
        classes hive was not; $null when the profile simply has no hive file) }. The profile folder
        is ProfilePath, else the SID's ProfileImagePath. Never loads a remote path (it would
        authenticate the machine account to its server), a path that is not a local drive path, or
        one reached through a junction or link; only account SIDs (not SYSTEM, LOCAL SERVICE,
        NETWORK SERVICE). The caller unloads it in a finally.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Sid, [AllowNull()][AllowEmptyString()][string]$ProfilePath, [switch]$Classes)
    $hive = [pscustomobject]@{ Sid = $Sid; Root = $null; ClassesRoot = $null; File = $null; ClassesFile = $null; ProfilePath = $ProfilePath; Names = @(); Problem = $null }
    if ($Sid -notmatch '^S-1-[0-9]+(-[0-9]+)+$' -or $Sid -match '^S-1-5-(18|19|20)$') {
        $hive.Problem = ('Not the SID of a user account whose hive is loaded from a profile: ' + $Sid + '.')
        return $hive
    }
    if ([string]::IsNullOrEmpty($ProfilePath)) { $ProfilePath = Get-SpawnGuardProfileImagePath -Sid $Sid }
    $hive.ProfilePath = $ProfilePath
    if ([string]::IsNullOrEmpty($ProfilePath)) {
        $hive.Problem = ('The hive of ' + $Sid + ' is not loaded and the SID has no profile (no ProfileImagePath in ProfileList).')
        return $hive
    }
    if (Test-SpawnGuardRemotePath -Path $ProfilePath) {
        $hive.Problem = ('The hive of ' + $Sid + ' was not loaded: its profile path is remote (' + $ProfilePath + '), which is never opened.')
        return $hive
    }
    if ($ProfilePath -notmatch '^[A-Za-z]:\\' -or -not (Test-SpawnGuardAbsolutePath -Path $ProfilePath)) {
        $hive.Problem = ('The hive of ' + $Sid + ' was not loaded: its profile path is not a local drive path (' + $ProfilePath + ').')
        return $hive
    }
    $file = Join-SpawnGuardPath -Path $ProfilePath -ChildPath 'NTUSER.DAT'
    if (-not (Test-SpawnGuardFile -LiteralPath $file)) { return $hive }
    $hive.File = $file
    $link = Find-SpawnGuardReparsePoint -LiteralPath $file
    if ($null -ne $link) {
        $hive.Problem = ('The hive of ' + $Sid + ' was not loaded: ' + $link + ' is a junction or link, which is never followed.')
        return $hive
    }
    $name = 'SpawnGuard_' + $Sid
    try {
        $hive.Root = Mount-SpawnGuardUserHive -Name $name -LiteralPath $file
    } catch {
        $hive.Problem = ('The hive of ' + $Sid + ' (' + $file + ') could not be loaded: ' + $_.Exception.Message)
        return $hive
    }
    $hive.Names = @($name)
    if (-not $Classes) { return $hive }
    $classesFile = Join-SpawnGuardPath -Path $ProfilePath -ChildPath 'AppData\Local\Microsoft\Windows\UsrClass.dat'
    if (-not (Test-SpawnGuardFile -LiteralPath $classesFile)) { return $hive }
    $link = Find-SpawnGuardReparsePoint -LiteralPath $classesFile
    if ($null -ne $link) {
        $hive.Problem = ('The classes hive of ' + $Sid + ' was not loaded: ' + $link + ' is a junction or link, which is never followed.')
        return $hive
    }
    try {
        $hive.ClassesRoot = Mount-SpawnGuardUserHive -Name ($name + '_Classes') -LiteralPath $classesFile
        $hive.ClassesFile = $classesFile
        $hive.Names = @($name, ($name + '_Classes'))
    } catch {
        $hive.Problem = ('The classes hive of ' + $Sid + ' (' + $classesFile + ') could not be loaded: ' + $_.Exception.Message)
    }
    return $hive
}

function Dismount-SpawnGuardProfileHive {
    <#
    .SYNOPSIS
        Unloads what Mount-SpawnGuardProfileHive loaded, last first (a hive left loaded would keep its
        user from logging on). Never throws: returns a sentence for each hive that could not be
        unloaded (empty when all were).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([AllowNull()][psobject]$Hive)
    $problems = New-Object -TypeName System.Collections.ArrayList
    if ($null -eq $Hive) { return , [string[]]@() }
    $names = @($Hive.Names)
    for ($i = $names.Length - 1; $i -ge 0; $i--) {
        $name = [string]$names[$i]
        try {
            Dismount-SpawnGuardUserHive -Name $name
        } catch {
            [void]$problems.Add(('HKEY_USERS\' + $name + ' (loaded by this run) could not be unloaded: ' + $_.Exception.Message))
        }
    }
    $Hive.Names = @()
    return , [string[]]$problems.ToArray()
}

function ConvertTo-SpawnGuardTaskPath {
    <#
    .SYNOPSIS
        The full task path ('\Folder\Name') of a scheduled-task entry (location = task path, name =
        task name), or $null when the location is not a task path ending in that name: no empty,
        '.' or '..' folder, no control character, not a TaskCache registry key.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Location, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    if ($Name.Length -eq 0 -or $Name.Contains('\') -or $Name -match '[\x00-\x1f]' -or $Name -eq '.' -or $Name -eq '..') { return $null }
    if (-not $Location.StartsWith('\') -or $Location -match '[\x00-\x1f]') { return $null }
    if (-not $Location.EndsWith('\' + $Name, [System.StringComparison]::OrdinalIgnoreCase)) { return $null }
    foreach ($segment in $Location.Substring(1).Split('\')) {
        if ($segment.Length -eq 0 -or $segment -eq '.' -or $segment -eq '..') { return $null }
    }
    return $Location
}

function ConvertTo-SpawnGuardServiceKey {
    <#
    .SYNOPSIS
        The service of a service entry: { Key = HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\<name>;
        ServiceName }, when the location is that key and the name is the service's; $null otherwise.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Location, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    if ($Location -notmatch '^(?:HKLM|HKEY_LOCAL_MACHINE)\\SYSTEM\\CurrentControlSet\\Services\\([^\\]+)$') { return $null }
    $service = $Matches[1]
    if (-not [string]::Equals($service, $Name, [System.StringComparison]::OrdinalIgnoreCase)) { return $null }
    if ($service -match '[\x00-\x1f/]' -or $service -eq '.' -or $service -eq '..') { return $null }
    return [pscustomobject]@{ Key = ('HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $service); ServiceName = $service }
}

function ConvertTo-SpawnGuardSubscriptionClass {
    <#
    .SYNOPSIS
        The root\subscription class of a wmi-subscription location ('root\subscription:<Class>'):
        CommandLineEventConsumer, ActiveScriptEventConsumer, __EventFilter or __FilterToConsumerBinding;
        $null for anything else.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Location)
    if ($Location -notmatch '^root\\subscription:([A-Za-z_]+)$') { return $null }
    foreach ($known in @('CommandLineEventConsumer', 'ActiveScriptEventConsumer', '__EventFilter', '__FilterToConsumerBinding')) {
        if ([string]::Equals($known, $Matches[1], [System.StringComparison]::OrdinalIgnoreCase)) { return $known }
    }
    return $null
}

function Test-SpawnGuardStartupFolder {
    <#
    .SYNOPSIS
        True for a startup folder a file may be removed from (or put back into): a plain local drive
        path, written as Windows resolves it (no '..', trailing dot, stream or 8.3 short name),
        ending in \Start Menu\Programs\Startup (Common Startup, or a profile's wherever it lives).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Path)
    if ([string]::IsNullOrEmpty($Path) -or $Path -notmatch '^[A-Za-z]:\\' -or (Test-SpawnGuardRemotePath -Path $Path)) { return $false }
    if (-not (Test-SpawnGuardAbsolutePath -Path $Path) -or (Test-SpawnGuardShortNamePath -Path $Path)) { return $false }
    $normalized = ConvertTo-SpawnGuardNormalizedPath -Path $Path.TrimEnd('\')
    if ((ConvertTo-SpawnGuardCanonicalPath -Path $Path) -ne $normalized) { return $false }
    return ($normalized -match $script:StartupFolderPattern)
}

function Test-SpawnGuardPlainFileName {
    <#
    .SYNOPSIS
        True for a file name without a folder, stream, wildcard or control character (not '.' or '..').
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Name)
    if ([string]::IsNullOrEmpty($Name) -or $Name -eq '.' -or $Name -eq '..') { return $false }
    if ($Name.TrimEnd([char[]]@('.', ' ')) -ne $Name) { return $false }
    return ($Name.IndexOfAny([char[]]@('\', '/', ':', '*', '?', '"', '<', '>', '|')) -lt 0 -and $Name -notmatch '[\x00-\x1f]')
}

# ---------- registry values as a backup holds them ----------

function New-SpawnGuardRegistryValueRecord {
    <#
    .SYNOPSIS
        The backup of one registry value: key, valueName, valueKind and data (a string, a list of
        strings, a number, or base64 for binary). Throws 'unsupported-value-kind' for a type a
        restore could not write back as it was.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$Key,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$ValueName,
        [Parameter(Mandatory = $true)][string]$Kind,
        [AllowNull()][object]$Data
    )
    $value = $null
    switch ($Kind) {
        'String' { $value = [string]$Data }
        'ExpandString' { $value = [string]$Data }
        'MultiString' { $value = [object[]]@(foreach ($item in @($Data)) { [string]$item }) }
        'DWord' { $value = [int64][int]$Data }
        'QWord' { $value = [int64]$Data }
        'Binary' { $value = [System.Convert]::ToBase64String([byte[]]@($Data)) }
        default { throw (New-SpawnGuardException -Code 'unsupported-value-kind' -Message ('A registry value of type ' + $Kind + ' is not backed up (only ' + ($script:RegistryValueKinds -join ', ') + ').')) }
    }
    return [ordered]@{ key = $Key; valueName = $ValueName; valueKind = $Kind; data = $value }
}

function ConvertFrom-SpawnGuardRegistryValueRecord {
    <#
    .SYNOPSIS
        The value a registry-value backup holds, in the .NET form its type is written with:
        { Kind; Value } (a string, string[], int, long or byte[], kept inside the object). Throws
        'invalid-backup' when the data does not fit the type.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Kind, [AllowNull()][object]$Data)
    if ($script:RegistryValueKinds -notcontains $Kind) {
        throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup names a registry value type that is not restored: ' + $Kind))
    }
    try {
        switch ($Kind) {
            'MultiString' {
                $strings = New-Object -TypeName System.Collections.ArrayList
                foreach ($item in @($Data)) {
                    if (-not ($item -is [string])) { throw 'not a list of strings' }
                    [void]$strings.Add($item)
                }
                $value = [string[]]$strings.ToArray()
            }
            'DWord' {
                if (-not ($Data -is [int] -or $Data -is [long])) { throw 'not a number' }
                $value = [int]$Data
            }
            'QWord' {
                if (-not ($Data -is [int] -or $Data -is [long])) { throw 'not a number' }
                $value = [long]$Data
            }
            'Binary' {
                if (-not ($Data -is [string])) { throw 'not base64' }
                $value = [System.Convert]::FromBase64String($Data)
            }
            default {
                if (-not ($Data -is [string])) { throw 'not a string' }
                $value = $Data
            }
        }
    } catch {
        throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup''s ' + $Kind + ' data is ' + $_.Exception.Message + '.'))
    }
    return [pscustomobject]@{ Kind = $Kind; Value = $value }
}

function Test-SpawnGuardRegistryDataEqual {
    <#
    .SYNOPSIS
        True when two registry values are the same data (strings compared exactly, lists and bytes
        element by element).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][object]$Left, [AllowNull()][object]$Right)
    if ($null -eq $Left -or $null -eq $Right) { return ($null -eq $Left -and $null -eq $Right) }
    $leftItems = @($Left)
    $rightItems = @($Right)
    if ($Left -is [string] -or $Right -is [string]) {
        return ($Left -is [string] -and $Right -is [string] -and [string]::Equals($Left, $Right, [System.StringComparison]::Ordinal))
    }
    if ($leftItems.Length -ne $rightItems.Length) { return $false }
    for ($i = 0; $i -lt $leftItems.Length; $i++) {
        if ($leftItems[$i] -is [string] -or $rightItems[$i] -is [string]) {
            if (-not [string]::Equals([string]$leftItems[$i], [string]$rightItems[$i], [System.StringComparison]::Ordinal)) { return $false }
        } elseif ([int64]$leftItems[$i] -ne [int64]$rightItems[$i]) {
            return $false
        }
    }
    return $true
}

# ---------- the backup store ----------

function Get-SpawnGuardBackupDirectory {
    <#
    .SYNOPSIS
        The persistence backup folder: the given one (validated), else
        %ProgramData%\spawnguard\persistence-backup. Guarded like the quarantine store
        (Initialize-SpawnGuardQuarantineDirectory, Assert-SpawnGuardQuarantineStore).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$BackupDirectory)
    return (Get-SpawnGuardStoreDirectory -Directory $BackupDirectory -Label 'Backup directory' -DefaultName 'persistence-backup')
}

function Get-SpawnGuardPersistenceBackupId {
    <#
    .SYNOPSIS
        The id of an entry's backup: lower-case hex SHA-256 of 'incidentId|kind|location|name'
        lower-cased (UTF-8), as PersistenceBackupSchema says.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$IncidentId,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Kind,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Location,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name
    )
    $text = ($IncidentId + '|' + $Kind + '|' + $Location + '|' + $Name).ToLowerInvariant()
    $hasher = [System.Security.Cryptography.SHA256]::Create()
    try {
        $bytes = $hasher.ComputeHash((New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetBytes($text))
    } finally {
        $hasher.Dispose()
    }
    return ([System.BitConverter]::ToString($bytes)).Replace('-', '').ToLowerInvariant()
}

function Get-SpawnGuardPersistenceBackupPath {
    <#
    .SYNOPSIS
        <Directory>\<id>.json, or <id>.restored.json (-Restored: the backup kept after a restore).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Id, [switch]$Restored)
    $suffix = '.json'
    if ($Restored) { $suffix = '.restored.json' }
    return (Join-SpawnGuardPath -Path $Directory -ChildPath ($Id + $suffix))
}

function New-SpawnGuardPersistenceBackup {
    <#
    .SYNOPSIS
        A backup document: who and what (id, incident, host, time, the entry as requested) and the
        format-specific data a restore needs.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$Id,
        [Parameter(Mandatory = $true)][string]$IncidentId,
        [Parameter(Mandatory = $true)][psobject]$Entry,
        [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Data
    )
    return [ordered]@{
        version     = 1
        id          = $Id
        incidentId  = $IncidentId
        hostname    = [System.Environment]::MachineName
        createdAt   = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
        kind        = [string]$Entry.kind
        location    = [string]$Entry.location
        name        = [string]$Entry.name
        matchedPath = [string]$Entry.matchedPath
        format      = Get-SpawnGuardPersistenceBackupFormat -Kind ([string]$Entry.kind)
        data        = $Data
    }
}

function Save-SpawnGuardPersistenceBackup {
    <#
    .SYNOPSIS
        Writes a backup document as UTF-8 JSON (no BOM) through a temporary file, restricts its ACL,
        then reads it back: the text must be what was written and its id the document's, or it
        throws 'backup-failed' (and the caller removes nothing).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Backup)
    $json = ConvertTo-Json -InputObject $Backup -Depth 12
    if (-not $PSCmdlet.ShouldProcess($LiteralPath, 'Write persistence backup')) { return }
    $temporary = $LiteralPath + '.tmp'
    Write-SpawnGuardTextFile -LiteralPath $temporary -Text $json
    if (Test-SpawnGuardFile -LiteralPath $LiteralPath) {
        Update-SpawnGuardFileFrom -Source $temporary -Destination $LiteralPath
    } else {
        Move-SpawnGuardFile -Source $temporary -Destination $LiteralPath
    }
    Set-SpawnGuardRestrictedAcl -LiteralPath $LiteralPath
    $readBack = Read-SpawnGuardTextFile -LiteralPath $LiteralPath
    $document = $null
    try { $document = ConvertFrom-SpawnGuardJson -Text $readBack } catch { $document = $null }
    if ($readBack -cne $json -or $null -eq $document -or [string]$document.id -cne [string]$Backup['id']) {
        throw (New-SpawnGuardException -Code 'backup-failed' -Message ('The backup ' + $LiteralPath + ' did not read back as written.'))
    }
}

function Read-SpawnGuardPersistenceBackup {
    <#
    .SYNOPSIS
        A backup document as an object, or $null when there is no such file; throws 'invalid-backup'
        when it is not JSON.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if (-not (Test-SpawnGuardFile -LiteralPath $LiteralPath)) { return $null }
    try {
        $document = ConvertFrom-SpawnGuardJson -Text (Read-SpawnGuardTextFile -LiteralPath $LiteralPath)
    } catch {
        throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup ' + $LiteralPath + ' is not JSON: ' + $_.Exception.Message))
    }
    if ($null -eq $document -or $document -is [System.Array] -or $document -is [string] -or $document -is [System.ValueType]) {
        throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup ' + $LiteralPath + ' is not a JSON object.'))
    }
    return $document
}

function Get-SpawnGuardBackupField {
    <#
    .SYNOPSIS
        One field of a backup document (or of its data), or $null when it is missing. A list comes
        back whole: assign it before wrapping it in @(...), which would wrap it once more.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][AllowNull()][object]$Document, [Parameter(Mandatory = $true)][string]$Name)
    if ($null -eq $Document -or $null -eq $Document.PSObject.Properties[$Name]) { return $null }
    # The comma keeps a list whole (a multi-string value, a list of bindings).
    return , $Document.PSObject.Properties[$Name].Value
}

function Assert-SpawnGuardPersistenceBackup {
    <#
    .SYNOPSIS
        Throws 'invalid-backup' unless a backup document is one of ours for this id: version 1, a
        removable kind with its format, string location, name and incident, data, and an id that
        is the hash of its own incident, kind, location and name.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Backup, [Parameter(Mandatory = $true)][string]$Id)
    $problems = New-Object -TypeName System.Collections.ArrayList
    if ([string](Get-SpawnGuardBackupField -Document $Backup -Name 'version') -ne '1') { [void]$problems.Add('version') }
    $kind = Get-SpawnGuardBackupField -Document $Backup -Name 'kind'
    if (-not ($kind -is [string]) -or $script:RemovablePersistenceKinds -notcontains $kind) {
        [void]$problems.Add('kind')
    } elseif ([string](Get-SpawnGuardBackupField -Document $Backup -Name 'format') -ne $script:PersistenceBackupFormats[$kind]) {
        [void]$problems.Add('format')
    }
    foreach ($field in @('incidentId', 'location', 'name', 'matchedPath')) {
        $value = Get-SpawnGuardBackupField -Document $Backup -Name $field
        if (-not ($value -is [string]) -or $value.Length -eq 0) { [void]$problems.Add($field) }
    }
    if ($null -eq (Get-SpawnGuardBackupField -Document $Backup -Name 'data')) { [void]$problems.Add('data') }
    if ($problems.Count -eq 0) {
        $expected = Get-SpawnGuardPersistenceBackupId -IncidentId ([string]$Backup.incidentId) -Kind ([string]$Backup.kind) -Location ([string]$Backup.location) -Name ([string]$Backup.name)
        if ([string](Get-SpawnGuardBackupField -Document $Backup -Name 'id') -ne $Id -or $expected -ne $Id) { [void]$problems.Add('id') }
    }
    if ($problems.Count -gt 0) {
        throw (New-SpawnGuardException -Code 'invalid-backup' -Message ('The backup ' + $Id + ' is not a valid backup of ours (' + ($problems.ToArray() -join ', ') + '); nothing was restored from it.'))
    }
}
