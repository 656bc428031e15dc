<#
.SYNOPSIS
    Lists the host's persistence entries and flags those that reference given files.

.DESCRIPTION
    Collects, read-only, the places Windows starts programs from on its own:
      scheduled-task            every task (Get-ScheduledTask, or the Schedule.Service COM object
                                where that cmdlet is missing, as on Windows Server 2008 R2)
      run-key                   Run, RunOnce, RunOnceEx, Policies\Explorer\Run of HKLM, HKLM
                                Wow6432Node and every loaded user hive
      startup-folder            the all-users Startup folder and each profile's (shortcuts resolved)
      service                   every service's ImagePath and ServiceDll
      winlogon                  Winlogon Userinit, Shell, Taskman and AppSetup
      ifeo-debugger             Image File Execution Options Debugger, SilentProcessExit MonitorProcess
      appinit-dlls              AppInit_DLLs
      wmi-subscription          CommandLineEventConsumer and ActiveScriptEventConsumer in root\subscription
      boot-execute              Session Manager BootExecute, SetupExecute, Execute
      active-setup              Active Setup StubPath
      command-processor-autorun cmd.exe AutoRun
      logon-script              UserInitMprLogonScript of every loaded user hive
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
    The host worker's request: base64 of UTF-8 JSON matching FetchPersistenceRequestSchema in
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

function Get-MachineSoftwareRoot {
    <#
    .SYNOPSIS
        The machine's SOFTWARE keys: the native one and the 32-bit view (Wow6432Node).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param()
    return , [string[]]@('HKEY_LOCAL_MACHINE\SOFTWARE', 'HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node')
}

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

function Expand-CommandText {
    <#
    .SYNOPSIS
        A command line with environment variables and NT path prefixes (\??\, \SystemRoot\) expanded.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$CommandLine)
    if ([string]::IsNullOrEmpty($CommandLine)) { return '' }
    $text = [System.Environment]::ExpandEnvironmentVariables($CommandLine.Trim())
    if ($text.StartsWith('\??\')) { $text = $text.Substring(4) }
    if ($text -match '^\\SystemRoot\\') { $text = $env:SystemRoot + $text.Substring(11) }
    if ($text -match '^(?i)system32\\') { $text = (Join-SpawnGuardPath -Path $env:SystemRoot -ChildPath $text) }
    return $text
}

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
    param([AllowNull()][AllowEmptyString()][string]$CommandLine)
    $text = Expand-CommandText -CommandLine $CommandLine
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
        # The command is a description, not a command line: report -ImagePath as given, even when empty.
        [switch]$ImageKnown
    )
    $image = $ImagePath
    if ([string]::IsNullOrEmpty($image) -and -not $ImageKnown) { $image = Resolve-CommandImage -CommandLine $CommandLine }
    $normalizedImage = ConvertTo-SpawnGuardNormalizedPath -Path $image
    $normalizedCommand = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-CommandText -CommandLine $CommandLine)
    $matchedPath = $null
    for ($i = 0; $i -lt $References.Length -and $null -eq $matchedPath; $i++) {
        $reference = ConvertTo-SpawnGuardNormalizedPath -Path (Expand-CommandText -CommandLine $References[$i])
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
        HKLM\... / HKU\... for a HKEY_LOCAL_MACHINE\... / HKEY_USERS\... name (as analysts write them).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Path)
    return ($Path -replace '^HKEY_LOCAL_MACHINE\\', 'HKLM\' -replace '^HKEY_USERS\\', 'HKU\')
}

