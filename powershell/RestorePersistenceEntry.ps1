<#
.SYNOPSIS
    Puts persistence entries back from the backups RemovePersistenceEntry.ps1 made (for false positives).

.DESCRIPTION
    For each backup id: reads <BackupDirectory>\<id>.json and validates it before anything is
    written (never trusting a path in it): it must be a backup of this incident whose id is the hash
    of its own incident, kind, location and name, and its location must still be one of its kind's
    known places (a Run key of HKLM, HKLM Wow6432Node or a user hive; a task path; the
    service's key; a consumer class of root\subscription; a local Startup folder reached through no
    junction or link). Then it puts the entry back and reads it again ('verified'):

      registry-value    the value with its type and data
      task-xml          the task registered from its XML, with its principal
      service-start     the service's start type as it was (through the service control manager)
      wmi-instance      the consumer with its properties, and its bindings to filters that still exist
      quarantined-file  the file copied back from the quarantine store with its original ACL

    An entry already back as it was is 'already-done'; a place taken by something else (a value of
    that name with other data, a task at that path, a file at that path, a consumer of that name,
    a service whose start type was changed since) is left alone ('skipped', 'target-exists'). Once
    an entry is back, its backup is kept as <id>.restored.json. A backup naming another place, or
    another incident, is refused ('invalid-backup', 'incident-mismatch'). Windows PowerShell 3.0
    and later.

.PARAMETER BackupIds
    The ids of the backups (64 lower-case hex digits each), comma-separated.

.PARAMETER BackupDirectory
    Where the backups are. Default: %ProgramData%\spawnguard\persistence-backup.

.PARAMETER QuarantineDirectory
    Where a removed startup file was moved. Default: %ProgramData%\spawnguard\quarantine.

.PARAMETER IncidentId
    The incident whose removals are undone (a backup of another incident is refused).

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching RestorePersistenceRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\RestorePersistenceEntry.ps1 -IncidentId 'INC-7' -BackupIds 'c534381eaf333fbb8f3603140db07291d0e4d425d44955023c1bb4d05b20d4fb'

.OUTPUTS
    System.String. One JSON document (RestorePersistenceResultSchema): one result per backup id
    with the entry's kind, location and name, its status, reason, message, backup and whether the
    entry was read back as it was.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request (among them a
    backup id with no backup), 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$BackupIds,
    [Parameter()][string]$BackupDirectory,
    [Parameter()][string]$QuarantineDirectory,
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

function Get-RestorePersistenceRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $hasSimple = $false
    foreach ($simple in @('BackupIds', 'BackupDirectory', 'QuarantineDirectory', 'IncidentId')) {
        if ($Bound.ContainsKey($simple)) { $hasSimple = $true }
    }
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -BackupIds, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        $parsed = [pscustomobject]@{
            IncidentId          = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            BackupIds           = [string[]](Get-SpawnGuardRequestValue -Request $decoded -Name 'backupIds' -Type 'stringArray' -Required -MaxLength 64)
            BackupDirectory     = Get-SpawnGuardBackupDirectory -BackupDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'backupDirectory' -MaxLength 1024)
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory (Get-SpawnGuardRequestValue -Request $decoded -Name 'quarantineDirectory' -MaxLength 1024)
        }
    } else {
        if (-not $Bound.ContainsKey('BackupIds') -or [string]::IsNullOrEmpty([string]$Bound['IncidentId'])) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -IncidentId and -BackupIds (or -Request).')
        }
        $ids = New-Object -TypeName System.Collections.ArrayList
        foreach ($chunk in [string[]]$Bound['BackupIds']) {
            foreach ($piece in ([string]$chunk).Split(',')) {
                if ($piece.Trim().Length -gt 0) { [void]$ids.Add($piece.Trim().ToLowerInvariant()) }
            }
        }
        $parsed = [pscustomobject]@{
            IncidentId          = [string]$Bound['IncidentId']
            BackupIds           = [string[]]$ids.ToArray()
            BackupDirectory     = Get-SpawnGuardBackupDirectory -BackupDirectory ([string]$Bound['BackupDirectory'])
            QuarantineDirectory = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory ([string]$Bound['QuarantineDirectory'])
        }
    }
    if ($parsed.BackupIds.Length -lt 1 -or $parsed.BackupIds.Length -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 64 backup ids.')
    }
    foreach ($id in $parsed.BackupIds) {
        if ($id -cnotmatch '^[0-9a-f]{64}$') {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('A backup id is 64 lower-case hex digits: ' + $id))
        }
    }
    return $parsed
}

