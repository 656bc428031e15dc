<#
.SYNOPSIS
    Builders shared by the Pester tests: requests as the host worker sends them, fake
    Win32_Process records, a fake Windows underneath the seam (files mapped into a test folder,
    a registry, sessions), and the parse of what a script printed.

.DESCRIPTION
    Pester 5. The tests run under pwsh on any platform: they mock only the Windows seam
    (SpawnGuard.Safety/Platform.ps1) and execute everything else. The scripts themselves are
    invoked or dot-sourced from the test files, not from here: a script run from inside this
    module would not see the tests' mocks.

    A mock body runs in the module's scope, so it reaches this module's state through the
    exported functions below (Get-TestRegistryValue, ConvertTo-TestNativePath, ...), never
    through variables of the test file.
#>

Set-StrictMode -Version 2.0

$script:FileSystemRoot = $null
$script:Registry = @{}
$script:Processes = @()

function Test-TestWindowsHost {
    <#
    .SYNOPSIS
        True on Windows (where the tests tagged Windows run); false under pwsh elsewhere.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    return ([System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT)
}

function ConvertTo-TestRequest {
    <#
    .SYNOPSIS
        The -Request argument for a request body: base64 of UTF-8 JSON, as the runner sends it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][hashtable]$Body)
    $json = ConvertTo-Json -InputObject $Body -Depth 8 -Compress
    return [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($json))
}

function New-TestProcess {
    <#
    .SYNOPSIS
        A fake Win32_Process instance with the properties the scripts read.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][int64]$ProcessId,
        [Parameter(Mandatory = $true)][string]$Name,
        [int64]$ParentProcessId = 1,
        [string]$Path = '',
        [string]$CommandLine = '',
        [datetime]$Created = (Get-Date -Date '2024-05-01T08:00:00Z'),
        [int64]$SessionId = 1
    )
    return [pscustomobject]@{
        ProcessId       = $ProcessId
        ParentProcessId = $ParentProcessId
        Name            = $Name
        ExecutablePath  = $Path
        CommandLine     = $CommandLine
        CreationDate    = $Created
        SessionId       = $SessionId
    }
}

function Set-TestProcessTable {
    <#
    .SYNOPSIS
        The processes the Get-SpawnGuardWin32Process mock returns (New-TestProcess records).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Processes)
    $script:Processes = $Processes
}

function Get-TestWin32Process {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardWin32Process mock: every process, or the one with this PID.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([AllowNull()][object]$ProcessId)
    if ($null -eq $ProcessId) { return $script:Processes }
    return @($script:Processes | Where-Object -FilterScript { $_.ProcessId -eq [int64]$ProcessId })
}

function ConvertFrom-TestOutput {
    <#
    .SYNOPSIS
        Parses what a script printed, which must be exactly one string holding one JSON document.
        Dates stay text, as the host worker reads them (PowerShell 7's ConvertFrom-Json would make
        DateTime of them; -DateKind String, where the cmdlet has it, keeps them as printed).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowNull()][AllowEmptyCollection()][object[]]$Output)
    if ($null -eq $Output -or $Output.Length -ne 1 -or -not ($Output[0] -is [string])) {
        throw 'A script must print exactly one string: its JSON document.'
    }
    $options = @{}
    if ((Get-Command -Name 'ConvertFrom-Json').Parameters.ContainsKey('DateKind')) { $options['DateKind'] = 'String' }
    return (ConvertFrom-Json -InputObject $Output[0] @options)
}

# ---------- files: Windows paths mapped into a test folder ----------

function Set-TestFileSystemRoot {
    <#
    .SYNOPSIS
        Where Windows paths live during a test: C:\a\b maps to <Root>/C/a/b, \\server\share\x to <Root>/UNC/server/share/x.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Root)
    $script:FileSystemRoot = $Root
}

