<#
.SYNOPSIS
    Removes approved persistence entries, each backed up first, never one that no longer names the
    offending file or whose file is Microsoft- or trusted-signed.

.DESCRIPTION
    For each entry (kind, location and name as FetchPersistenceEntries.ps1 lists them, and the
    offending file it references): finds it again on the host; refuses it (skipped, with a reason)
    when it no longer references that file ('not-referencing'), when that file exists and is
    validly signed by Microsoft or a trusted publisher ('trusted-signer', 'signature-unknown' when
    the signature cannot be read), when the file path is remote ('remote-path', never opened), when
    the location is not one of its kind's known places ('unsupported-location', 'unsupported-entry')
    or the kind is not removable ('unsupported-kind'). Otherwise it backs the entry up to
    <BackupDirectory>\<id>.json, reads the backup back, and only then removes the entry and reads it
    again ('verified'). RestorePersistenceEntry.ps1 puts an entry back from its backup.

      run-key           a value of Run, RunOnce, RunOnceEx (its subkeys, Depend) or
                        Policies\Explorer\Run of HKLM, HKLM\SOFTWARE\Wow6432Node or a user hive
                        (HKU\<SID>), deleted; backup 'registry-value' (name, type, data). A
                        logged-off user's NTUSER.DAT (ProfileList's ProfileImagePath, local, no
                        junction) is loaded under HKEY_USERS\SpawnGuard_<SID> for the time of the
                        entry and always unloaded; when it cannot be, 'hive-not-loaded'.
      scheduled-task    the task at TaskPath+TaskName, deleted through the Task Scheduler; backup
                        'task-xml' (its XML and principal).
      startup-folder    the file of a Startup folder, moved into the quarantine store (content-
                        addressed, manifest with the incident); backup 'quarantined-file'.
      service           HKLM\SYSTEM\CurrentControlSet\Services\<name> (its ImagePath): disabled
                        (Start = 4) through the service control manager, not deleted, not stopped;
                        backup 'service-start'. ServiceDll and FailureCommand entries are refused
                        ('unsupported-entry').
      wmi-subscription  a CommandLineEventConsumer or ActiveScriptEventConsumer of root\subscription,
                        deleted with the bindings that use it; backup 'wmi-instance'. An event filter
                        or a binding alone runs nothing and is refused ('unsupported-entry'): name
                        its consumer.

    The backup id is the lower-case hex SHA-256 of 'incidentId|kind|location|name' lower-cased. An
    entry that is gone already is 'already-done' (with its backup when this incident removed it;
    reason 'not-found' otherwise). The backup store is guarded like the quarantine store: a local
    path reached through no junction or link, owned by Administrators or SYSTEM, its ACL reduced to
    Administrators and SYSTEM. Windows PowerShell 3.0 and later.

.PARAMETER Kind
    The entry's kind: run-key, scheduled-task, startup-folder, service or wmi-subscription.

.PARAMETER Location
    The entry's location as FetchPersistenceEntries lists it (a key, a task path, a folder, root\subscription:<Class>).

.PARAMETER Name
    The entry's name as FetchPersistenceEntries lists it (a value name, task name, file name, service name, instance name).

.PARAMETER MatchedPath
    The offending file the entry references.

.PARAMETER BackupDirectory
    Where backups are written. Default: %ProgramData%\spawnguard\persistence-backup.

.PARAMETER QuarantineDirectory
    Where a startup file is moved. Default: %ProgramData%\spawnguard\quarantine.

.PARAMETER TrustedPublishers
    Signer names (certificate subject or its CN) whose valid signature on the offending file forbids removal, besides Microsoft.

.PARAMETER IncidentId
    The incident this removal belongs to (in the backup id, the backup and the quarantine manifest).

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching RemovePersistenceRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\RemovePersistenceEntry.ps1 -IncidentId 'INC-7' -Kind 'run-key' -Location 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' -Name 'Updater' -MatchedPath 'C:\Users\Public\evil.exe'

.OUTPUTS
    System.String. One JSON document (RemovePersistenceResultSchema): one result per entry with its
    status, reason, message, backup (id, path, format) and whether the removal was verified.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string]$Kind,
    [Parameter()][string]$Location,
    [Parameter()][string]$Name,
    [Parameter()][string]$MatchedPath,
    [Parameter()][string]$BackupDirectory,
    [Parameter()][string]$QuarantineDirectory,
    [Parameter()][string[]]$TrustedPublishers,
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