# ---------- results ----------

function New-RestoreItem {
    <#
    .SYNOPSIS
        One restore result (PersistenceRestoreItem: backupId and PersistenceRemovalItemSchema's fields) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$BackupId,
        [Parameter(Mandatory = $true)][psobject]$Backup,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message,
        [AllowNull()][AllowEmptyString()][string]$BackupPath,
        [AllowNull()][object]$Verified
    )
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    $verifiedValue = $null
    if ($null -ne $Verified) { $verifiedValue = [bool]$Verified }
    $kind = [string]$Backup.kind
    $reference = $null
    if (-not [string]::IsNullOrEmpty($BackupPath)) {
        $reference = [ordered]@{ id = $BackupId; path = $BackupPath; format = (Get-SpawnGuardPersistenceBackupFormat -Kind $kind) }
    }
    return [ordered]@{
        backupId = $BackupId
        kind     = $kind
        location = [string]$Backup.location
        name     = [string]$Backup.name
        status   = $Status
        reason   = $reasonValue
        message  = $messageValue
        backup   = $reference
        verified = $verifiedValue
    }
}

# ---------- what a backup names, validated ----------

function New-BackupRefusal {
    <#
    .SYNOPSIS
        A backup that is not restored: { Target = $null, Reason, Message } ('invalid-backup' unless told).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Message, [string]$Reason = 'invalid-backup')
    return [pscustomobject]@{ Target = $null; Reason = $Reason; Message = $Message }
}

