<#
.SYNOPSIS
    Pester 5 tests of the module's persistence concern (SpawnGuard.Safety/Persistence.ps1): where each
    removable kind may be removed from and put back, reference matching, registry values as a
    backup holds them, the backup documents and their validation. Pure logic: nothing is mocked but
    the one ACL read of Test-SpawnGuardRestoredAcl.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:SavedSystemRoot = $env:SystemRoot
    $script:SavedProgramData = $env:ProgramData
    $env:SystemRoot = 'C:\Windows'
    $env:ProgramData = 'C:\ProgramData'
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
    $env:ProgramData = $script:SavedProgramData
}

Describe 'Where each kind may be removed from' {
    It 'takes the run-key location <Location> as <Key>' -ForEach @(
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'; Sid = $null },
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce'; Sid = $null },
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run'; Sid = $null },
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx\0001\Depend'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx\0001\Depend'; Sid = $null },
        @{ Location = 'HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run'; Sid = $null },
        @{ Location = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'; Key = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'; Sid = $null },
        @{ Location = 'HKU\S-1-5-21-100-1001\Software\Microsoft\Windows\CurrentVersion\Run'; Key = 'HKEY_USERS\S-1-5-21-100-1001\Software\Microsoft\Windows\CurrentVersion\Run'; Sid = 'S-1-5-21-100-1001' },
        @{ Location = 'HKU\S-1-12-1-1111111111-2222222222-3333333333-4444444444\Software\Microsoft\Windows\CurrentVersion\Run'; Key = 'HKEY_USERS\S-1-12-1-1111111111-2222222222-3333333333-4444444444\Software\Microsoft\Windows\CurrentVersion\Run'; Sid = 'S-1-12-1-1111111111-2222222222-3333333333-4444444444' }
    ) {
        param($Location, $Key, $Sid)
        $found = ConvertTo-SpawnGuardRunKeyPath -Location $Location
        $found.Key | Should -Be $Key
        $found.Sid | Should -Be $Sid
    }

    It 'refuses the run-key location <Location>' -ForEach @(
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' },
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\..\..\Policies' },
        @{ Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx\0001\Depend\x' },
        @{ Location = 'HKLM\SYSTEM\CurrentControlSet\Services\Evil' },
        @{ Location = 'HKU\.DEFAULT\Software\Microsoft\Windows\CurrentVersion\Run' },
        @{ Location = 'HKU\S-1-5-21-100-1001_Classes\Software\Microsoft\Windows\CurrentVersion\Run' },
        @{ Location = 'HKU\S-1-5-21-100-1001\Software\Wow6432Node\Microsoft\Windows\CurrentVersion\Run' },
        @{ Location = 'C:\Users\carol\NTUSER.DAT\Software\Microsoft\Windows\CurrentVersion\Run' },
        @{ Location = '' }
    ) {
        param($Location)
        ConvertTo-SpawnGuardRunKeyPath -Location $Location | Should -BeNullOrEmpty
    }

    It 'takes a task path that ends in its name, and nothing else' {
        ConvertTo-SpawnGuardTaskPath -Location '\EvilUpdate' -Name 'EvilUpdate' | Should -Be '\EvilUpdate'
        ConvertTo-SpawnGuardTaskPath -Location '\Microsoft\Windows\Evil\EvilUpdate' -Name 'evilupdate' | Should -Be '\Microsoft\Windows\Evil\EvilUpdate'
        foreach ($refused in @(
                @('EvilUpdate', 'EvilUpdate'), @('\Other', 'EvilUpdate'), @('\a\..\EvilUpdate', 'EvilUpdate'),
                @('\\EvilUpdate', 'EvilUpdate'), @('\a\EvilUpdate', 'a\EvilUpdate'), @('\.', '.'),
                @('HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks\{1}', '{1}')
            )) {
            ConvertTo-SpawnGuardTaskPath -Location $refused[0] -Name $refused[1] | Should -BeNullOrEmpty -Because ($refused -join ' ')
        }
    }

    It 'takes a service key whose last part is the service''s name' {
        (ConvertTo-SpawnGuardServiceKey -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'evilsvc').ServiceName | Should -Be 'EvilSvc'
        ConvertTo-SpawnGuardServiceKey -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc\Parameters' -Name 'EvilSvc' | Should -BeNullOrEmpty
        ConvertTo-SpawnGuardServiceKey -Location 'HKLM\SYSTEM\CurrentControlSet\Services\Spooler' -Name 'EvilSvc' | Should -BeNullOrEmpty
        ConvertTo-SpawnGuardServiceKey -Location 'HKLM\SYSTEM\ControlSet002\Services\EvilSvc' -Name 'EvilSvc' | Should -BeNullOrEmpty
    }

    It 'knows the root\subscription classes, and which of them are consumers removed here' {
        ConvertTo-SpawnGuardSubscriptionClass -Location 'root\subscription:commandlineeventconsumer' | Should -Be 'CommandLineEventConsumer'
        ConvertTo-SpawnGuardSubscriptionClass -Location 'root\subscription:__EventFilter' | Should -Be '__EventFilter'
        ConvertTo-SpawnGuardSubscriptionClass -Location 'root\cimv2:Win32_Process' | Should -BeNullOrEmpty
        $properties = Get-SpawnGuardSubscriptionProperty -ClassName 'ActiveScriptEventConsumer'
        $properties | Should -Contain 'ScriptText'
        Get-SpawnGuardSubscriptionProperty -ClassName '__EventFilter' | Should -BeNullOrEmpty
    }

    It 'takes <Path> as a startup folder: <Expected>' -ForEach @(
        @{ Path = 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp'; Expected = $true },
        @{ Path = 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'; Expected = $true },
        @{ Path = 'D:\Profiles\bob\Start Menu\Programs\Startup\'; Expected = $true },
        @{ Path = 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs'; Expected = $false },
        @{ Path = 'C:\Users\Public\Start Menu\Programs\Startup\..\..\..'; Expected = $false },
        @{ Path = 'C:\Users\x\Start Menu\Programs\Startup.'; Expected = $false },
        @{ Path = 'C:\PROGRA~3\Microsoft\Windows\Start Menu\Programs\StartUp'; Expected = $false },
        @{ Path = '\\server\share\Start Menu\Programs\Startup'; Expected = $false },
        @{ Path = '\\?\C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp'; Expected = $false },
        @{ Path = 'Start Menu\Programs\Startup'; Expected = $false }
    ) {
        param($Path, $Expected)
        Test-SpawnGuardStartupFolder -Path $Path | Should -Be $Expected
    }

    It 'takes only a plain file name as a startup file' {
        Test-SpawnGuardPlainFileName -Name 'updater.lnk' | Should -BeTrue
        foreach ($name in @('', '.', '..', 'a\b.exe', 'a/b.exe', 'evil.exe:ads', 'evil.exe.', 'evil.exe ', 'e*.exe', ('a' + [char]7 + '.exe'))) {
            Test-SpawnGuardPlainFileName -Name $name | Should -BeFalse -Because $name
        }
    }
}

Describe 'Whether an entry still references the file' {
    It 'matches a command naming the file, variables and NT prefixes expanded, case-insensitively' {
        Test-SpawnGuardCommandReference -CommandLine '"C:\USERS\PUBLIC\EVIL.EXE" /silent' -MatchedPath 'C:\Users\Public\evil.exe' | Should -BeTrue
        Test-SpawnGuardCommandReference -CommandLine '\SystemRoot\Temp\evil.exe' -MatchedPath 'C:\Windows\Temp\evil.exe' | Should -BeTrue
        Test-SpawnGuardCommandReference -CommandLine '\??\C:\Users\Public\evil.exe' -MatchedPath 'C:\Users\Public\evil.exe' | Should -BeTrue
        Test-SpawnGuardCommandReference -CommandLine '%APPDATA%\evil.exe' -MatchedPath 'C:\Users\bob\AppData\Roaming\evil.exe' -Environment @{ APPDATA = 'C:\Users\bob\AppData\Roaming' } | Should -BeTrue
        Test-SpawnGuardCommandReference -CommandLine '"C:\Program Files\Contoso\agent.exe"' -MatchedPath 'C:\Users\Public\evil.exe' | Should -BeFalse
        Test-SpawnGuardCommandReference -CommandLine '' -MatchedPath 'C:\Users\Public\evil.exe' | Should -BeFalse
    }

    It 'reads a WMI reference as a CIM instance or as a path' {
        $fromPath = ConvertFrom-SpawnGuardWmiReference -Reference 'CommandLineEventConsumer.Name="Evil \"One\""'
        $fromPath.Class | Should -Be 'CommandLineEventConsumer'
        $fromPath.Name | Should -Be 'Evil "One"'
        $fromObject = ConvertFrom-SpawnGuardWmiReference -Reference ([pscustomobject]@{ __CLASS = '__EventFilter'; Name = 'F' })
        $fromObject.Class | Should -Be '__EventFilter'
        (ConvertFrom-SpawnGuardWmiReference -Reference $null).Name | Should -Be ''
    }
}

Describe 'Registry values as a backup holds them' {
    It 'keeps a <Kind> value whole through JSON and back' -ForEach @(
        @{ Kind = 'String'; Value = '"C:\Users\Public\evil.exe" /silent' },
        @{ Kind = 'ExpandString'; Value = '%PUBLIC%\evil.exe' },
        @{ Kind = 'MultiString'; Value = [string[]]@('one') },
        @{ Kind = 'DWord'; Value = [int]-2 },
        @{ Kind = 'QWord'; Value = [long]5000000000 },
        @{ Kind = 'Binary'; Value = [byte[]]@(77, 90, 0) }
    ) {
        param($Kind, $Value)
        $record = New-SpawnGuardRegistryValueRecord -Key 'HKEY_LOCAL_MACHINE\X' -ValueName 'V' -Kind $Kind -Data $Value
        $read = ConvertFrom-SpawnGuardJson -Text (ConvertTo-Json -InputObject $record -Depth 5)
        $restored = ConvertFrom-SpawnGuardRegistryValueRecord -Kind $read.valueKind -Data $read.data
        $restored.Kind | Should -Be $Kind
        , $restored.Value | Should -BeOfType $Value.GetType()
        Test-SpawnGuardRegistryDataEqual -Left $restored.Value -Right $Value | Should -BeTrue
    }

    It 'refuses a type it could not write back as it was (unsupported-value-kind)' {
        { New-SpawnGuardRegistryValueRecord -Key 'HKEY_LOCAL_MACHINE\X' -ValueName 'V' -Kind 'None' -Data $null } | Should -Throw -ExpectedMessage '*not backed up*'
    }

    It 'refuses data that does not fit its type (invalid-backup)' -ForEach @(
        @{ Kind = 'DWord'; Data = 'twelve' },
        @{ Kind = 'MultiString'; Data = @(1, 2) },
        @{ Kind = 'Binary'; Data = 'not base64!' },
        @{ Kind = 'String'; Data = 12 },
        @{ Kind = 'Link'; Data = 'x' }
    ) {
        param($Kind, $Data)
        $thrown = $null
        try { $null = ConvertFrom-SpawnGuardRegistryValueRecord -Kind $Kind -Data $Data } catch { $thrown = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $thrown | Should -Be 'invalid-backup'
    }

    It 'compares data exactly' {
        Test-SpawnGuardRegistryDataEqual -Left 'a' -Right 'A' | Should -BeFalse
        Test-SpawnGuardRegistryDataEqual -Left ([string[]]@('a', 'b')) -Right ([string[]]@('a', 'b')) | Should -BeTrue
        Test-SpawnGuardRegistryDataEqual -Left ([string[]]@('a')) -Right 'a' | Should -BeFalse
        Test-SpawnGuardRegistryDataEqual -Left ([byte[]]@(1, 2)) -Right ([byte[]]@(1, 3)) | Should -BeFalse
        Test-SpawnGuardRegistryDataEqual -Left $null -Right $null | Should -BeTrue
    }

    It 'gives a consumer''s numeric properties back as UInt32 and refuses other types' {
        ConvertTo-SpawnGuardSubscriptionValue -Property 'KillTimeout' -Value ([long]30) | Should -BeOfType [uint32]
        ConvertTo-SpawnGuardSubscriptionValue -Property 'RunInteractively' -Value $true | Should -BeTrue
        { ConvertTo-SpawnGuardSubscriptionValue -Property 'KillTimeout' -Value -1 } | Should -Throw
        { ConvertTo-SpawnGuardSubscriptionValue -Property 'CommandLineTemplate' -Value @('a') } | Should -Throw
    }
}

Describe 'Backup documents' {
    BeforeEach {
        $script:Entry = [pscustomobject]@{ kind = 'run-key'; location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'; name = 'Updater'; matchedPath = 'C:\Users\Public\evil.exe' }
        $script:Id = Get-SpawnGuardPersistenceBackupId -IncidentId 'INC-7' -Kind 'run-key' -Location $script:Entry.location -Name 'Updater'
        $document = New-SpawnGuardPersistenceBackup -Id $script:Id -IncidentId 'INC-7' -Entry $script:Entry -Data ([ordered]@{ key = 'k' })
        $script:Json = ConvertTo-Json -InputObject $document -Depth 8
    }

    It 'accepts a backup of ours, with its format' {
        $backup = ConvertFrom-SpawnGuardJson -Text $script:Json
        $backup.format | Should -Be 'registry-value'
        { Assert-SpawnGuardPersistenceBackup -Backup $backup -Id $script:Id } | Should -Not -Throw
    }

    It 'refuses a backup whose <Field> was changed (invalid-backup)' -ForEach @(
        @{ Field = 'location'; Value = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' },
        @{ Field = 'kind'; Value = 'winlogon' },
        @{ Field = 'format'; Value = 'task-xml' },
        @{ Field = 'incidentId'; Value = 'INC-8' },
        @{ Field = 'version'; Value = 2 },
        @{ Field = 'data'; Value = $null }
    ) {
        param($Field, $Value)
        $backup = ConvertFrom-SpawnGuardJson -Text $script:Json
        $backup.$Field = $Value
        $thrown = $null
        try { Assert-SpawnGuardPersistenceBackup -Backup $backup -Id $script:Id } catch { $thrown = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $thrown | Should -Be 'invalid-backup'
    }

    It 'refuses a backup read under another id' {
        $backup = ConvertFrom-SpawnGuardJson -Text $script:Json
        { Assert-SpawnGuardPersistenceBackup -Backup $backup -Id ('0' * 64) } | Should -Throw -ExpectedMessage '*(id)*'
    }

    It 'keeps backups in %ProgramData%\spawnguard\persistence-backup unless told a local folder' {
        Get-SpawnGuardBackupDirectory -BackupDirectory $null | Should -Be 'C:\ProgramData\spawnguard\persistence-backup'
        Get-SpawnGuardBackupDirectory -BackupDirectory 'D:\Backups\' | Should -Be 'D:\Backups'
        foreach ($refused in @('\\server\share', 'D:\a\..\b', 'C:\Windows\System32\backups', 'relative')) {
            { Get-SpawnGuardBackupDirectory -BackupDirectory $refused } | Should -Throw -Because $refused
        }
    }
}

Describe 'Errors and ACLs read back' {
    It 'tells a Task Scheduler "not found" from other COM failures' {
        $missing = New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.Runtime.InteropServices.COMException -ArgumentList 'The system cannot find the file specified.', -2147024894), 'x', ([System.Management.Automation.ErrorCategory]::ObjectNotFound), $null
        $denied = New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.Runtime.InteropServices.COMException -ArgumentList 'Access is denied.', -2147024891), 'x', ([System.Management.Automation.ErrorCategory]::PermissionDenied), $null
        Test-SpawnGuardMissingObjectError -ErrorRecord $missing | Should -BeTrue
        Test-SpawnGuardMissingObjectError -ErrorRecord $denied | Should -BeFalse
    }

    It 'says whether the ACL read back is the recorded one, and nothing when none was recorded' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)' }
        Test-SpawnGuardRestoredAcl -LiteralPath 'C:\x.exe' -Sddl 'D:(A;;FA;;;BA)' | Should -BeTrue
        Test-SpawnGuardRestoredAcl -LiteralPath 'C:\x.exe' -Sddl 'D:(A;;FA;;;SY)' | Should -BeFalse
        Test-SpawnGuardRestoredAcl -LiteralPath 'C:\x.exe' -Sddl '' | Should -Be $null
    }
}