function Get-UserHive {
    <#
    .SYNOPSIS
        Every loaded user hive under HKEY_USERS, with the account name of its SID when it resolves.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $hives = New-Object -TypeName System.Collections.ArrayList
    foreach ($sid in (Get-SpawnGuardRegistrySubKeyName -Path 'HKEY_USERS')) {
        if ($sid -like '*_Classes') { continue }
        $account = ConvertTo-SpawnGuardAccountName -Sid $sid
        [void]$hives.Add([pscustomobject]@{ Root = ('HKEY_USERS\' + $sid); User = $account })
    }
    return , $hives.ToArray()
}

function Add-RegistryValueEntry {
    <#
    .SYNOPSIS
        Adds one entry per value (or per listed value name) of a key.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References,
        [Parameter(Mandatory = $true)][string]$Kind,
        [Parameter(Mandatory = $true)][string]$Path,
        [AllowEmptyCollection()][string[]]$Names = @(),
        [AllowNull()][AllowEmptyString()][string]$User,
        [AllowNull()][AllowEmptyString()][string]$EntryName
    )
    foreach ($pair in (Get-RegistryValueText -Path $Path -Names $Names)) {
        $name = $pair.Name
        if (-not [string]::IsNullOrEmpty($EntryName)) { $name = $EntryName }
        Add-PersistenceEntry -Result $Result -References $References -Kind $Kind -Location (ConvertTo-ShortHiveName -Path $Path) -Name $name -CommandLine $pair.Text -User $User
    }
}

# ---------- the collectors ----------

function Add-RunKeyEntry {
    <#
    .SYNOPSIS
        Run, RunOnce, RunOnceEx (and its subkeys) and Policies\Explorer\Run, machine-wide and per user.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $roots = New-Object -TypeName System.Collections.ArrayList
    foreach ($root in (Get-MachineSoftwareRoot)) { [void]$roots.Add([pscustomobject]@{ Root = $root; User = $null }) }
    foreach ($hive in (Get-UserHive)) { [void]$roots.Add([pscustomobject]@{ Root = ($hive.Root + '\Software'); User = $hive.User }) }
    foreach ($root in $roots) {
        $base = $root.Root + '\Microsoft\Windows\CurrentVersion'
        foreach ($leaf in @('Run', 'RunOnce', 'Policies\Explorer\Run', 'RunOnceEx')) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'run-key' -Path ($base + '\' + $leaf) -User $root.User
        }
        foreach ($sub in (Get-SpawnGuardRegistrySubKeyName -Path ($base + '\RunOnceEx'))) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'run-key' -Path ($base + '\RunOnceEx\' + $sub) -User $root.User
            # RunOnceEx\<n>\Depend lists DLLs that are loaded too (a known persistence trick).
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'run-key' -Path ($base + '\RunOnceEx\' + $sub + '\Depend') -User $root.User
        }
    }
}

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

function Add-StartupFolderEntry {
    <#
    .SYNOPSIS
        Files in the all-users Startup folder and in every profile's Startup folder.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $folders = New-Object -TypeName System.Collections.ArrayList
    $programData = $env:ProgramData
    if ([string]::IsNullOrEmpty($programData)) { $programData = 'C:\ProgramData' }
    [void]$folders.Add([pscustomobject]@{ Path = (Join-SpawnGuardPath -Path $programData -ChildPath 'Microsoft\Windows\Start Menu\Programs\StartUp'); User = $null })
    $profileList = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
    foreach ($sid in (Get-SpawnGuardRegistrySubKeyName -Path $profileList)) {
        # ProfileImagePath is stored with variables (%SystemDrive%\Users\bob).
        $profilePath = [System.Environment]::ExpandEnvironmentVariables([string](Get-SpawnGuardRegistryValue -Path ($profileList + '\' + $sid) -Name 'ProfileImagePath'))
        if ($profilePath.Length -eq 0) { continue }
        $user = ConvertTo-SpawnGuardAccountName -Sid $sid
        [void]$folders.Add([pscustomobject]@{ Path = (Join-SpawnGuardPath -Path $profilePath -ChildPath 'AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'); User = $user })
    }
    foreach ($folder in $folders) {
        foreach ($file in (Get-SpawnGuardChildFile -LiteralPath $folder.Path)) {
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
            Add-PersistenceEntry -Result $Result -References $References -Kind 'startup-folder' -Location $folder.Path -Name $file.Name -CommandLine $command -ImagePath $image -User $folder.User
        }
    }
}

function Add-ServiceEntry {
    <#
    .SYNOPSIS
        Every service's ImagePath, and its ServiceDll when it runs inside svchost.
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
                Add-PersistenceEntry -Result $Result -References $References -Kind 'service' -Location (ConvertTo-ShortHiveName -Path $dllKey) -Name ($name + ' (ServiceDll)') -CommandLine ([string]$dll) -ImagePath (Expand-CommandText -CommandLine ([string]$dll)) -User $account
                break
            }
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
    foreach ($task in $tasks) {
        $location = [string]$task.TaskPath + [string]$task.TaskName
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
    if (-not [string]::IsNullOrEmpty($server)) { $image = Expand-CommandText -CommandLine $server }
    Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location $Location -Name $Name -CommandLine ('COM handler ' + $ClassId) -ImagePath $image -User $User -ImageKnown
}

function Add-ScheduledTaskComEntry {
    <#
    .SYNOPSIS
        Every scheduled task action through the Schedule.Service COM object (hidden tasks included).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    foreach ($task in (Get-SpawnGuardScheduledTaskFromService)) {
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

function Add-WinlogonEntry {
    <#
    .SYNOPSIS
        Winlogon Userinit, Shell, Taskman and AppSetup (machine-wide and per user); Userinit's
        comma-separated list gives one entry per program.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    $keys = New-Object -TypeName System.Collections.ArrayList
    foreach ($root in (Get-MachineSoftwareRoot)) {
        [void]$keys.Add([pscustomobject]@{ Path = ($root + '\Microsoft\Windows NT\CurrentVersion\Winlogon'); User = $null })
    }
    foreach ($hive in (Get-UserHive)) {
        [void]$keys.Add([pscustomobject]@{ Path = ($hive.Root + '\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'); User = $hive.User })
    }
    foreach ($entry in $keys) {
        foreach ($pair in (Get-RegistryValueText -Path $entry.Path -Names @('Userinit', 'Shell', 'Taskman', 'AppSetup'))) {
            foreach ($program in ($pair.Text -split ',')) {
                if ($program.Trim().Length -eq 0) { continue }
                Add-PersistenceEntry -Result $Result -References $References -Kind 'winlogon' -Location (ConvertTo-ShortHiveName -Path $entry.Path) -Name $pair.Name -CommandLine $program.Trim() -User $entry.User
            }
        }
    }
}

function Add-ImageFileExecutionEntry {
    <#
    .SYNOPSIS
        Image File Execution Options Debugger values and SilentProcessExit MonitorProcess values.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    foreach ($root in (Get-MachineSoftwareRoot)) {
        $ifeo = $root + '\Microsoft\Windows NT\CurrentVersion\Image File Execution Options'
        foreach ($program in (Get-SpawnGuardRegistrySubKeyName -Path $ifeo)) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'ifeo-debugger' -Path ($ifeo + '\' + $program) -Names @('Debugger') -EntryName ($program + ' Debugger')
        }
        $silentExit = $root + '\Microsoft\Windows NT\CurrentVersion\SilentProcessExit'
        foreach ($program in (Get-SpawnGuardRegistrySubKeyName -Path $silentExit)) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'ifeo-debugger' -Path ($silentExit + '\' + $program) -Names @('MonitorProcess') -EntryName ($program + ' MonitorProcess')
        }
    }
}

function Add-SimpleRegistryEntry {
    <#
    .SYNOPSIS
        AppInit_DLLs, BootExecute, Active Setup StubPath, cmd.exe AutoRun and UserInitMprLogonScript.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    foreach ($root in (Get-MachineSoftwareRoot)) {
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'appinit-dlls' -Path ($root + '\Microsoft\Windows NT\CurrentVersion\Windows') -Names @('AppInit_DLLs')
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'command-processor-autorun' -Path ($root + '\Microsoft\Command Processor') -Names @('AutoRun')
        $components = $root + '\Microsoft\Active Setup\Installed Components'
        foreach ($component in (Get-SpawnGuardRegistrySubKeyName -Path $components)) {
            if (-not (Test-SpawnGuardRegistryKey -Path ($components + '\' + $component))) { continue }
            $label = [string](Get-SpawnGuardRegistryValue -Path ($components + '\' + $component) -Name '')
            if ($label.Length -eq 0) { $label = $component }
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'active-setup' -Path ($components + '\' + $component) -Names @('StubPath') -EntryName $label
        }
    }
    $sessionManager = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager'
    foreach ($pair in (Get-RegistryValueText -Path $sessionManager -Names @('BootExecute', 'SetupExecute', 'Execute'))) {
        # "autocheck autochk *": autocheck marks the native program that follows it.
        $command = $pair.Text
        $image = $null
        if ($command -match '^\s*autocheck\s+(\S+)') { $image = Find-ImageOnSearchPath -Name $Matches[1] }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'boot-execute' -Location (ConvertTo-ShortHiveName -Path $sessionManager) -Name $pair.Name -CommandLine $command -ImagePath $image
    }
    foreach ($hive in (Get-UserHive)) {
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'command-processor-autorun' -Path ($hive.Root + '\Software\Microsoft\Command Processor') -Names @('AutoRun') -User $hive.User
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'logon-script' -Path ($hive.Root + '\Environment') -Names @('UserInitMprLogonScript') -User $hive.User
    }
}

function Add-WmiSubscriptionEntry {
    <#
    .SYNOPSIS
        Permanent WMI event consumers that run programs or scripts.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    foreach ($consumer in (Get-SpawnGuardSubscriptionInstance -ClassName 'CommandLineEventConsumer')) {
        $command = [string]$consumer.CommandLineTemplate
        $image = [string]$consumer.ExecutablePath
        if ($command.Length -eq 0) { $command = $image }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:CommandLineEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
    foreach ($consumer in (Get-SpawnGuardSubscriptionInstance -ClassName 'ActiveScriptEventConsumer')) {
        $command = [string]$consumer.ScriptFileName
        if ($command.Length -eq 0) { $command = [string]$consumer.ScriptText }
        # ActiveScript consumers run inside scrcons.exe; the script file, when there is one, is the payload.
        $image = Find-ImageOnSearchPath -Name 'scrcons.exe'
        if (([string]$consumer.ScriptFileName).Length -gt 0) { $image = [string]$consumer.ScriptFileName }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:ActiveScriptEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
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
        # One collector per source: a source that cannot be read is noted, the others still run.
        foreach ($source in @('scheduled-task', 'run-key', 'startup-folder', 'service', 'winlogon', 'ifeo-debugger', 'registry', 'wmi-subscription')) {
            try {
                switch ($source) {
                    'scheduled-task' { Add-ScheduledTaskEntry -Result $Result -References $references }
                    'run-key' { Add-RunKeyEntry -Result $Result -References $references }
                    'startup-folder' { Add-StartupFolderEntry -Result $Result -References $references }
                    'service' { Add-ServiceEntry -Result $Result -References $references }
                    'winlogon' { Add-WinlogonEntry -Result $Result -References $references }
                    'ifeo-debugger' { Add-ImageFileExecutionEntry -Result $Result -References $references }
                    'registry' { Add-SimpleRegistryEntry -Result $Result -References $references }
                    'wmi-subscription' { Add-WmiSubscriptionEntry -Result $Result -References $references }
                }
            } catch {
                Add-SpawnGuardError -Result $Result -Code ($source + '-unavailable') -Message $_.Exception.Message
            }
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