function Resolve-BackupTarget {
    <#
    .SYNOPSIS
        Where a backup's entry goes back and what it holds (Target), checked against the kind's
        known places and against the backup's own location and name; or why the backup is refused
        (Message). Nothing in the data is used unless it agrees with the validated location.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Backup)
    $data = Get-SpawnGuardBackupField -Document $Backup -Name 'data'
    $location = [string]$Backup.location
    $name = [string]$Backup.name
    switch ([string]$Backup.kind) {
        'run-key' {
            $key = ConvertTo-SpawnGuardRunKeyPath -Location $location
            if ($null -eq $key) { return (New-BackupRefusal -Message ('The backup names a key that is not a Run key: ' + $location + '.')) }
            if (-not [string]::Equals([string](Get-SpawnGuardBackupField -Document $data -Name 'key'), $key.Key, [System.StringComparison]::OrdinalIgnoreCase)) {
                return (New-BackupRefusal -Message 'The backup''s key is not the key its location names.')
            }
            $valueName = Get-SpawnGuardBackupField -Document $data -Name 'valueName'
            if (-not ($valueName -is [string]) -or ($valueName -ne $name -and -not ($valueName -eq '' -and $name -eq '(Default)'))) {
                return (New-BackupRefusal -Message 'The backup''s value name is not the entry''s name.')
            }
            $value = ConvertFrom-SpawnGuardRegistryValueRecord -Kind ([string](Get-SpawnGuardBackupField -Document $data -Name 'valueKind')) -Data (Get-SpawnGuardBackupField -Document $data -Name 'data')
            $path = $key.Key
            $hive = $null
            if ($null -ne $key.Sid -and -not (Test-SpawnGuardRegistryKey -Path ('HKEY_USERS\' + $key.Sid))) {
                # The user is logged off: their NTUSER.DAT is loaded for this backup, and the caller unloads it.
                $hive = Mount-SpawnGuardProfileHive -Sid $key.Sid
                if ($null -eq $hive.Root) {
                    $why = $hive.Problem
                    if ($null -eq $why) { $why = 'The hive of ' + $key.Sid + ' is not loaded and its profile has no NTUSER.DAT.' }
                    return (New-BackupRefusal -Reason 'hive-not-loaded' -Message $why)
                }
                $path = $hive.Root + $key.Key.Substring(('HKEY_USERS\' + $key.Sid).Length)
            }
            return [pscustomobject]@{ Target = [pscustomobject]@{ Key = $path; ValueName = $valueName; Kind = $value.Kind; Value = $value.Value; Hive = $hive }; Message = $null }
        }
        'scheduled-task' {
            $taskPath = ConvertTo-SpawnGuardTaskPath -Location $location -Name $name
            if ($null -eq $taskPath) { return (New-BackupRefusal -Message ('The backup names no task path ending in its task name: ' + $location + '.')) }
            if ([string](Get-SpawnGuardBackupField -Document $data -Name 'taskPath') -ne $taskPath) { return (New-BackupRefusal -Message 'The backup''s task path is not its location.') }
            $xml = Get-SpawnGuardBackupField -Document $data -Name 'xml'
            $parsedXml = $null
            if ($xml -is [string] -and $xml.Length -gt 0) {
                try { $parsedXml = [xml]$xml } catch { $parsedXml = $null }
            }
            if ($null -eq $parsedXml) { return (New-BackupRefusal -Message 'The backup''s task XML does not parse.') }
            $logonType = Get-SpawnGuardBackupField -Document $data -Name 'logonType'
            if (-not ($logonType -is [int] -or $logonType -is [long]) -or [int64]$logonType -lt 0 -or [int64]$logonType -gt 6) { return (New-BackupRefusal -Message 'The backup''s task logon type is not one of the Task Scheduler''s.') }
            $userId = [string](Get-SpawnGuardBackupField -Document $data -Name 'userId')
            if ($userId.Length -eq 0) { $userId = [string](Get-SpawnGuardBackupField -Document $data -Name 'groupId') }
            # Assigned first: a list a function returns whole would be wrapped again by @(...).
            $actions = Get-SpawnGuardBackupField -Document $data -Name 'actions'
            return [pscustomobject]@{ Target = [pscustomobject]@{ TaskPath = $taskPath; Xml = $xml; UserId = $userId; LogonType = [int]$logonType; Actions = @($actions) }; Message = $null }
        }
        'service' {
            $service = ConvertTo-SpawnGuardServiceKey -Location $location -Name $name
            if ($null -eq $service) { return (New-BackupRefusal -Message ('The backup names no service key: ' + $location + '.')) }
            if (-not [string]::Equals([string](Get-SpawnGuardBackupField -Document $data -Name 'serviceName'), $service.ServiceName, [System.StringComparison]::OrdinalIgnoreCase)) {
                return (New-BackupRefusal -Message 'The backup''s service is not the one its location names.')
            }
            $start = Get-SpawnGuardBackupField -Document $data -Name 'start'
            # The start type before removal: never 'disabled', which removal itself sets.
            if (-not ($start -is [int] -or $start -is [long]) -or [int64]$start -lt 0 -or [int64]$start -gt 3) { return (New-BackupRefusal -Message 'The backup''s start type is not 0 to 3.') }
            return [pscustomobject]@{ Target = [pscustomobject]@{ ServiceName = $service.ServiceName; Start = [int]$start }; Message = $null }
        }
        'wmi-subscription' {
            $class = ConvertTo-SpawnGuardSubscriptionClass -Location $location
            $allowed = $null
            if ($null -ne $class) { $allowed = Get-SpawnGuardSubscriptionProperty -ClassName $class }
            if ($null -eq $allowed) { return (New-BackupRefusal -Message ('The backup names no event consumer class: ' + $location + '.')) }
            if ([string](Get-SpawnGuardBackupField -Document $data -Name 'className') -ne $class) { return (New-BackupRefusal -Message 'The backup''s class is not the one its location names.') }
            $stored = Get-SpawnGuardBackupField -Document $data -Name 'properties'
            if ($null -eq $stored -or $stored -is [System.Array] -or $stored -is [string] -or $stored -is [System.ValueType]) { return (New-BackupRefusal -Message 'The backup has no consumer properties.') }
            $properties = @{}
            foreach ($property in $stored.PSObject.Properties) {
                if ($allowed -cnotcontains $property.Name) { return (New-BackupRefusal -Message ('The backup sets a property that is not restored: ' + $property.Name + '.')) }
                $properties[$property.Name] = ConvertTo-SpawnGuardSubscriptionValue -Property $property.Name -Value $property.Value
            }
            if (-not [string]::Equals([string]$properties['Name'], $name, [System.StringComparison]::Ordinal)) { return (New-BackupRefusal -Message 'The backup''s consumer name is not the entry''s name.') }
            $filters = New-Object -TypeName System.Collections.ArrayList
            $bindings = Get-SpawnGuardBackupField -Document $data -Name 'bindings'
            foreach ($binding in @($bindings)) {
                if ($null -eq $binding) { continue }
                $filterName = Get-SpawnGuardBackupField -Document $binding -Name 'filterName'
                if (-not ($filterName -is [string]) -or $filterName.Length -eq 0) { return (New-BackupRefusal -Message 'The backup names a binding without its filter.') }
                [void]$filters.Add($filterName)
            }
            return [pscustomobject]@{ Target = [pscustomobject]@{ ClassName = $class; InstanceName = $name; Properties = $properties; Filters = [string[]]$filters.ToArray() }; Message = $null }
        }
        'startup-folder' {
            if (Test-SpawnGuardRemotePath -Path $location) { return (New-BackupRefusal -Message ('The backup names a remote or device folder, which is never opened: ' + $location + '.')) }
            if (-not (Test-SpawnGuardStartupFolder -Path $location) -or -not (Test-SpawnGuardPlainFileName -Name $name)) {
                return (New-BackupRefusal -Message ('The backup names a place that is not a file of a local Startup folder: ' + $location + '\' + $name + '.'))
            }
            $path = Join-SpawnGuardPath -Path $location -ChildPath $name
            if ([string](Get-SpawnGuardBackupField -Document $data -Name 'originalPath') -ne $path) { return (New-BackupRefusal -Message 'The backup''s original path is not its location and name.') }
            $hash = [string](Get-SpawnGuardBackupField -Document $data -Name 'sha256')
            if ($hash -cnotmatch '^[0-9a-f]{64}$') { return (New-BackupRefusal -Message 'The backup''s SHA-256 is not 64 lower-case hex digits.') }
            return [pscustomobject]@{ Target = [pscustomobject]@{ Path = $path; Hash = $hash }; Message = $null }
        }
    }
    return (New-BackupRefusal -Message ('Not a kind this script restores: ' + [string]$Backup.kind + '.'))
}

# ---------- what is there now ----------

function Get-TaskActionText {
    <#
    .SYNOPSIS
        The actions of a task as comparable text, one line each ('0|path|arguments|' or '5|||{classid}').
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyCollection()][object[]]$Actions)
    $lines = New-Object -TypeName System.Collections.ArrayList
    foreach ($action in @($Actions)) {
        if ($null -eq $action) { continue }
        $type = $null
        $path = $null
        $arguments = $null
        $classId = $null
        foreach ($field in @('Type', 'Path', 'Arguments', 'ClassId')) {
            $property = $action.PSObject.Properties[$field]
            if ($null -eq $property) { continue }
            switch ($field) {
                'Type' { $type = $property.Value }
                'Path' { $path = $property.Value }
                'Arguments' { $arguments = $property.Value }
                'ClassId' { $classId = $property.Value }
            }
        }
        [void]$lines.Add(([string]$type + '|' + [string]$path + '|' + [string]$arguments + '|' + [string]$classId))
    }
    return ($lines.ToArray() -join "`n")
}

function Get-EntryState {
    <#
    .SYNOPSIS
        Whether the backed-up entry is now 'absent' (nothing at its place), 'same' (back as it was)
        or 'other' (its place holds something else), with a sentence about the other.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Kind, [Parameter(Mandatory = $true)][psobject]$Target)
    switch ($Kind) {
        'run-key' {
            $current = Get-SpawnGuardRegistryTypedValue -Path $Target.Key -Name $Target.ValueName
            if ($null -eq $current) { return [pscustomobject]@{ State = 'absent'; Message = $null } }
            if ($current.Kind -eq $Target.Kind -and (Test-SpawnGuardRegistryDataEqual -Left $current.Data -Right $Target.Value)) { return [pscustomobject]@{ State = 'same'; Message = $null } }
            return [pscustomobject]@{ State = 'other'; Message = 'A value of that name with other data is there now.' }
        }
        'scheduled-task' {
            $task = Get-SpawnGuardScheduledTaskDefinition -TaskPath $Target.TaskPath
            if ($null -eq $task) { return [pscustomobject]@{ State = 'absent'; Message = $null } }
            if ((Get-TaskActionText -Actions @($task.Actions)) -eq (Get-TaskActionText -Actions $Target.Actions)) { return [pscustomobject]@{ State = 'same'; Message = $null } }
            return [pscustomobject]@{ State = 'other'; Message = 'A task with other actions is at that path now.' }
        }
        'service' {
            $start = Get-SpawnGuardServiceStartType -Name $Target.ServiceName
            if ($null -eq $start) { return [pscustomobject]@{ State = 'missing'; Message = ('The service ' + $Target.ServiceName + ' no longer exists.') } }
            if ([int]$start -eq $Target.Start) { return [pscustomobject]@{ State = 'same'; Message = $null } }
            if ([int]$start -eq 4) { return [pscustomobject]@{ State = 'absent'; Message = $null } }
            return [pscustomobject]@{ State = 'other'; Message = ('The service''s start type was changed since (it is ' + [string]$start + ' now).') }
        }
        'wmi-subscription' {
            $consumer = Get-SubscriptionInstanceByName -ClassName $Target.ClassName -InstanceName $Target.InstanceName
            if ($null -eq $consumer) { return [pscustomobject]@{ State = 'absent'; Message = $null } }
            foreach ($property in @($Target.Properties.Keys)) {
                $field = $consumer.PSObject.Properties[[string]$property]
                $actual = $null
                if ($null -ne $field) { $actual = $field.Value }
                if ([string]$actual -cne [string]$Target.Properties[$property]) {
                    return [pscustomobject]@{ State = 'other'; Message = ('A consumer of that name with another ' + [string]$property + ' is there now.') }
                }
            }
            return [pscustomobject]@{ State = 'same'; Message = $null }
        }
        'startup-folder' {
            if (-not (Test-SpawnGuardFile -LiteralPath $Target.Path)) { return [pscustomobject]@{ State = 'absent'; Message = $null } }
            if ((Get-SpawnGuardFileHash -LiteralPath $Target.Path) -eq $Target.Hash) { return [pscustomobject]@{ State = 'same'; Message = $null } }
            return [pscustomobject]@{ State = 'other'; Message = 'Another file is at that path now.' }
        }
    }
    return [pscustomobject]@{ State = 'other'; Message = 'Not a kind this script restores.' }
}

function Get-SubscriptionInstanceByName {
    <#
    .SYNOPSIS
        The root\subscription instance of a class with this name (WMI compares names case-insensitively), or $null.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$ClassName, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$InstanceName)
    foreach ($instance in (Get-SpawnGuardSubscriptionInstance -ClassName $ClassName)) {
        if ($null -ne $instance -and [string]::Equals([string]$instance.Name, $InstanceName, [System.StringComparison]::OrdinalIgnoreCase)) { return $instance }
    }
    return $null
}

function Restore-ConsumerBinding {
    <#
    .SYNOPSIS
        Binds a restored consumer to the filters it was bound to, where the filter still exists and
        the binding is missing; returns the sentence that says what was bound and what was not.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Target)
    if ($Target.Filters.Length -eq 0) { return '' }
    $consumer = Get-SubscriptionInstanceByName -ClassName $Target.ClassName -InstanceName $Target.InstanceName
    if ($null -eq $consumer) { return '' }
    $bound = @{}
    foreach ($binding in (Get-SpawnGuardSubscriptionInstance -ClassName '__FilterToConsumerBinding')) {
        if ($null -eq $binding) { continue }
        $to = ConvertFrom-SpawnGuardWmiReference -Reference $binding.Consumer
        if ($to.Class -eq $Target.ClassName -and [string]::Equals($to.Name, $Target.InstanceName, [System.StringComparison]::OrdinalIgnoreCase)) {
            $bound[(ConvertFrom-SpawnGuardWmiReference -Reference $binding.Filter).Name.ToLowerInvariant()] = $true
        }
    }
    $missing = New-Object -TypeName System.Collections.ArrayList
    foreach ($filterName in $Target.Filters) {
        if ($bound.ContainsKey($filterName.ToLowerInvariant())) { continue }
        $filter = Get-SubscriptionInstanceByName -ClassName '__EventFilter' -InstanceName $filterName
        if ($null -eq $filter) {
            [void]$missing.Add($filterName)
            continue
        }
        if ($PSCmdlet.ShouldProcess($filterName, 'Bind to the restored consumer')) {
            New-SpawnGuardSubscriptionBinding -Filter $filter -Consumer $consumer
        }
    }
    if ($missing.Count -gt 0) { return (' Not bound again (the filter no longer exists): ' + ($missing.ToArray() -join ', ') + '.') }
    return ' Its bindings were restored.'
}