function ConvertTo-TestNativePath {
    <#
    .SYNOPSIS
        The real path of a Windows path under the test root (the body of the ConvertTo-SpawnGuardNativePath mock).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    if ($null -eq $script:FileSystemRoot) { throw 'Set-TestFileSystemRoot first.' }
    $path = $LiteralPath
    if ($path.StartsWith('\\?\UNC\')) { $path = '\\' + $path.Substring(8) }
    elseif ($path.StartsWith('\\?\') -or $path.StartsWith('\??\')) { $path = $path.Substring(4) }
    if ($path -match '^([A-Za-z]):\\?(.*)$') {
        $relative = $Matches[1].ToUpperInvariant() + '/' + $Matches[2]
    } elseif ($path.StartsWith('\\')) {
        $relative = 'UNC/' + $path.Substring(2)
    } else {
        throw ('Not a Windows path a test can map: ' + $LiteralPath)
    }
    return (Join-Path -Path $script:FileSystemRoot -ChildPath ($relative.Replace('\', '/')))
}

function New-TestFile {
    <#
    .SYNOPSIS
        Creates a file at a Windows path (under the test root) with the given text; returns its real path.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$WindowsPath, [string]$Content = 'MZ test image')
    $native = ConvertTo-TestNativePath -LiteralPath $WindowsPath
    $null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $native -Parent)
    [System.IO.File]::WriteAllText($native, $Content)
    return $native
}

function New-TestLink {
    <#
    .SYNOPSIS
        Makes a Windows path (under the test root) a symbolic link to another one, as an attacker
        plants a junction or link; returns the link's real path.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$WindowsPath, [Parameter(Mandatory = $true)][string]$TargetWindowsPath)
    $native = ConvertTo-TestNativePath -LiteralPath $WindowsPath
    $target = ConvertTo-TestNativePath -LiteralPath $TargetWindowsPath
    $null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $native -Parent)
    $null = New-Item -ItemType SymbolicLink -Path $native -Target $target
    return $native
}

function Get-TestSha256 {
    <#
    .SYNOPSIS
        The lower-case SHA-256 of a text as New-TestFile writes it (UTF-8, no BOM).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Content)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $bytes = $sha.ComputeHash((New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetBytes($Content))
    } finally {
        $sha.Dispose()
    }
    return ([System.BitConverter]::ToString($bytes)).Replace('-', '').ToLowerInvariant()
}

# ---------- the registry ----------

function Set-TestRegistry {
    <#
    .SYNOPSIS
        The registry the seam mocks read: @{ 'HKEY_LOCAL_MACHINE\...\Run' = @{ 'Name' = 'value'; '' = 'default' } }.
        Parent keys exist implicitly; a key with no values is @{}.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][hashtable]$Keys)
    $script:Registry = @{}
    $script:RegistryKinds = @{}
    foreach ($name in $Keys.Keys) { $script:Registry[$name.ToLowerInvariant()] = [pscustomobject]@{ Name = $name; Values = $Keys[$name] } }
}

function Test-TestRegistryKey {
    <#
    .SYNOPSIS
        True when the fake registry has the key or a key below it.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $wanted = $Path.ToLowerInvariant().TrimEnd('\')
    foreach ($key in $script:Registry.Keys) {
        if ($key -eq $wanted -or $key.StartsWith($wanted + '\')) { return $true }
    }
    return $false
}

function Get-TestRegistrySubKeyName {
    <#
    .SYNOPSIS
        The direct subkey names of a fake key (with their original casing).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $prefix = $Path.ToLowerInvariant().TrimEnd('\') + '\'
    $names = New-Object -TypeName System.Collections.ArrayList
    foreach ($entry in $script:Registry.Values) {
        $lower = $entry.Name.ToLowerInvariant()
        if (-not $lower.StartsWith($prefix)) { continue }
        $child = $entry.Name.Substring($prefix.Length).Split('\')[0]
        if (-not ($names -contains $child)) { [void]$names.Add($child) }
    }
    return , [string[]]$names.ToArray()
}

function Get-TestRegistryValueName {
    <#
    .SYNOPSIS
        The value names of a fake key.
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory = $true)][string]$Path)
    $entry = $script:Registry[$Path.ToLowerInvariant().TrimEnd('\')]
    if ($null -eq $entry) { return , [string[]]@() }
    return , [string[]]@($entry.Values.Keys)
}

function Get-TestRegistryValue {
    <#
    .SYNOPSIS
        One value of a fake key, or $null.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    $entry = $script:Registry[$Path.ToLowerInvariant().TrimEnd('\')]
    if ($null -eq $entry -or -not $entry.Values.ContainsKey($Name)) { return $null }
    return $entry.Values[$Name]
}

# ---------- registry writes, scheduled tasks, WMI subscriptions (persistence removal) ----------

$script:RegistryKinds = @{}
$script:Tasks = New-Object -TypeName System.Collections.ArrayList
$script:Subscriptions = @{}

function Get-TestRegistryKindName {
    <#
    .SYNOPSIS
        The registry type a fake value has: the one written with it, else inferred from its .NET type.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name, [AllowNull()][object]$Value)
    $kindKey = $Path.ToLowerInvariant().TrimEnd('\') + '|' + $Name.ToLowerInvariant()
    if ($script:RegistryKinds.ContainsKey($kindKey)) { return $script:RegistryKinds[$kindKey] }
    if ($Value -is [byte[]]) { return 'Binary' }
    if ($Value -is [System.Array]) { return 'MultiString' }
    if ($Value -is [int]) { return 'DWord' }
    if ($Value -is [long]) { return 'QWord' }
    return 'String'
}

function Get-TestRegistryTypedValue {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardRegistryTypedValue mock: { Kind, Data } of a fake value, or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    $entry = $script:Registry[$Path.ToLowerInvariant().TrimEnd('\')]
    if ($null -eq $entry) { return $null }
    foreach ($candidate in @($entry.Values.Keys)) {
        if ([string]::Equals([string]$candidate, $Name, [System.StringComparison]::OrdinalIgnoreCase)) {
            $value = $entry.Values[$candidate]
            return [pscustomobject]@{ Kind = (Get-TestRegistryKindName -Path $Path -Name $Name -Value $value); Data = $value }
        }
    }
    return $null
}

function Set-TestRegistryValue {
    <#
    .SYNOPSIS
        Writes one fake value (the body of the Set-SpawnGuardRegistryValue mock): the key is created when missing.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][string]$Path,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name,
        [AllowNull()][object]$Value,
        [string]$Kind = ''
    )
    $lower = $Path.ToLowerInvariant().TrimEnd('\')
    if (-not $script:Registry.ContainsKey($lower)) { $script:Registry[$lower] = [pscustomobject]@{ Name = $Path.TrimEnd('\'); Values = @{} } }
    $values = $script:Registry[$lower].Values
    foreach ($candidate in @($values.Keys)) {
        if ([string]::Equals([string]$candidate, $Name, [System.StringComparison]::OrdinalIgnoreCase)) { $values.Remove($candidate) }
    }
    $values[$Name] = $Value
    if ($Kind.Length -gt 0) { $script:RegistryKinds[$lower + '|' + $Name.ToLowerInvariant()] = $Kind }
}

function Remove-TestRegistryValue {
    <#
    .SYNOPSIS
        Deletes one fake value (the body of the Remove-SpawnGuardRegistryValue mock).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Path, [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Name)
    $entry = $script:Registry[$Path.ToLowerInvariant().TrimEnd('\')]
    if ($null -eq $entry) { return }
    foreach ($candidate in @($entry.Values.Keys)) {
        if ([string]::Equals([string]$candidate, $Name, [System.StringComparison]::OrdinalIgnoreCase)) { $entry.Values.Remove($candidate) }
    }
}

function New-TestTaskXml {
    <#
    .SYNOPSIS
        A Task Scheduler XML document with one exec action per @{ Path; Arguments } and the principal.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Actions, [string]$UserId = 'S-1-5-18')
    $document = New-Object -TypeName System.Xml.XmlDocument
    $namespace = 'http://schemas.microsoft.com/windows/2004/02/mit/task'
    $task = $document.AppendChild($document.CreateElement('Task', $namespace))
    $null = $task.SetAttribute('version', '1.2')
    $principal = $task.AppendChild($document.CreateElement('Principals', $namespace)).AppendChild($document.CreateElement('Principal', $namespace))
    $null = $principal.AppendChild($document.CreateElement('UserId', $namespace)).AppendChild($document.CreateTextNode($UserId))
    $list = $task.AppendChild($document.CreateElement('Actions', $namespace))
    foreach ($action in $Actions) {
        $exec = $list.AppendChild($document.CreateElement('Exec', $namespace))
        $null = $exec.AppendChild($document.CreateElement('Command', $namespace)).AppendChild($document.CreateTextNode([string]$action['Path']))
        if (-not [string]::IsNullOrEmpty([string]$action['Arguments'])) {
            $null = $exec.AppendChild($document.CreateElement('Arguments', $namespace)).AppendChild($document.CreateTextNode([string]$action['Arguments']))
        }
    }
    return $document.OuterXml
}

function Set-TestScheduledTask {
    <#
    .SYNOPSIS
        The tasks the scheduled-task mocks see: @{ TaskPath = '\Folder\Name'; Actions = @(@{ Path; Arguments }); UserId; LogonType }.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Tasks)
    $script:Tasks = New-Object -TypeName System.Collections.ArrayList
    foreach ($task in $Tasks) {
        $userId = 'SYSTEM'
        if ($task.ContainsKey('UserId')) { $userId = [string]$task['UserId'] }
        $logonType = 5
        if ($task.ContainsKey('LogonType')) { $logonType = [int]$task['LogonType'] }
        Register-TestScheduledTask -TaskPath ([string]$task['TaskPath']) -Xml (New-TestTaskXml -Actions @($task['Actions']) -UserId $userId) -UserId $userId -LogonType $logonType
    }
}

function Get-TestScheduledTaskDefinition {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardScheduledTaskDefinition mock: a fake task by its full path, or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$TaskPath)
    foreach ($task in $script:Tasks) {
        if ([string]::Equals($task.Path, $TaskPath, [System.StringComparison]::OrdinalIgnoreCase)) { return $task }
    }
    return $null
}

function Register-TestScheduledTask {
    <#
    .SYNOPSIS
        The body of the Register-SpawnGuardScheduledTaskXml mock: a fake task from its XML (exec actions read from it); fails when the path is taken.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$TaskPath, [Parameter(Mandatory = $true)][string]$Xml, [AllowNull()][AllowEmptyString()][string]$UserId, [int]$LogonType = 0)
    if ($null -ne (Get-TestScheduledTaskDefinition -TaskPath $TaskPath)) { throw ('Cannot create a file when that file already exists: ' + $TaskPath) }
    $document = [xml]$Xml
    $actions = New-Object -TypeName System.Collections.ArrayList
    foreach ($exec in @($document.GetElementsByTagName('Exec'))) {
        $arguments = ''
        foreach ($node in @($exec.ChildNodes)) { if ($node.LocalName -eq 'Arguments') { $arguments = [string]$node.InnerText } }
        $command = ''
        foreach ($node in @($exec.ChildNodes)) { if ($node.LocalName -eq 'Command') { $command = [string]$node.InnerText } }
        [void]$actions.Add([pscustomobject]@{ Type = 0; Path = $command; Arguments = $arguments; ClassId = $null })
    }
    $name = $TaskPath.Substring($TaskPath.LastIndexOf('\') + 1)
    [void]$script:Tasks.Add([pscustomobject]@{ Path = $TaskPath; Name = $name; Xml = $Xml; UserId = [string]$UserId; GroupId = ''; LogonType = $LogonType; RunLevel = 0; Actions = $actions.ToArray() })
}

function Unregister-TestScheduledTask {
    <#
    .SYNOPSIS
        The body of the Unregister-SpawnGuardScheduledTask mock.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$TaskPath)
    $task = Get-TestScheduledTaskDefinition -TaskPath $TaskPath
    if ($null -ne $task) { $script:Tasks.Remove($task) }
}

function Set-TestSubscription {
    <#
    .SYNOPSIS
        The root\subscription instances the WMI mocks see: @{ <Class> = @(@{ Name = ...; ... }) }; a
        binding is @{ Filter = '__EventFilter.Name="f"'; Consumer = 'CommandLineEventConsumer.Name="c"' }.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][hashtable]$Instances)
    $script:Subscriptions = @{}
    foreach ($class in $Instances.Keys) {
        foreach ($instance in @($Instances[$class])) { New-TestSubscriptionInstance -ClassName $class -Property $instance }
    }
}

function Get-TestSubscriptionInstance {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardSubscriptionInstance mock: the fake instances of a class.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$ClassName)
    if (-not $script:Subscriptions.ContainsKey($ClassName)) { return , @() }
    return , @($script:Subscriptions[$ClassName].ToArray())
}

function New-TestSubscriptionInstance {
    <#
    .SYNOPSIS
        The body of the New-SpawnGuardSubscriptionInstance mock: a fake instance of a class (fails when the name is taken).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$ClassName, [Parameter(Mandatory = $true)][hashtable]$Property)
    if (-not $script:Subscriptions.ContainsKey($ClassName)) { $script:Subscriptions[$ClassName] = New-Object -TypeName System.Collections.ArrayList }
    $instance = [pscustomobject]$Property
    $instance | Add-Member -MemberType NoteProperty -Name '__CLASS' -Value $ClassName -Force
    [void]$script:Subscriptions[$ClassName].Add($instance)
}

function New-TestSubscriptionBinding {
    <#
    .SYNOPSIS
        The body of the New-SpawnGuardSubscriptionBinding mock: a fake binding with WMI path references.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][object]$Filter, [Parameter(Mandatory = $true)][object]$Consumer)
    New-TestSubscriptionInstance -ClassName '__FilterToConsumerBinding' -Property @{
        Filter   = ('__EventFilter.Name="' + [string]$Filter.Name + '"')
        Consumer = ([string]$Consumer.__CLASS + '.Name="' + [string]$Consumer.Name + '"')
    }
}

function Remove-TestSubscriptionInstance {
    <#
    .SYNOPSIS
        The body of the Remove-SpawnGuardSubscriptionInstance mock.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][object]$Instance)
    $class = [string]$Instance.__CLASS
    if ($script:Subscriptions.ContainsKey($class)) { $script:Subscriptions[$class].Remove($Instance) }
}

# ---------- Authenticode signatures and call counts ----------

$script:Signatures = @{}
$script:DefaultSignature = $null
$script:CallCounts = @{}

function New-TestSignature {
    <#
    .SYNOPSIS
        An object shaped like System.Management.Automation.Signature: Status, SignerCertificate.Subject
        and (unless -NoIsOSBinary, as before Windows PowerShell 5.1) IsOSBinary, plus the
        SignerRootThumbprint that Get-SpawnGuardAuthenticodeSignature adds.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Status, [string]$Subject = '', [switch]$IsOSBinary, [switch]$NoIsOSBinary, [string]$RootThumbprint = '')
    $certificate = $null
    if ($Subject.Length -gt 0) { $certificate = [pscustomobject]@{ Subject = $Subject } }
    # The root of the signer's chain, as the seam adds it: a Microsoft subject chains to Microsoft
    # Root Certificate Authority 2011 unless the test says otherwise (a look-alike certificate).
    $root = $null
    if ($RootThumbprint.Length -gt 0) {
        $root = $RootThumbprint
    } elseif ($Subject -match '^CN=Microsoft (Corporation|Windows)') {
        $root = '8F43288AD272F3103B6FB1428485EA3014C0BCFE'
    }
    $signature = [pscustomobject]@{ Status = $Status; SignerCertificate = $certificate; SignerRootThumbprint = $root }
    if (-not $NoIsOSBinary) { $signature | Add-Member -MemberType NoteProperty -Name 'IsOSBinary' -Value ([bool]$IsOSBinary) }
    return $signature
}

function Set-TestAuthenticodeSignature {
    <#
    .SYNOPSIS
        The signatures the Get-SpawnGuardAuthenticodeSignature mock returns, by Windows path
        (case-insensitive); every other file gets -Default (NotSigned when not given).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Signatures, [psobject]$Default)
    $script:Signatures = @{}
    foreach ($path in $Signatures.Keys) { $script:Signatures[$path.ToLowerInvariant()] = $Signatures[$path] }
    $script:DefaultSignature = $Default
    if ($null -eq $Default) { $script:DefaultSignature = New-TestSignature -Status 'NotSigned' }
}