# ---------- the request ----------

function ConvertTo-EntryRequest {
    <#
    .SYNOPSIS
        One requested entry, validated: kind (a persistence kind of the contract), location, name, matchedPath.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Item, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$Kinds)
    $entry = [pscustomobject]@{
        kind        = Get-SpawnGuardRequestValue -Request $Item -Name 'kind' -Required -MaxLength 64
        location    = Get-SpawnGuardRequestValue -Request $Item -Name 'location' -Required
        name        = Get-SpawnGuardRequestValue -Request $Item -Name 'name' -Required
        matchedPath = Get-SpawnGuardRequestValue -Request $Item -Name 'matchedPath' -Required
    }
    if ($Kinds -cnotcontains $entry.kind) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a persistence kind: ' + $entry.kind))
    }
    return $entry
}

function Get-RemoveRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters (one entry).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$Kinds)
    $simpleNames = @('Kind', 'Location', 'Name', 'MatchedPath', 'BackupDirectory', 'QuarantineDirectory', 'TrustedPublishers', 'IncidentId')
    $hasSimple = $false
    foreach ($simple in $simpleNames) {
        if ($Bound.ContainsKey($simple)) { $hasSimple = $true }
    }
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -Kind, -Location, -Name and -MatchedPath, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        $entries = New-Object -TypeName System.Collections.ArrayList
        foreach ($item in (Get-SpawnGuardRequestValue -Request $decoded -Name 'entries' -Type 'array' -Required -MaxCount 64)) {
            if ($null -eq $item -or $item -is [string] -or $item -is [System.ValueType] -or $item -is [System.Array]) {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Each entry must be an object.')
            }
            [void]$entries.Add((ConvertTo-EntryRequest -Item $item -Kinds $Kinds))
        }
        if ($entries.Count -lt 1) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request needs at least one entry.')
        }
        return [pscustomobject]@{
            IncidentId          = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            Entries             = $entries.ToArray()
            BackupDirectory     = Get-SpawnGuardBackupDirectory -BackupDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'backupDirectory' -MaxLength 1024)
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'quarantineDirectory' -MaxLength 1024)
            TrustedPublishers   = Get-SpawnGuardRequestValue -Request $decoded -Name 'trustedPublishers' -Type 'stringArray' -Default @() -MaxLength 512
        }
    }
    foreach ($required in @('Kind', 'Location', 'Name', 'MatchedPath', 'IncidentId')) {
        if (-not $Bound.ContainsKey($required) -or [string]::IsNullOrEmpty([string]$Bound[$required])) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -IncidentId, -Kind, -Location, -Name and -MatchedPath (or -Request).')
        }
    }
    $item = [pscustomobject]@{ kind = [string]$Bound['Kind']; location = [string]$Bound['Location']; name = [string]$Bound['Name']; matchedPath = [string]$Bound['MatchedPath'] }
    $publishers = @()
    if ($Bound.ContainsKey('TrustedPublishers') -and $null -ne $Bound['TrustedPublishers']) { $publishers = [string[]]$Bound['TrustedPublishers'] }
    return [pscustomobject]@{
        IncidentId          = [string]$Bound['IncidentId']
        Entries             = @(ConvertTo-EntryRequest -Item $item -Kinds $Kinds)
        BackupDirectory     = Get-SpawnGuardBackupDirectory -BackupDirectory ([string]$Bound['BackupDirectory'])
        QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory ([string]$Bound['QuarantineDirectory'])
        TrustedPublishers   = $publishers
    }
}

# ---------- results ----------

function New-RemovalItem {
    <#
    .SYNOPSIS
        One removal result (PersistenceRemovalItemSchema) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Entry,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message,
        [AllowNull()][System.Collections.IDictionary]$Backup,
        [AllowNull()][object]$Verified
    )
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    $verifiedValue = $null
    if ($null -ne $Verified) { $verifiedValue = [bool]$Verified }
    return [ordered]@{
        kind     = [string]$Entry.kind
        location = [string]$Entry.location
        name     = [string]$Entry.name
        status   = $Status
        reason   = $reasonValue
        message  = $messageValue
        backup   = $Backup
        verified = $verifiedValue
    }
}