# ---------- putting back ----------

function Restore-Entry {
    <#
    .SYNOPSIS
        Puts one absent entry back; returns the sentence that says what was done (a startup file:
        the quarantine restore's result instead, whose status decides).
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Kind, [Parameter(Mandatory = $true)][psobject]$Target, [Parameter(Mandatory = $true)][psobject]$Parsed)
    if (-not $PSCmdlet.ShouldProcess($Kind, 'Restore persistence entry')) { return $null }
    switch ($Kind) {
        'run-key' {
            Set-SpawnGuardRegistryValue -Path $Target.Key -Name $Target.ValueName -Kind $Target.Kind -Value $Target.Value
            return [pscustomobject]@{ Status = 'done'; Reason = $null; Message = ('The value was written back as ' + $Target.Kind + '.') }
        }
        'scheduled-task' {
            Register-SpawnGuardScheduledTaskXml -TaskPath $Target.TaskPath -Xml $Target.Xml -UserId $Target.UserId -LogonType $Target.LogonType
            return [pscustomobject]@{ Status = 'done'; Reason = $null; Message = 'The task was registered again from its XML.' }
        }
        'service' {
            Set-SpawnGuardServiceStartType -Name $Target.ServiceName -Start $Target.Start
            return [pscustomobject]@{ Status = 'done'; Reason = $null; Message = ('The service''s start type was set back to ' + $Target.Start + '.') }
        }
        'wmi-subscription' {
            New-SpawnGuardSubscriptionInstance -ClassName $Target.ClassName -Property $Target.Properties
            $bindings = Restore-ConsumerBinding -Target $Target
            return [pscustomobject]@{ Status = 'done'; Reason = $null; Message = ('The consumer was created again.' + $bindings) }
        }
        'startup-folder' {
            $outcome = Restore-SpawnGuardQuarantinedEntry -Directory $Parsed.QuarantineDirectory -Hash $Target.Hash -OriginalPath $Target.Path
            $message = [string]$outcome.message
            if ($outcome.status -eq 'done') {
                $acl = 'its original ACL was put back'
                if ($false -eq $outcome.aclRestored) { $acl = 'but its ACL, read back, differs from the one recorded at quarantine' }
                $message = 'The file was restored from quarantine; ' + $acl + '.'
            }
            return [pscustomobject]@{ Status = [string]$outcome.status; Reason = $outcome.reason; Message = $message }
        }
    }
    return $null
}