function Get-TestAuthenticodeSignature {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardAuthenticodeSignature mock; a signature given as the text 'throw' throws (unreadable).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    $signature = $script:DefaultSignature
    if ($script:Signatures.ContainsKey($LiteralPath.ToLowerInvariant())) { $signature = $script:Signatures[$LiteralPath.ToLowerInvariant()] }
    if ($signature -is [string] -and $signature -eq 'throw') { throw (New-Object -TypeName System.IO.IOException -ArgumentList 'The signature could not be read.') }
    return $signature
}

function Reset-TestCallCount {
    <#
    .SYNOPSIS
        Forgets every call count (mock bodies that behave differently on later calls use them).
    #>
    [CmdletBinding()]
    param()
    $script:CallCounts = @{}
}

function Add-TestCallCount {
    <#
    .SYNOPSIS
        Counts one more call under a name and returns the new count (1 for the first call).
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][string]$Name)
    if (-not $script:CallCounts.ContainsKey($Name)) { $script:CallCounts[$Name] = 0 }
    $script:CallCounts[$Name] = $script:CallCounts[$Name] + 1
    return [int]$script:CallCounts[$Name]
}


# ---------- a process table that changes while a test runs ----------

function Add-TestProcess {
    <#
    .SYNOPSIS
        Adds one New-TestProcess record to the fake process table (a process started during the test).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Process)
    $script:Processes = @($script:Processes) + @($Process)
}