function New-BackupReference {
    <#
    .SYNOPSIS
        Where an entry was backed up (PersistenceBackupSchema): id, path and format.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Id, [Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][string]$Format)
    return [ordered]@{ id = $Id; path = $Path; format = $Format }
}

# ---------- where each entry is on this host ----------

function Get-HiveEnvironment {
    <#
    .SYNOPSIS
        The variables a user's own values are written with (%USERPROFILE%, %APPDATA%,
        %LOCALAPPDATA%), from the profile list and the hive's Volatile Environment; $null for the machine.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([AllowNull()][AllowEmptyString()][string]$Sid, [AllowNull()][AllowEmptyString()][string]$Root)
    if ([string]::IsNullOrEmpty($Sid)) { return $null }
    if ([string]::IsNullOrEmpty($Root)) { $Root = 'HKEY_USERS\' + $Sid }
    $environment = @{}
    $profilePath = [System.Environment]::ExpandEnvironmentVariables([string](Get-SpawnGuardRegistryValue -Path ('HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\' + $Sid) -Name 'ProfileImagePath'))
    if ($profilePath.Length -gt 0) {
        $environment['USERPROFILE'] = $profilePath
        $environment['APPDATA'] = Join-SpawnGuardPath -Path $profilePath -ChildPath 'AppData\Roaming'
        $environment['LOCALAPPDATA'] = Join-SpawnGuardPath -Path $profilePath -ChildPath 'AppData\Local'
    }
    foreach ($variable in @('USERPROFILE', 'APPDATA', 'LOCALAPPDATA')) {
        $value = [string](Get-SpawnGuardRegistryValue -Path ($Root + '\Volatile Environment') -Name $variable)
        if ($value.Length -gt 0) { $environment[$variable] = $value }
    }
    return $environment
}

function New-TargetRefusal {
    <#
    .SYNOPSIS
        Why an entry is refused before anything on the host is read: { Target = $null, Reason, Message }.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Reason, [Parameter(Mandatory = $true)][string]$Message)
    return [pscustomobject]@{ Target = $null; Reason = $Reason; Message = $Message }
}

function Resolve-EntryTarget {
    <#
    .SYNOPSIS
        Where a requested entry is on this host (Target), or why it is refused before anything is
        read (Reason, Message): the location must be one of its kind's known places.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Entry, [Parameter(Mandatory = $true)][string]$QuarantineDirectory)
    $location = [string]$Entry.location
    $name = [string]$Entry.name
    switch ([string]$Entry.kind) {
        'run-key' {
            $key = ConvertTo-SpawnGuardRunKeyPath -Location $location
            if ($null -eq $key) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not a Run, RunOnce, RunOnceEx or Policies\Explorer\Run key of HKLM, HKLM Wow6432Node or a user hive (HKU\<SID>): ' + $location + '. Nothing else is removed as a run key.')) }
            $path = $key.Key
            $root = $null
            $hive = $null
            if ($null -ne $key.Sid) {
                $root = 'HKEY_USERS\' + $key.Sid
                if (-not (Test-SpawnGuardRegistryKey -Path $root)) {
                    # The user is logged off (remediation usually logs them off before approval):
                    # their NTUSER.DAT is loaded for this entry, and the caller unloads it.
                    $hive = Mount-SpawnGuardProfileHive -Sid $key.Sid
                    if ($null -eq $hive.Root) {
                        $why = $hive.Problem
                        if ($null -eq $why) { $why = 'The hive of ' + $key.Sid + ' is not loaded and its profile has no NTUSER.DAT.' }
                        return (New-TargetRefusal -Reason 'hive-not-loaded' -Message $why)
                    }
                    $path = $hive.Root + $key.Key.Substring($root.Length)
                    $root = $hive.Root
                }
            }
            try {
                # FetchPersistenceEntries shows the unnamed value as (Default).
                $valueName = $name
                if ($name -eq '(Default)' -and $null -eq (Get-SpawnGuardRegistryTypedValue -Path $path -Name $name)) { $valueName = '' }
                # Key is where the value is read and deleted now; RecordKey (HKEY_USERS\<SID>\...) is what the backup records.
                $target = [pscustomobject]@{ Key = $path; RecordKey = $key.Key; ValueName = $valueName; Environment = (Get-HiveEnvironment -Sid $key.Sid -Root $root); Hive = $hive }
            } catch {
                $null = Dismount-SpawnGuardProfileHive -Hive $hive
                throw
            }
            return [pscustomobject]@{ Target = $target; Reason = $null; Message = $null }
        }
        'scheduled-task' {
            $taskPath = ConvertTo-SpawnGuardTaskPath -Location $location -Name $name
            if ($null -eq $taskPath) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not a task path ending in the task name ' + $name + ': ' + $location + ' (a task seen only in the registry TaskCache is removed by hand).')) }
            return [pscustomobject]@{ Target = [pscustomobject]@{ TaskPath = $taskPath }; Reason = $null; Message = $null }
        }
        'service' {
            if ($name -match ' \((ServiceDll|FailureCommand)\)$') {
                return (New-TargetRefusal -Reason 'unsupported-entry' -Message ('A service''s ' + $Matches[1] + ' is not removed here (only a service''s own image, by disabling the service): change it by hand.'))
            }
            $service = ConvertTo-SpawnGuardServiceKey -Location $location -Name $name
            if ($null -eq $service) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not HKLM\SYSTEM\CurrentControlSet\Services\' + $name + ': ' + $location)) }
            return [pscustomobject]@{ Target = $service; Reason = $null; Message = $null }
        }
        'wmi-subscription' {
            $class = ConvertTo-SpawnGuardSubscriptionClass -Location $location
            if ($null -eq $class) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not a root\subscription class: ' + $location)) }
            if ($null -eq (Get-SpawnGuardSubscriptionProperty -ClassName $class)) {
                return (New-TargetRefusal -Reason 'unsupported-entry' -Message ('A ' + $class + ' runs nothing by itself: remove the consumer it leads to (its entry), which takes its bindings with it.'))
            }
            return [pscustomobject]@{ Target = [pscustomobject]@{ ClassName = $class; InstanceName = $name }; Reason = $null; Message = $null }
        }
        'startup-folder' {
            if (Test-SpawnGuardRemotePath -Path $location) { return (New-TargetRefusal -Reason 'remote-path' -Message ('The folder is on a remote or device path, which is never opened: ' + $location)) }
            if (-not (Test-SpawnGuardStartupFolder -Path $location)) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not a Startup folder (a local ...\Start Menu\Programs\Startup): ' + $location)) }
            if (-not (Test-SpawnGuardPlainFileName -Name $name)) { return (New-TargetRefusal -Reason 'unsupported-location' -Message ('Not a plain file name: ' + $name)) }
            $path = Join-SpawnGuardPath -Path $location -ChildPath $name
            $link = Find-SpawnGuardReparsePoint -LiteralPath $path
            if ($null -ne $link) { return (New-TargetRefusal -Reason 'reparse-point' -Message ('The file or a folder above it is a junction or link, which is never followed: ' + $link + '.')) }
            return [pscustomobject]@{ Target = [pscustomobject]@{ Path = $path; QuarantineDirectory = $QuarantineDirectory }; Reason = $null; Message = $null }
        }
    }
    return (New-TargetRefusal -Reason 'unsupported-kind' -Message ('A ' + [string]$Entry.kind + ' entry is not removed by this script: handle it by hand.'))
}

function Get-ClassServerText {
    <#
    .SYNOPSIS
        The DLL registered for a COM class (HKLM\SOFTWARE\Classes\CLSID\<id>\InprocServer32), or ''.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$ClassId)
    if ([string]$ClassId -notmatch '^\{?[0-9A-Fa-f-]{36}\}?$') { return '' }
    return [string](Get-SpawnGuardRegistryValue -Path ('HKEY_LOCAL_MACHINE\SOFTWARE\Classes\CLSID\' + $ClassId + '\InprocServer32') -Name '')
}

function Get-SubscriptionConsumer {
    <#
    .SYNOPSIS
        The consumer instance of a class with this name (WMI compares names case-insensitively), or $null.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$ClassName, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$InstanceName)
    foreach ($instance in (Get-SpawnGuardSubscriptionInstance -ClassName $ClassName)) {
        if ($null -ne $instance -and [string]::Equals([string]$instance.Name, $InstanceName, [System.StringComparison]::OrdinalIgnoreCase)) { return $instance }
    }
    return $null
}

function Get-ConsumerBinding {
    <#
    .SYNOPSIS
        The __FilterToConsumerBinding instances that lead to a consumer, each as { Instance, FilterName }.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$ClassName, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$InstanceName)
    $found = New-Object -TypeName System.Collections.ArrayList
    foreach ($binding in (Get-SpawnGuardSubscriptionInstance -ClassName '__FilterToConsumerBinding')) {
        if ($null -eq $binding) { continue }
        $consumer = ConvertFrom-SpawnGuardWmiReference -Reference $binding.Consumer
        if ($consumer.Class -ne $ClassName -or -not [string]::Equals($consumer.Name, $InstanceName, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        $filter = ConvertFrom-SpawnGuardWmiReference -Reference $binding.Filter
        [void]$found.Add([pscustomobject]@{ Instance = $binding; FilterName = $filter.Name })
    }
    return , $found.ToArray()
}

function Read-LiveEntry {
    <#
    .SYNOPSIS
        The entry as it is now: { Commands (what it runs, to check against the offending file),
        Environment, Data (the backup's format-specific data), Removed (already in the state
        removal leaves: a disabled service) }, or $null when it is gone.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Kind, [Parameter(Mandatory = $true)][psobject]$Target)
    switch ($Kind) {
        'run-key' {
            $value = Get-SpawnGuardRegistryTypedValue -Path $Target.Key -Name $Target.ValueName
            if ($null -eq $value) { return $null }
            $commands = @(foreach ($text in @($value.Data)) { [string]$text })
            return [pscustomobject]@{ Commands = $commands; Environment = $Target.Environment; Removed = $false; Value = $value }
        }
        'scheduled-task' {
            $task = Get-SpawnGuardScheduledTaskDefinition -TaskPath $Target.TaskPath
            if ($null -eq $task) { return $null }
            $commands = New-Object -TypeName System.Collections.ArrayList
            $actions = New-Object -TypeName System.Collections.ArrayList
            foreach ($action in @($task.Actions)) {
                if ($null -eq $action) { continue }
                if ([int]$action.Type -eq 5) {
                    [void]$commands.Add((Get-ClassServerText -ClassId ([string]$action.ClassId)))
                } else {
                    [void]$commands.Add(([string]$action.Path + ' ' + [string]$action.Arguments))
                }
                [void]$actions.Add([ordered]@{ type = [int]$action.Type; path = $action.Path; arguments = $action.Arguments; classId = $action.ClassId })
            }
            $data = [ordered]@{
                taskPath  = $Target.TaskPath
                xml       = [string]$task.Xml
                userId    = [string]$task.UserId
                groupId   = [string]$task.GroupId
                logonType = [int]$task.LogonType
                runLevel  = [int]$task.RunLevel
                actions   = [object[]]$actions.ToArray()
            }
            return [pscustomobject]@{ Commands = $commands.ToArray(); Environment = $null; Removed = $false; Data = $data }
        }
        'service' {
            $imagePath = Get-SpawnGuardRegistryValue -Path $Target.Key -Name 'ImagePath'
            $start = Get-SpawnGuardServiceStartType -Name $Target.ServiceName
            if ($null -eq $imagePath -or [string]$imagePath -eq '' -or $null -eq $start) { return $null }
            $data = [ordered]@{ serviceName = $Target.ServiceName; key = $Target.Key; start = [int]$start; imagePath = [string]$imagePath }
            return [pscustomobject]@{ Commands = @([string]$imagePath); Environment = $null; Removed = ([int]$start -eq 4); Data = $data }
        }
        'wmi-subscription' {
            $consumer = Get-SubscriptionConsumer -ClassName $Target.ClassName -InstanceName $Target.InstanceName
            if ($null -eq $consumer) { return $null }
            $properties = [ordered]@{}
            foreach ($property in (Get-SpawnGuardSubscriptionProperty -ClassName $Target.ClassName)) {
                $field = $consumer.PSObject.Properties[$property]
                if ($null -ne $field -and $null -ne $field.Value) { $properties[$property] = $field.Value }
            }
            $commands = New-Object -TypeName System.Collections.ArrayList
            foreach ($property in @('CommandLineTemplate', 'ExecutablePath', 'ScriptFileName', 'ScriptText')) {
                if ($properties.Contains($property)) { [void]$commands.Add([string]$properties[$property]) }
            }
            $bindings = New-Object -TypeName System.Collections.ArrayList
            foreach ($binding in (Get-ConsumerBinding -ClassName $Target.ClassName -InstanceName $Target.InstanceName)) {
                [void]$bindings.Add([ordered]@{ filterName = $binding.FilterName })
            }
            $data = [ordered]@{ className = $Target.ClassName; instanceName = [string]$consumer.Name; properties = $properties; bindings = [object[]]$bindings.ToArray() }
            return [pscustomobject]@{ Commands = $commands.ToArray(); Environment = $null; Removed = $false; Data = $data }
        }
        'startup-folder' {
            if (-not (Test-SpawnGuardFile -LiteralPath $Target.Path)) { return $null }
            $commands = New-Object -TypeName System.Collections.ArrayList
            [void]$commands.Add(('"' + $Target.Path + '"'))
            if ($Target.Path -like '*.lnk') {
                $shortcut = Get-SpawnGuardShortcut -LiteralPath $Target.Path
                if ($null -ne $shortcut -and -not [string]::IsNullOrEmpty($shortcut.TargetPath)) {
                    [void]$commands.Add(('"' + $shortcut.TargetPath + '" ' + [string]$shortcut.Arguments))
                }
            }
            return [pscustomobject]@{ Commands = $commands.ToArray(); Environment = $null; Removed = $false; Data = $null }
        }
    }
    return $null
}

function Get-SignerBlock {
    <#
    .SYNOPSIS
        Why the offending file forbids removing an entry ($null when it does not): a valid
        Microsoft or trusted-publisher signature, or one that cannot be read. A file that is gone
        (quarantined already) forbids nothing.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$MatchedPath, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$TrustedPublishers)
    if (-not (Test-SpawnGuardFile -LiteralPath $MatchedPath)) { return $null }
    $signature = Get-SpawnGuardSignature -LiteralPath $MatchedPath
    if (Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers $TrustedPublishers) { return 'trusted-signer' }
    if ($signature.status -eq 'unknown') { return 'signature-unknown' }
    return $null
}

# ---------- removing ----------

function Remove-LiveEntry {
    <#
    .SYNOPSIS
        Removes an entry that has been backed up; returns the sentence that says what was done.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][string]$Kind,
        [Parameter(Mandatory = $true)][psobject]$Target,
        [Parameter(Mandatory = $true)][psobject]$Live,
        [Parameter(Mandatory = $true)][psobject]$Parsed,
        [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Backup
    )
    if (-not $PSCmdlet.ShouldProcess($Kind, 'Remove persistence entry')) { return '' }
    switch ($Kind) {
        'run-key' {
            Remove-SpawnGuardRegistryValue -Path $Target.Key -Name $Target.ValueName
            return 'The value was deleted.'
        }
        'scheduled-task' {
            Unregister-SpawnGuardScheduledTask -TaskPath $Target.TaskPath
            return 'The task was deleted.'
        }
        'service' {
            Set-SpawnGuardServiceStartType -Name $Target.ServiceName -Start 4
            return ('The service was disabled (Start = 4, was ' + [string]$Live.Data['start'] + '); it was not deleted, and a running instance was not stopped.')
        }
        'wmi-subscription' {
            # The bindings first: a binding left behind would point at nothing.
            foreach ($binding in (Get-ConsumerBinding -ClassName $Target.ClassName -InstanceName $Target.InstanceName)) {
                Remove-SpawnGuardSubscriptionInstance -Instance $binding.Instance
            }
            $consumer = Get-SubscriptionConsumer -ClassName $Target.ClassName -InstanceName $Target.InstanceName
            if ($null -ne $consumer) { Remove-SpawnGuardSubscriptionInstance -Instance $consumer }
            return ('The consumer was deleted with its ' + @($Live.Data['bindings']).Length + ' binding(s).')
        }
        'startup-folder' {
            $record = Move-SpawnGuardFileToQuarantine -LiteralPath $Target.Path -Directory $Target.QuarantineDirectory -IncidentId $Parsed.IncidentId -ExpectedHash ([string]$Backup['data']['sha256']) -TrustedPublishers $Parsed.TrustedPublishers
            return ('The file was moved to quarantine as ' + $record.quarantinePath + '.')
        }
    }
    return ''
}