function Complete-Backup {
    <#
    .SYNOPSIS
        Keeps a backup whose entry is back as <id>.restored.json (replacing an earlier one); returns that path.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Id)
    $path = Get-SpawnGuardPersistenceBackupPath -Directory $Directory -Id $Id
    $restored = Get-SpawnGuardPersistenceBackupPath -Directory $Directory -Id $Id -Restored
    if (-not $PSCmdlet.ShouldProcess($path, ('Rename to ' + $restored))) { return $path }
    if (Test-SpawnGuardFile -LiteralPath $restored) {
        Update-SpawnGuardFileFrom -Source $path -Destination $restored
    } else {
        Move-SpawnGuardFile -Source $path -Destination $restored
    }
    return $restored
}

function Restore-PersistenceBackup {
    <#
    .SYNOPSIS
        One backup id, start to end: read and validate the backup, compare with what is there, put
        the entry back, read it again, keep the backup as restored. Returns its result item.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Id, [Parameter(Mandatory = $true)][psobject]$Backup, [Parameter(Mandatory = $true)][string]$BackupPath, [Parameter(Mandatory = $true)][bool]$Restored, [Parameter(Mandatory = $true)][psobject]$Parsed)
    $kind = [string]$Backup.kind
    if ([string]$Backup.incidentId -cne $Parsed.IncidentId) {
        return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'skipped' -Reason 'incident-mismatch' -Message ('The backup belongs to another incident; nothing was restored.') -BackupPath $BackupPath)
    }
    try {
        $resolved = Resolve-BackupTarget -Backup $Backup
    } catch {
        if ((Get-SpawnGuardErrorCode -ErrorRecord $_) -ne 'invalid-backup') { throw }
        $resolved = New-BackupRefusal -Message $_.Exception.Message
    }
    if ($null -eq $resolved.Target) {
        return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'skipped' -Reason $resolved.Reason -Message ($resolved.Message + ' Nothing was restored.') -BackupPath $BackupPath)
    }
    $hive = $null
    if ($null -ne $resolved.Target.PSObject.Properties['Hive']) { $hive = $resolved.Target.Hive }
    $problems = @()
    try {
        $item = Invoke-BackupRestore -Id $Id -Backup $Backup -BackupPath $BackupPath -Restored $Restored -Parsed $Parsed -Target $resolved.Target
    } finally {
        # A user hive loaded for this backup is unloaded whatever happened: left loaded, it would keep its user from logging on.
        $problems = Dismount-SpawnGuardProfileHive -Hive $hive
    }
    if ($problems.Length -gt 0) { $item['message'] = ([string]$item['message'] + ' ' + ($problems -join ' ')).Trim() }
    return $item
}