function Stop-TestProcess {
    <#
    .SYNOPSIS
        Removes a PID from the fake process table (the body of a stop mock that really "stops").
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][int64]$ProcessId)
    $script:Processes = @($script:Processes | Where-Object -FilterScript { $_.ProcessId -ne $ProcessId })
}

function Test-TestProcessRunning {
    <#
    .SYNOPSIS
        True while a PID is in the fake process table (the body of a Test-SpawnGuardProcessRunning mock).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][int64]$ProcessId)
    return (@($script:Processes | Where-Object -FilterScript { $_.ProcessId -eq $ProcessId }).Length -gt 0)
}

function Stop-TestVerifiedProcess {
    <#
    .SYNOPSIS
        The body of a Stop-SpawnGuardVerifiedProcess mock over the fake process table: 'gone' when
        the PID is not there, 'identity-mismatch' when the module's own decision
        (Test-SpawnGuardInstanceIdentity) says the PID holds another instance, else the process
        leaves the table and the answer is 'done'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][int64]$ProcessId,
        [AllowNull()][AllowEmptyString()][string]$ExpectedImagePath,
        [AllowNull()][object]$ExpectedStartTime
    )
    $found = @($script:Processes | Where-Object -FilterScript { $_.ProcessId -eq $ProcessId })
    if ($found.Length -eq 0) { return 'gone' }
    $same = Test-SpawnGuardInstanceIdentity -ExpectedImagePath $ExpectedImagePath -ExpectedStartTime $ExpectedStartTime -ActualImagePath $found[0].ExecutablePath -ActualStartTime $found[0].CreationDate
    if (-not $same) { return 'identity-mismatch' }
    Stop-TestProcess -ProcessId $ProcessId
    return 'done'
}