function Test-EntryRemoved {
    <#
    .SYNOPSIS
        Reads the entry again after its removal: true when it is gone (a service: disabled).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Kind, [Parameter(Mandatory = $true)][psobject]$Target)
    if ($Kind -eq 'service') {
        # Disabled, or (deleted by someone meanwhile) gone.
        $start = Get-SpawnGuardServiceStartType -Name $Target.ServiceName
        return ($null -eq $start -or [int]$start -eq 4)
    }
    if ($Kind -eq 'wmi-subscription' -and (Get-ConsumerBinding -ClassName $Target.ClassName -InstanceName $Target.InstanceName).Length -gt 0) { return $false }
    return ($null -eq (Read-LiveEntry -Kind $Kind -Target $Target))
}

function Remove-PersistenceEntry {
    <#
    .SYNOPSIS
        One requested entry, start to end: refusals, backup, removal, verification (Invoke-EntryRemoval),
        with a logged-off user's hive loaded around it and always unloaded. Returns its result item.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][psobject]$Entry, [Parameter(Mandatory = $true)][psobject]$Parsed)
    $kind = [string]$Entry.kind
    if ((Get-SpawnGuardPersistenceKind -Removable) -notcontains $kind) {
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason 'unsupported-kind' -Message ('A ' + $kind + ' entry is not removed by this script: handle it by hand.'))
    }
    $matched = [string]$Entry.matchedPath
    if (Test-SpawnGuardRemotePath -Path $matched) {
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason 'remote-path' -Message ('The offending file is on a remote or device path, which is never opened (its signature cannot be checked): ' + $matched + '. Nothing was removed.'))
    }
    if (-not (Test-SpawnGuardAbsolutePath -Path $matched)) {
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason 'invalid-matched-path' -Message ('The offending file is not named by a full path: ' + $matched + '. Nothing was removed.'))
    }
    $resolved = Resolve-EntryTarget -Entry $Entry -QuarantineDirectory $Parsed.QuarantineDirectory
    if ($null -eq $resolved.Target) {
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason $resolved.Reason -Message ($resolved.Message + ' Nothing was removed.'))
    }
    $hive = $null
    if ($null -ne $resolved.Target.PSObject.Properties['Hive']) { $hive = $resolved.Target.Hive }
    $problems = @()
    try {
        $item = Invoke-EntryRemoval -Entry $Entry -Parsed $Parsed -Target $resolved.Target
    } finally {
        # A user hive loaded for this entry is unloaded whatever happened: left loaded, it would keep its user from logging on.
        $problems = Dismount-SpawnGuardProfileHive -Hive $hive
    }
    if ($problems.Length -gt 0) { $item['message'] = ([string]$item['message'] + ' ' + ($problems -join ' ')).Trim() }
    return $item
}