function Invoke-BackupRestore {
    <#
    .SYNOPSIS
        One validated backup whose place on this host is known (Target): compare with what is there,
        put the entry back, read it again, keep the backup as restored. Returns its result item.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Id, [Parameter(Mandatory = $true)][psobject]$Backup, [Parameter(Mandatory = $true)][string]$BackupPath, [Parameter(Mandatory = $true)][bool]$Restored, [Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][psobject]$Target)
    $kind = [string]$Backup.kind
    $target = $Target
    $state = Get-EntryState -Kind $kind -Target $target
    if ($Restored) {
        if ($state.State -eq 'same') {
            return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'already-done' -Message 'Restored earlier, and still as it was.' -BackupPath $BackupPath -Verified $true)
        }
        return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'skipped' -Reason 'already-restored' -Message 'Restored earlier, but it is no longer there as it was: nothing was done.' -BackupPath $BackupPath -Verified $false)
    }
    switch ($state.State) {
        'same' {
            if ($kind -eq 'wmi-subscription') { $null = Restore-ConsumerBinding -Target $target }
            $kept = Complete-Backup -Directory $Parsed.BackupDirectory -Id $Id
            return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'already-done' -Message 'The entry is already there as it was; the backup is kept as restored.' -BackupPath $kept -Verified $true)
        }
        'other' {
            return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'skipped' -Reason 'target-exists' -Message ($state.Message + ' It was left alone; nothing was restored.') -BackupPath $BackupPath)
        }
        'missing' {
            return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'skipped' -Reason 'not-found' -Message ($state.Message + ' Nothing was restored.') -BackupPath $BackupPath)
        }
    }
    $outcome = Restore-Entry -Kind $kind -Target $target -Parsed $Parsed
    if ($outcome.Status -ne 'done' -and $outcome.Status -ne 'already-done') {
        return (New-RestoreItem -BackupId $Id -Backup $Backup -Status $outcome.Status -Reason $outcome.Reason -Message $outcome.Message -BackupPath $BackupPath)
    }
    if ((Get-EntryState -Kind $kind -Target $target).State -ne 'same') {
        return (New-RestoreItem -BackupId $Id -Backup $Backup -Status 'failed' -Reason 'not-restored' -Message ($outcome.Message + ' Yet read again, the entry is not as it was; the backup is kept.') -BackupPath $BackupPath -Verified $false)
    }
    $kept = Complete-Backup -Directory $Parsed.BackupDirectory -Id $Id
    return (New-RestoreItem -BackupId $Id -Backup $Backup -Status $outcome.Status -Message ($outcome.Message + ' Read back as it was; the backup is kept as ' + $kept + '.') -BackupPath $kept -Verified $true)
}