# ---------- logon sessions (the WTS API underneath Get-SpawnGuardWtsSession) ----------

$script:WtsSnapshots = New-Object -TypeName System.Collections.ArrayList

function New-TestWtsSession {
    <#
    .SYNOPSIS
        One raw session as Get-SpawnGuardWtsSession reports it (State is the WTS_CONNECTSTATE_CLASS number:
        0 active, 4 disconnected; ProtocolType 2 is RDP, 0 the console).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][int]$SessionId,
        [string]$UserName = '',
        [string]$DomainName = '',
        [int]$State = 0,
        [string]$WinStationName = '',
        [int]$ProtocolType = 2,
        [AllowNull()][string]$ClientAddress = $null
    )
    $station = $WinStationName
    if ($station.Length -eq 0) { $station = 'RDP-Tcp#' + $SessionId }
    $address = $null
    if (-not [string]::IsNullOrEmpty($ClientAddress)) { $address = $ClientAddress }
    return [pscustomobject]@{
        SessionId      = $SessionId
        WinStationName = $station
        State          = $State
        UserName       = $UserName
        DomainName     = $DomainName
        ProtocolType   = $ProtocolType
        ClientAddress  = $address
    }
}

function Set-TestWtsSession {
    <#
    .SYNOPSIS
        The sessions the Get-SpawnGuardWtsSession mock returns from now on (forgets later snapshots).
    #>
    [CmdletBinding()]
    param([int]$ConsoleSessionId = 1, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Sessions)
    $script:WtsSnapshots = New-Object -TypeName System.Collections.ArrayList
    [void]$script:WtsSnapshots.Add([pscustomobject]@{ ConsoleSessionId = $ConsoleSessionId; Sessions = $Sessions })
}

