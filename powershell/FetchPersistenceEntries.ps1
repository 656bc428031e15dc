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
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety.psm1')
Initialize-SpawnGuardOutput

$script:WindowsNt = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$script:MachineSoftwareRoots = @('HKEY_LOCAL_MACHINE\SOFTWARE', 'HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node')
$script:MaxCommandLength = 8192

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
    if ($text -match '^(?i)system32\\') { $text = (Join-Path -Path $env:SystemRoot -ChildPath $text) }
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
    if ([System.IO.Path]::GetExtension($Name).Length -eq 0) { $names = @(($Name + '.exe'), $Name) }
    foreach ($folder in @((Join-Path -Path $env:SystemRoot -ChildPath 'System32'), $env:SystemRoot)) {
        foreach ($candidate in $names) {
            $path = Join-Path -Path $folder -ChildPath $candidate
            if (Test-Path -LiteralPath $path -PathType Leaf) { return $path }
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
            if ($prefix.IndexOfAny([System.IO.Path]::GetInvalidPathChars()) -ge 0) { break }
            foreach ($try in @($prefix, ($prefix + '.exe'))) {
                if ($null -eq $candidate -and (Test-SpawnGuardAbsolutePath -Path $try) -and (Test-Path -LiteralPath $try -PathType Leaf)) { $candidate = $try }
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
    if ([string]::IsNullOrEmpty($Text)) { return $null }
    if ($Text.Length -le $script:MaxCommandLength) { return $Text }
    return ($Text.Substring(0, $script:MaxCommandLength) + '...')
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
        [AllowNull()][AllowEmptyString()][string]$User
    )
    $image = $ImagePath
    if ([string]::IsNullOrEmpty($image)) { $image = Resolve-CommandImage -CommandLine $CommandLine }
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

function Get-RegistryKey {
    <#
    .SYNOPSIS
        A registry key by its full name (HKEY_LOCAL_MACHINE\...), or $null when it does not exist.
    #>
    [CmdletBinding()]
    [OutputType([Microsoft.Win32.RegistryKey])]
    param([Parameter(Mandatory = $true)][string]$Path)
    return (Get-Item -LiteralPath ('Registry::' + $Path) -ErrorAction SilentlyContinue)
}

function Get-RegistrySubKeyName {
    <#
    .SYNOPSIS
        The names of a key's subkeys (none when it does not exist).
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

function Get-RegistryValueText {
    <#
    .SYNOPSIS
        The values of a key as name/text pairs, environment variables left unexpanded (as stored);
        a multi-string value gives one pair per string.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([AllowNull()][object]$Key, [AllowEmptyCollection()][string[]]$Names = @())
    $pairs = New-Object -TypeName System.Collections.ArrayList
    if ($null -eq $Key) { return , $pairs.ToArray() }
    $wanted = $Names
    if ($wanted.Length -eq 0) { $wanted = [string[]]$Key.GetValueNames() }
    foreach ($name in $wanted) {
        $value = $Key.GetValue($name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        if ($null -eq $value) { continue }
        if ($value -is [System.Array] -and -not ($value -is [byte[]])) {
            foreach ($element in $value) {
                if (-not [string]::IsNullOrEmpty([string]$element)) { [void]$pairs.Add([pscustomobject]@{ Name = [string]$name; Text = [string]$element }) }
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
    foreach ($sid in (Get-RegistrySubKeyName -Path 'HKEY_USERS')) {
        if ($sid -like '*_Classes') { continue }
        $account = $sid
        try {
            $identifier = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
            $account = $identifier.Translate([System.Security.Principal.NTAccount]).Value
        } catch {
            $account = $sid
        }
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
    $key = Get-RegistryKey -Path $Path
    foreach ($pair in (Get-RegistryValueText -Key $key -Names $Names)) {
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
    foreach ($root in $script:MachineSoftwareRoots) { [void]$roots.Add([pscustomobject]@{ Root = $root; User = $null }) }
    foreach ($hive in (Get-UserHive)) { [void]$roots.Add([pscustomobject]@{ Root = ($hive.Root + '\Software'); User = $hive.User }) }
    foreach ($root in $roots) {
        $base = $root.Root + '\Microsoft\Windows\CurrentVersion'
        foreach ($leaf in @('Run', 'RunOnce', 'Policies\Explorer\Run', 'RunOnceEx')) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'run-key' -Path ($base + '\' + $leaf) -User $root.User
        }
        foreach ($sub in (Get-RegistrySubKeyName -Path ($base + '\RunOnceEx'))) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'run-key' -Path ($base + '\RunOnceEx\' + $sub) -User $root.User
        }
    }
}

function Get-ShortcutCommand {
    <#
    .SYNOPSIS
        Target and arguments of a .lnk file (read through WScript.Shell, never saved), or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    try {
        $shell = New-Object -ComObject 'WScript.Shell'
        $shortcut = $shell.CreateShortcut($LiteralPath)
        $target = [string]$shortcut.TargetPath
        $arguments = [string]$shortcut.Arguments
    } catch {
        return $null
    }
    if ($target.Length -eq 0) { return $null }
    $command = '"' + $target + '"'
    if ($arguments.Length -gt 0) { $command = $command + ' ' + $arguments }
    return [pscustomobject]@{ Command = $command; Image = $target }
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
    [void]$folders.Add([pscustomobject]@{ Path = (Join-Path -Path $programData -ChildPath 'Microsoft\Windows\Start Menu\Programs\StartUp'); User = $null })
    $profileList = 'HKEY_LOCAL_MACHINE\' + $script:WindowsNt + '\ProfileList'
    foreach ($sid in (Get-RegistrySubKeyName -Path $profileList)) {
        $key = Get-RegistryKey -Path ($profileList + '\' + $sid)
        if ($null -eq $key) { continue }
        $profilePath = [string]$key.GetValue('ProfileImagePath')
        if ($profilePath.Length -eq 0) { continue }
        $user = $sid
        try {
            $user = (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid).Translate([System.Security.Principal.NTAccount]).Value
        } catch {
            $user = $sid
        }
        [void]$folders.Add([pscustomobject]@{ Path = (Join-Path -Path $profilePath -ChildPath 'AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'); User = $user })
    }
    foreach ($folder in $folders) {
        if (-not (Test-Path -LiteralPath $folder.Path -PathType Container)) { continue }
        foreach ($file in @(Get-ChildItem -LiteralPath $folder.Path -Force -ErrorAction SilentlyContinue)) {
            if ($file.PSIsContainer -or $file.Name -eq 'desktop.ini') { continue }
            $command = '"' + $file.FullName + '"'
            $image = $file.FullName
            if ($file.Extension -eq '.lnk') {
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
    foreach ($name in (Get-RegistrySubKeyName -Path $services)) {
        $path = $services + '\' + $name
        $key = Get-RegistryKey -Path $path
        if ($null -eq $key) { continue }
        $imagePath = $key.GetValue('ImagePath', $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        if ($null -eq $imagePath -or [string]$imagePath -eq '') { continue }
        $account = [string]$key.GetValue('ObjectName')
        Add-PersistenceEntry -Result $Result -References $References -Kind 'service' -Location (ConvertTo-ShortHiveName -Path $path) -Name $name -CommandLine ([string]$imagePath) -User $account
        foreach ($dllKey in @($path + '\Parameters', $path)) {
            $holder = Get-RegistryKey -Path $dllKey
            if ($null -eq $holder) { continue }
            $dll = $holder.GetValue('ServiceDll', $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
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
    $tasks = $null
    if ($null -ne (Get-Command -Name 'Get-ScheduledTask' -ErrorAction SilentlyContinue)) {
        try {
            $tasks = @(Get-ScheduledTask -ErrorAction Stop)
        } catch {
            # One unreadable task definition makes the cmdlet fail: the COM object lists the rest.
            $tasks = $null
        }
    }
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
        $key = Get-RegistryKey -Path ('HKEY_LOCAL_MACHINE\SOFTWARE\Classes\CLSID\' + $ClassId + '\InprocServer32')
        if ($null -ne $key) { $server = [string]$key.GetValue('') }
    }
    $image = $null
    if (-not [string]::IsNullOrEmpty($server)) { $image = Expand-CommandText -CommandLine $server }
    Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location $Location -Name $Name -CommandLine ('COM handler ' + $ClassId) -ImagePath $image -User $User
}

function Add-ScheduledTaskComEntry {
    <#
    .SYNOPSIS
        Every scheduled task action through the Schedule.Service COM object (hidden tasks included).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
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
            $user = [string]$definition.Principal.UserId
            foreach ($action in @($definition.Actions)) {
                # Action types: 0 = TASK_ACTION_EXEC, 5 = TASK_ACTION_COM_HANDLER.
                if ($action.Type -eq 0) {
                    $command = [string]$action.Path
                    if (([string]$action.Arguments).Length -gt 0) { $command = $command + ' ' + [string]$action.Arguments }
                    $image = Resolve-CommandImage -CommandLine ([string]$action.Path)
                    Add-PersistenceEntry -Result $Result -References $References -Kind 'scheduled-task' -Location ([string]$task.Path) -Name ([string]$task.Name) -CommandLine $command -ImagePath $image -User $user
                } elseif ($action.Type -eq 5) {
                    Add-ComHandlerEntry -Result $Result -References $References -Location ([string]$task.Path) -Name ([string]$task.Name) -ClassId ([string]$action.ClassId) -User $user
                }
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
    foreach ($root in $script:MachineSoftwareRoots) {
        [void]$keys.Add([pscustomobject]@{ Path = ($root + '\Microsoft\Windows NT\CurrentVersion\Winlogon'); User = $null })
    }
    foreach ($hive in (Get-UserHive)) {
        [void]$keys.Add([pscustomobject]@{ Path = ($hive.Root + '\' + $script:WindowsNt + '\Winlogon'); User = $hive.User })
    }
    foreach ($entry in $keys) {
        $key = Get-RegistryKey -Path $entry.Path
        foreach ($pair in (Get-RegistryValueText -Key $key -Names @('Userinit', 'Shell', 'Taskman', 'AppSetup'))) {
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
    foreach ($root in $script:MachineSoftwareRoots) {
        $ifeo = $root + '\Microsoft\Windows NT\CurrentVersion\Image File Execution Options'
        foreach ($program in (Get-RegistrySubKeyName -Path $ifeo)) {
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'ifeo-debugger' -Path ($ifeo + '\' + $program) -Names @('Debugger') -EntryName ($program + ' Debugger')
        }
        $silentExit = $root + '\Microsoft\Windows NT\CurrentVersion\SilentProcessExit'
        foreach ($program in (Get-RegistrySubKeyName -Path $silentExit)) {
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
    foreach ($root in $script:MachineSoftwareRoots) {
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'appinit-dlls' -Path ($root + '\Microsoft\Windows NT\CurrentVersion\Windows') -Names @('AppInit_DLLs')
        Add-RegistryValueEntry -Result $Result -References $References -Kind 'command-processor-autorun' -Path ($root + '\Microsoft\Command Processor') -Names @('AutoRun')
        $components = $root + '\Microsoft\Active Setup\Installed Components'
        foreach ($component in (Get-RegistrySubKeyName -Path $components)) {
            $key = Get-RegistryKey -Path ($components + '\' + $component)
            if ($null -eq $key) { continue }
            $label = [string]$key.GetValue('')
            if ($label.Length -eq 0) { $label = $component }
            Add-RegistryValueEntry -Result $Result -References $References -Kind 'active-setup' -Path ($components + '\' + $component) -Names @('StubPath') -EntryName $label
        }
    }
    $sessionManager = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager'
    $key = Get-RegistryKey -Path $sessionManager
    foreach ($pair in (Get-RegistryValueText -Key $key -Names @('BootExecute', 'SetupExecute', 'Execute'))) {
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

function Get-SubscriptionInstance {
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

function Add-WmiSubscriptionEntry {
    <#
    .SYNOPSIS
        Permanent WMI event consumers that run programs or scripts.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$References)
    foreach ($consumer in (Get-SubscriptionInstance -ClassName 'CommandLineEventConsumer')) {
        $command = [string]$consumer.CommandLineTemplate
        $image = [string]$consumer.ExecutablePath
        if ($command.Length -eq 0) { $command = $image }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:CommandLineEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
    foreach ($consumer in (Get-SubscriptionInstance -ClassName 'ActiveScriptEventConsumer')) {
        $command = [string]$consumer.ScriptFileName
        if ($command.Length -eq 0) { $command = [string]$consumer.ScriptText }
        # ActiveScript consumers run inside scrcons.exe; the script file, when there is one, is the payload.
        $image = Find-ImageOnSearchPath -Name 'scrcons.exe'
        if (([string]$consumer.ScriptFileName).Length -gt 0) { $image = [string]$consumer.ScriptFileName }
        Add-PersistenceEntry -Result $Result -References $References -Kind 'wmi-subscription' -Location 'root\subscription:ActiveScriptEventConsumer' -Name ([string]$consumer.Name) -CommandLine $command -ImagePath $image
    }
}

$scriptName = $MyInvocation.MyCommand.Name
$result = New-SpawnGuardResult -Script $scriptName
try {
    $parsed = Get-PersistenceRequest -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters)
    $references = [string[]]@($parsed.ReferencePaths)
    # One collector per source: a source that cannot be read is noted, the others still run.
    foreach ($source in @('scheduled-task', 'run-key', 'startup-folder', 'service', 'winlogon', 'ifeo-debugger', 'registry', 'wmi-subscription')) {
        try {
            switch ($source) {
                'scheduled-task' { Add-ScheduledTaskEntry -Result $result -References $references }
                'run-key' { Add-RunKeyEntry -Result $result -References $references }
                'startup-folder' { Add-StartupFolderEntry -Result $result -References $references }
                'service' { Add-ServiceEntry -Result $result -References $references }
                'winlogon' { Add-WinlogonEntry -Result $result -References $references }
                'ifeo-debugger' { Add-ImageFileExecutionEntry -Result $result -References $references }
                'registry' { Add-SimpleRegistryEntry -Result $result -References $references }
                'wmi-subscription' { Add-WmiSubscriptionEntry -Result $result -References $references }
            }
        } catch {
            Add-SpawnGuardError -Result $result -Code ($source + '-unavailable') -Message $_.Exception.Message
        }
    }
} catch {
    Add-SpawnGuardError -Result $result -Code (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
}

$exitCode = Get-SpawnGuardExitCode -Result $result
Write-SpawnGuardResult -Result $result -ExitCode $exitCode
exit $exitCode