function Test-ReportableBackup {
    <#
    .SYNOPSIS
        True when a backup that failed validation still names a removable kind, a location and a
        name, so its refusal can be reported as a result item (skipped, 'invalid-backup').
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][object]$Backup)
    if ($null -eq $Backup) { return $false }
    $kind = Get-SpawnGuardBackupField -Document $Backup -Name 'kind'
    $location = Get-SpawnGuardBackupField -Document $Backup -Name 'location'
    $name = Get-SpawnGuardBackupField -Document $Backup -Name 'name'
    return ($kind -is [string] -and (Get-SpawnGuardPersistenceKind -Removable) -ccontains $kind -and $location -is [string] -and $name -is [string])
}

function Invoke-RestorePersistenceEntry {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-RestorePersistenceRequest -Bound $Bound
        Assert-SpawnGuardQuarantineStore -LiteralPath $parsed.BackupDirectory -AllowMissing
        # Every id must name a backup (kept or restored) before anything is done: an id without one
        # is an invalid request, not something a retry could fix.
        $found = New-Object -TypeName System.Collections.ArrayList
        foreach ($id in $parsed.BackupIds) {
            $path = Get-SpawnGuardPersistenceBackupPath -Directory $parsed.BackupDirectory -Id $id
            $restoredPath = Get-SpawnGuardPersistenceBackupPath -Directory $parsed.BackupDirectory -Id $id -Restored
            if (Test-SpawnGuardFile -LiteralPath $path) {
                [void]$found.Add([pscustomobject]@{ Id = $id; Path = $path; Restored = $false })
            } elseif (Test-SpawnGuardFile -LiteralPath $restoredPath) {
                [void]$found.Add([pscustomobject]@{ Id = $id; Path = $restoredPath; Restored = $true })
            } else {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message ('No backup ' + $id + ' in ' + $parsed.BackupDirectory + '; nothing was restored.'))
            }
        }
        foreach ($entry in $found) {
            $backup = $null
            try {
                $backup = Read-SpawnGuardPersistenceBackup -LiteralPath $entry.Path
                Assert-SpawnGuardPersistenceBackup -Backup $backup -Id $entry.Id
            } catch {
                if (Test-ReportableBackup -Backup $backup) {
                    Add-SpawnGuardResultItem -Result $Result -Item (New-RestoreItem -BackupId $entry.Id -Backup $backup -Status 'skipped' -Reason 'invalid-backup' -Message $_.Exception.Message -BackupPath $entry.Path)
                } else {
                    # Not JSON, or no kind of ours: there is no entry to report it as.
                    Add-SpawnGuardError -Result $Result -Code (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
                }
                continue
            }
            try {
                $item = Restore-PersistenceBackup -Id $entry.Id -Backup $backup -BackupPath $entry.Path -Restored $entry.Restored -Parsed $parsed
            } catch {
                $item = New-RestoreItem -BackupId $entry.Id -Backup $backup -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message -BackupPath $entry.Path
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
    Invoke-RestorePersistenceEntry -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