function Add-TestWtsSnapshot {
    <#
    .SYNOPSIS
        What the next enumeration sees (a session ended, or its id was reused, since the previous one).
        Each enumeration consumes one snapshot; the last one stays.
    #>
    [CmdletBinding()]
    param([int]$ConsoleSessionId = 1, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Sessions)
    [void]$script:WtsSnapshots.Add([pscustomobject]@{ ConsoleSessionId = $ConsoleSessionId; Sessions = $Sessions })
}

function Get-TestWtsSession {
    <#
    .SYNOPSIS
        The body of the Get-SpawnGuardWtsSession mock: { ConsoleSessionId, Sessions } of the current snapshot.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    if ($script:WtsSnapshots.Count -eq 0) { throw 'Set-TestWtsSession first.' }
    $snapshot = $script:WtsSnapshots[0]
    if ($script:WtsSnapshots.Count -gt 1) { $script:WtsSnapshots.RemoveAt(0) }
    return $snapshot
}

function Get-TestFileHash {
    <#
    .SYNOPSIS
        The lower-case SHA-256 or SHA-1 of a real file, computed independently of the code under test
        (Get-FileHash is not in Windows PowerShell 3.0).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath, [ValidateSet('SHA256', 'SHA1')][string]$Algorithm = 'SHA256')
    if ($Algorithm -eq 'SHA1') { $hasher = [System.Security.Cryptography.SHA1]::Create() } else { $hasher = [System.Security.Cryptography.SHA256]::Create() }
    try {
        $bytes = $hasher.ComputeHash([System.IO.File]::ReadAllBytes($LiteralPath))
    } finally {
        $hasher.Dispose()
    }
    return ([System.BitConverter]::ToString($bytes)).Replace('-', '').ToLowerInvariant()
}