function Invoke-EntryRemoval {
    <#
    .SYNOPSIS
        One entry whose place on this host is known (Target): backup, removal, verification. Returns its result item.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][psobject]$Entry, [Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][psobject]$Target)
    $kind = [string]$Entry.kind
    $matched = [string]$Entry.matchedPath
    $target = $Target
    $id = Get-SpawnGuardPersistenceBackupId -IncidentId $Parsed.IncidentId -Kind $kind -Location ([string]$Entry.location) -Name ([string]$Entry.name)
    $backupPath = Get-SpawnGuardPersistenceBackupPath -Directory $Parsed.BackupDirectory -Id $id
    $format = Get-SpawnGuardPersistenceBackupFormat -Kind $kind
    $reference = New-BackupReference -Id $id -Path $backupPath -Format $format
    $hasBackup = Test-SpawnGuardFile -LiteralPath $backupPath

    $live = Read-LiveEntry -Kind $kind -Target $target
    if ($null -eq $live -or $live.Removed) {
        if ($hasBackup) {
            return (New-RemovalItem -Entry $Entry -Status 'already-done' -Message ('Removed earlier; its backup is ' + $backupPath + '.') -Backup $reference -Verified $true)
        }
        if ($null -ne $live) {
            return (New-RemovalItem -Entry $Entry -Status 'already-done' -Reason 'already-disabled' -Message 'The service was disabled already (not by this incident): nothing was changed or backed up.' -Verified $true)
        }
        return (New-RemovalItem -Entry $Entry -Status 'already-done' -Reason 'not-found' -Message 'The entry is no longer on this host: nothing was removed or backed up.' -Verified $true)
    }
    $references = $false
    foreach ($command in @($live.Commands)) {
        if (Test-SpawnGuardCommandReference -CommandLine ([string]$command) -MatchedPath $matched -Environment $live.Environment) { $references = $true }
    }
    if (-not $references) {
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason 'not-referencing' -Message ('The entry no longer references ' + $matched + ' (it was changed since it was listed): nothing was removed.'))
    }
    $block = Get-SignerBlock -MatchedPath $matched -TrustedPublishers $Parsed.TrustedPublishers
    if ($null -ne $block) {
        $why = 'is validly signed by Microsoft or a trusted publisher'
        if ($block -eq 'signature-unknown') { $why = 'has a signature that could not be read' }
        return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason $block -Message ($matched + ' ' + $why + ': the entry was left in place.'))
    }

    # The backup first, read back; the entry is removed only after that.
    try {
        switch ($kind) {
            'run-key' { $data = New-SpawnGuardRegistryValueRecord -Key $target.RecordKey -ValueName $target.ValueName -Kind $live.Value.Kind -Data $live.Value.Data }
            'startup-folder' {
                $hash = Get-SpawnGuardFileHash -LiteralPath $target.Path
                $data = [ordered]@{
                    originalPath        = $target.Path
                    sha256              = $hash
                    quarantineDirectory = $target.QuarantineDirectory
                    quarantinePath      = Get-SpawnGuardQuarantinePath -Directory $target.QuarantineDirectory -Hash $hash
                }
            }
            default { $data = $live.Data }
        }
    } catch {
        $code = Get-SpawnGuardErrorCode -ErrorRecord $_
        if ($code -eq 'unsupported-value-kind') {
            return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason $code -Message ($_.Exception.Message + ' The value was left in place.'))
        }
        throw
    }
    $backup = New-SpawnGuardPersistenceBackup -Id $id -IncidentId $Parsed.IncidentId -Entry $Entry -Data $data
    try {
        Initialize-SpawnGuardQuarantineDirectory -LiteralPath $Parsed.BackupDirectory
        Save-SpawnGuardPersistenceBackup -LiteralPath $backupPath -Backup $backup
    } catch {
        return (New-RemovalItem -Entry $Entry -Status 'failed' -Reason 'backup-failed' -Message ('The entry was not removed: its backup could not be written to ' + $backupPath + ' (' + $_.Exception.Message + ').'))
    }
    try {
        $done = Remove-LiveEntry -Kind $kind -Target $target -Live $live -Parsed $Parsed -Backup $backup
    } catch {
        $code = Get-SpawnGuardErrorCode -ErrorRecord $_
        if (@('trusted-signer', 'signature-unknown', 'file-changed', 'reparse-point') -contains $code) {
            return (New-RemovalItem -Entry $Entry -Status 'skipped' -Reason $code -Message ('The entry was left in place: ' + $_.Exception.Message) -Backup $reference -Verified $false)
        }
        return (New-RemovalItem -Entry $Entry -Status 'failed' -Reason $code -Message ('Backed up to ' + $backupPath + ', but the removal failed: ' + $_.Exception.Message) -Backup $reference -Verified $false)
    }
    if (-not (Test-EntryRemoved -Kind $kind -Target $target)) {
        return (New-RemovalItem -Entry $Entry -Status 'failed' -Reason 'not-removed' -Message ($done + ' Yet read again, the entry is still there.') -Backup $reference -Verified $false)
    }
    return (New-RemovalItem -Entry $Entry -Status 'done' -Message ($done + ' Backed up first to ' + $backupPath + '.') -Backup $reference -Verified $true)
}

function Invoke-RemovePersistenceEntry {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-RemoveRequest -Bound $Bound -Kinds (Get-SpawnGuardPersistenceKind)
        # A store reached through a junction, or owned by someone else, is refused before anything is done.
        Assert-SpawnGuardQuarantineStore -LiteralPath $parsed.BackupDirectory -AllowMissing
        foreach ($entry in $parsed.Entries) {
            try {
                $item = Remove-PersistenceEntry -Entry $entry -Parsed $parsed
            } catch {
                $item = New-RemovalItem -Entry $entry -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
            }
            Add-SpawnGuardResultItem -Result $Result -Item $item
        }
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
    Invoke-RemovePersistenceEntry -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