$script:Values = @{}

function Set-TestValue {
    <#
    .SYNOPSIS
        Stores a value a mock body reads back with Get-TestValue (mock bodies cannot see the test's variables).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Name, [AllowNull()][object]$Value)
    $script:Values[$Name] = $Value
}

function Get-TestValue {
    <#
    .SYNOPSIS
        A value stored with Set-TestValue.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][string]$Name)
    return $script:Values[$Name]
}

# ---------- a machine that stops halfway (crash-point tests) ----------

function Step-TestCrash {
    <#
    .SYNOPSIS
        Counts one file-changing step; from step 'CrashAt' on (Set-TestValue) every step throws, as
        if the machine had stopped there. Steps are counted under 'step' (Reset-TestCallCount).
    #>
    [CmdletBinding()]
    param()
    $count = Add-TestCallCount -Name 'step'
    $crashAt = Get-TestValue -Name 'CrashAt'
    if ($null -ne $crashAt -and [int]$crashAt -gt 0 -and $count -ge [int]$crashAt) {
        throw (New-Object -TypeName System.IO.IOException -ArgumentList ('Simulated stop at step ' + $crashAt + '.'))
    }
}

function Get-TestStepCount {
    <#
    .SYNOPSIS
        How many file-changing steps were counted since Reset-TestCallCount.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param()
    if (-not $script:CallCounts.ContainsKey('step')) { return 0 }
    return [int]$script:CallCounts['step']
}

function Invoke-TestFileStep {
    <#
    .SYNOPSIS
        The body of the crash-point mocks of the seam's file-changing functions: counts the step
        (Step-TestCrash), then does what the real function does on the mapped test paths.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Action, [Parameter(Mandatory = $true)][hashtable]$Bound)
    Step-TestCrash
    switch ($Action) {
        'move' { [System.IO.File]::Move((ConvertTo-TestNativePath -LiteralPath $Bound['Source']), (ConvertTo-TestNativePath -LiteralPath $Bound['Destination'])) }
        'copy' { [System.IO.File]::Copy((ConvertTo-TestNativePath -LiteralPath $Bound['Source']), (ConvertTo-TestNativePath -LiteralPath $Bound['Destination']), $true) }
        'replace' { [System.IO.File]::Replace((ConvertTo-TestNativePath -LiteralPath $Bound['Source']), (ConvertTo-TestNativePath -LiteralPath $Bound['Destination']), [System.Management.Automation.Language.NullString]::Value) }
        'delete' { [System.IO.File]::Delete((ConvertTo-TestNativePath -LiteralPath $Bound['LiteralPath'])) }
        'write' { [System.IO.File]::WriteAllText((ConvertTo-TestNativePath -LiteralPath $Bound['LiteralPath']), $Bound['Text'], (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false)) }
        default { return }
    }
}

function Test-TestFileRecoverable {
    <#
    .SYNOPSIS
        True when a file with this content is at its original path, or in the store under its hash
        with a manifest that names the original path (so a restore can put it back).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][string]$OriginalPath, [Parameter(Mandatory = $true)][string]$Directory, [Parameter(Mandatory = $true)][string]$Hash)
    $original = ConvertTo-TestNativePath -LiteralPath $OriginalPath
    if ([System.IO.File]::Exists($original) -and (Get-TestFileHash -LiteralPath $original) -eq $Hash) { return $true }
    $copy = ConvertTo-TestNativePath -LiteralPath ($Directory.TrimEnd('\') + '\' + $Hash + '.quarantine')
    $manifest = ConvertTo-TestNativePath -LiteralPath ($Directory.TrimEnd('\') + '\' + $Hash + '.json')
    if (-not [System.IO.File]::Exists($copy) -or -not [System.IO.File]::Exists($manifest)) { return $false }
    if ((Get-TestFileHash -LiteralPath $copy) -ne $Hash) { return $false }
    $document = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($manifest))
    foreach ($entry in @($document.entries)) {
        if ([string]$entry.originalPath -eq $OriginalPath) { return $true }
    }
    return $false
}

Export-ModuleMember -Function @(
    'Add-TestProcess', 'Stop-TestProcess', 'Test-TestProcessRunning', 'Stop-TestVerifiedProcess', 'New-TestWtsSession', 'Set-TestWtsSession', 'Add-TestWtsSnapshot', 'Get-TestWtsSession', 'Get-TestFileHash', 'Set-TestValue', 'Get-TestValue',
    'Test-TestWindowsHost', 'ConvertTo-TestRequest', 'New-TestProcess', 'Set-TestProcessTable', 'Get-TestWin32Process', 'ConvertFrom-TestOutput',
    'Set-TestFileSystemRoot', 'ConvertTo-TestNativePath', 'New-TestFile', 'New-TestLink', 'Get-TestSha256',
    'Set-TestRegistry', 'Test-TestRegistryKey', 'Get-TestRegistrySubKeyName', 'Get-TestRegistryValueName', 'Get-TestRegistryValue',
    'New-TestSignature', 'Set-TestAuthenticodeSignature', 'Get-TestAuthenticodeSignature', 'Reset-TestCallCount', 'Add-TestCallCount',
    'Step-TestCrash', 'Get-TestStepCount', 'Invoke-TestFileStep', 'Test-TestFileRecoverable',
    'Get-TestRegistryKindName', 'Get-TestRegistryTypedValue', 'Set-TestRegistryValue', 'Remove-TestRegistryValue',
    'New-TestTaskXml', 'Set-TestScheduledTask', 'Get-TestScheduledTaskDefinition', 'Register-TestScheduledTask', 'Unregister-TestScheduledTask',
    'Set-TestSubscription', 'Get-TestSubscriptionInstance', 'New-TestSubscriptionInstance', 'New-TestSubscriptionBinding', 'Remove-TestSubscriptionInstance'
)
