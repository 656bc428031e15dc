<#
.SYNOPSIS
    Pester 5 tests of RemovePersistenceEntry.ps1 under a fake Windows: the registry (reads and
    writes), scheduled tasks, service start types, WMI subscriptions and shortcuts come from mocked
    seam functions backed by the TestHelpers fakes; the backup store, the quarantine store and the
    Startup folders are real files mapped into a test folder; the script's own logic runs unchanged.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'RemovePersistenceEntry.ps1'

    $script:SavedEnvironment = @{}
    $script:TestEnvironment = @{ SystemRoot = 'C:\Windows'; SystemDrive = 'C:'; ProgramData = 'C:\ProgramData' }
    foreach ($name in $script:TestEnvironment.Keys) {
        $script:SavedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $script:TestEnvironment[$name])
    }

    $script:Evil = 'C:\Users\Public\evil.exe'
    $script:Run = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
    $script:RunLocation = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
    $script:Backups = 'C:\ProgramData\spawnguard\persistence-backup'
    $script:Quarantine = 'C:\ProgramData\spawnguard\quarantine'
    $script:Bob = 'S-1-5-21-100-1001'
    $script:Startup = 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'
    $script:Services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'

    function Invoke-TestRemove {
        <#
        .SYNOPSIS
            Runs the script with a request of these entries (or these parameters); returns its exit code and parsed document.
        #>
        [CmdletBinding()]
        param([object[]]$Entries, [hashtable]$Extra = @{}, [hashtable]$Parameters)
        if ($null -eq $Parameters) {
            $body = @{ incidentId = 'INC-7'; entries = $Entries }
            foreach ($key in $Extra.Keys) { $body[$key] = $Extra[$key] }
            $Parameters = @{ Request = (ConvertTo-TestRequest -Body $body) }
        }
        $output = @(& $script:Script @Parameters)
        $exitCode = $LASTEXITCODE
        return [pscustomobject]@{ ExitCode = $exitCode; Document = (ConvertFrom-TestOutput -Output $output) }
    }

    function Get-TestBackup {
        <#
        .SYNOPSIS
            The backup document at a Windows path of the test machine, parsed.
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][string]$Path)
        return (Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $Path) -Raw | ConvertFrom-Json)
    }

    function New-TestEntry {
        <#
        .SYNOPSIS
            An entry of a request.
        #>
        [CmdletBinding()]
        param([string]$Kind = 'run-key', [string]$Location = $script:RunLocation, [string]$Name = 'Updater', [string]$MatchedPath = $script:Evil)
        return @{ kind = $Kind; location = $Location; name = $Name; matchedPath = $MatchedPath }
    }
}

AfterAll {
    foreach ($name in $script:SavedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $script:SavedEnvironment[$name])
    }
}

Describe 'RemovePersistenceEntry.ps1' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([guid]::NewGuid().ToString('n')))
        Set-TestRegistry -Keys @{}
        Set-TestScheduledTask -Tasks @()
        Set-TestSubscription -Instances @{}
        Set-TestValue -Name 'Pwned' -Value $null
        Set-TestAuthenticodeSignature -Signatures @{}
        # The module's own Windows calls (files are real, mapped into the test folder).
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BU)' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        # The seam functions the script calls itself: mocked in this file's scope, where the script resolves them.
        Mock -CommandName Get-SpawnGuardRegistryValue -MockWith { Get-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Test-SpawnGuardRegistryKey -MockWith { Test-TestRegistryKey -Path $PesterBoundParameters['Path'] }
        Mock -CommandName Get-SpawnGuardRegistryTypedValue -MockWith { Get-TestRegistryTypedValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith { Remove-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Set-SpawnGuardRegistryValue -MockWith { throw 'a removal never writes a registry value' }
        Mock -CommandName Get-SpawnGuardScheduledTaskDefinition -MockWith { Get-TestScheduledTaskDefinition -TaskPath $PesterBoundParameters['TaskPath'] }
        Mock -CommandName Unregister-SpawnGuardScheduledTask -MockWith { Unregister-TestScheduledTask -TaskPath $PesterBoundParameters['TaskPath'] }
        Mock -CommandName Get-SpawnGuardServiceStartType -MockWith {
            $start = Get-TestRegistryValue -Path ('HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $PesterBoundParameters['Name']) -Name 'Start'
            if ($null -eq $start) { return $null }
            return [int]$start
        }
        Mock -CommandName Set-SpawnGuardServiceStartType -MockWith { Set-TestRegistryValue -Path ('HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $PesterBoundParameters['Name']) -Name 'Start' -Value ([int]$PesterBoundParameters['Start']) -Kind 'DWord' }
        Mock -CommandName Get-SpawnGuardSubscriptionInstance -MockWith { Get-TestSubscriptionInstance -ClassName $PesterBoundParameters['ClassName'] }
        Mock -CommandName Remove-SpawnGuardSubscriptionInstance -MockWith { Remove-TestSubscriptionInstance -Instance $PesterBoundParameters['Instance'] }
        Mock -CommandName Get-SpawnGuardShortcut -MockWith { return $null }
        $script:EvilNative = New-TestFile -WindowsPath $script:Evil -Content 'MZ evil'
    }

    Context 'run keys of a logged-off user (a hive that is not loaded)' {
        BeforeEach {
            $script:Carol = 'S-1-5-21-100-2002'
            $script:ProfileList = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            # The module reads ProfileImagePath and loads the hive itself: its seam calls are mocked in its scope.
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardRegistryValue -MockWith { Get-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -MockWith {
                Set-TestValue -Name 'Mounted' -Value $PesterBoundParameters['Name']
                return ('HKEY_USERS\' + $PesterBoundParameters['Name'])
            }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -MockWith { Set-TestValue -Name 'Mounted' -Value $null }
            Set-TestValue -Name 'Mounted' -Value $null
            Set-TestValue -Name 'MountedAtRemoval' -Value $null
            Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith {
                Set-TestValue -Name 'MountedAtRemoval' -Value (Get-TestValue -Name 'Mounted')
                Remove-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name']
            }
        }

        It 'loads the NTUSER.DAT of <Sid> from its ProfileImagePath, deletes the value there, records HKU\<SID> in the backup, and unloads the hive' -ForEach @(
            @{ Sid = 'S-1-5-21-100-2002' },
            @{ Sid = 'S-1-12-1-1111111111-2222222222-3333333333-4444444444' }
        ) {
            $mount = 'HKEY_USERS\SpawnGuard_' + $Sid + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{
                $mount                               = @{ 'Updater' = '%APPDATA%\evil.exe'; 'Teams' = 'C:\Program Files\Teams\Teams.exe' }
                ($script:ProfileList + '\' + $Sid) = @{ 'ProfileImagePath' = '%SystemDrive%\Users\carol' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            $null = New-TestFile -WindowsPath 'C:\Users\carol\AppData\Roaming\evil.exe' -Content 'MZ'
            $location = 'HKU\' + $Sid + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location $location -MatchedPath 'C:\Users\carol\AppData\Roaming\evil.exe')
            $run.ExitCode | Should -Be 0
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $item.location | Should -Be $location
            Get-TestRegistryValue -Path $mount -Name 'Updater' | Should -BeNullOrEmpty
            Get-TestRegistryValue -Path $mount -Name 'Teams' | Should -Be 'C:\Program Files\Teams\Teams.exe'
            Get-TestValue -Name 'MountedAtRemoval' | Should -Be ('SpawnGuard_' + $Sid)
            $backup = Get-TestBackup -Path $item.backup.path
            $backup.location | Should -Be $location
            $backup.data.key | Should -Be ('HKEY_USERS\' + $Sid + '\Software\Microsoft\Windows\CurrentVersion\Run')
            $backup.data.data | Should -Be '%APPDATA%\evil.exe'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq ('SpawnGuard_' + $Sid) -and $PesterBoundParameters['LiteralPath'] -eq 'C:\Users\carol\NTUSER.DAT' }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq ('SpawnGuard_' + $Sid) }
            Get-TestValue -Name 'Mounted' | Should -BeNullOrEmpty
        }

        It 'unloads the hive also when the removal throws (failed, backed up)' {
            $mount = 'HKEY_USERS\SpawnGuard_' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{
                $mount                                       = @{ 'Updater' = $script:Evil }
                ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith { throw 'Access is denied.' }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.Document.results[0].status | Should -Be 'failed'
            $run.Document.results[0].backup | Should -Not -BeNullOrEmpty
            Get-TestRegistryValue -Path $mount -Name 'Updater' | Should -Be $script:Evil
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 1 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly
            Get-TestValue -Name 'Mounted' | Should -BeNullOrEmpty
        }

        It 'unloads the hive when the entry is refused after loading (not-referencing), and says so when the unload fails' {
            $mount = 'HKEY_USERS\SpawnGuard_' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{
                $mount                                       = @{ 'Updater' = 'C:\Program Files\Other\other.exe' }
                ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'not-referencing'
            $run.Document.results[0].message | Should -BeLike ('*HKEY_USERS\SpawnGuard_' + $script:Carol + '*could not be unloaded*')
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'skips the entry (hive-not-loaded), loading and writing nothing, when <Case>' -ForEach @(
            @{ Case = 'the SID has no profile'; ProfilePath = $null; HiveFile = $false; Expect = '*no profile*' },
            @{ Case = 'the profile has no NTUSER.DAT'; ProfilePath = 'C:\Users\carol'; HiveFile = $false; Expect = '*no NTUSER.DAT*' },
            @{ Case = 'the profile path is a UNC share'; ProfilePath = '\\attacker\profiles\carol'; HiveFile = $false; Expect = '*remote*' },
            @{ Case = 'the profile path is WebDAV through \\?\UNC'; ProfilePath = '\\?\UNC\attacker@SSL\DavWWWRoot\carol'; HiveFile = $false; Expect = '*remote*' },
            @{ Case = 'the profile path is not a local drive path'; ProfilePath = 'Users\carol'; HiveFile = $false; Expect = '*not a local drive path*' }
        ) {
            $keys = @{}
            if ($null -ne $ProfilePath) { $keys[($script:ProfileList + '\' + $script:Carol)] = @{ 'ProfileImagePath' = $ProfilePath } }
            Set-TestRegistry -Keys $keys
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            $run.Document.results[0].message | Should -BeLike $Expect
            $run.Document.results[0].backup | Should -BeNullOrEmpty
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 0 -Exactly
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Backups) | Should -BeFalse
        }

        It 'never follows a junction or link above NTUSER.DAT (hive-not-loaded)' {
            Set-TestRegistry -Keys @{ ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' } }
            $null = New-TestFile -WindowsPath 'C:\Elsewhere\NTUSER.DAT' -Content 'regf'
            $null = New-TestLink -WindowsPath 'C:\Users\carol' -TargetWindowsPath 'C:\Elsewhere'
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            $run.Document.results[0].message | Should -BeLike '*junction or link*'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly
        }

        It 'skips the entry (hive-not-loaded) when the hive file cannot be loaded (locked), unloading nothing' {
            Set-TestRegistry -Keys @{ ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' } }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            $run.Document.results[0].message | Should -BeLike '*could not be loaded*being used by another process*'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 0 -Exactly
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Backups) | Should -BeFalse
        }

        It 'uses a loaded hive directly, loading nothing' {
            $key = 'HKEY_USERS\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{
                $key                                         = @{ 'Updater' = $script:Evil }
                ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location ('HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'))
            $run.Document.results[0].status | Should -Be 'done'
            Get-TestRegistryValue -Path $key -Name 'Updater' | Should -BeNullOrEmpty
            (Get-TestBackup -Path $run.Document.results[0].backup.path).data.key | Should -Be $key
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 0 -Exactly
        }
    }

    Context 'run keys' {
        It 'backs the value up (name, type, data), reads the backup back, then deletes the value and reads it again' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = ('"' + $script:Evil + '" /silent'); 'OneDrive' = '"C:\Program Files\OneDrive\OneDrive.exe"' } }
            # The backup must be on disk when the value is deleted.
            Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith {
                $id = Get-SpawnGuardPersistenceBackupId -IncidentId 'INC-7' -Kind 'run-key' -Location 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run' -Name 'Updater'
                Set-TestValue -Name 'BackupAtRemoval' -Value ([System.IO.File]::Exists((ConvertTo-TestNativePath -LiteralPath ('C:\ProgramData\spawnguard\persistence-backup\' + $id + '.json'))))
                Remove-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name']
            }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.ExitCode | Should -Be 0
            $run.Document.ok | Should -BeTrue
            $item = $run.Document.results[0]
            $item.kind | Should -Be 'run-key'
            $item.location | Should -Be $script:RunLocation
            $item.name | Should -Be 'Updater'
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $id = Get-SpawnGuardPersistenceBackupId -IncidentId 'INC-7' -Kind 'run-key' -Location $script:RunLocation -Name 'Updater'
            $item.backup.id | Should -Be $id
            $item.backup.path | Should -Be ($script:Backups + '\' + $id + '.json')
            $item.backup.format | Should -Be 'registry-value'
            Get-TestValue -Name 'BackupAtRemoval' | Should -BeTrue
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -BeNullOrEmpty
            Get-TestRegistryValue -Path $script:Run -Name 'OneDrive' | Should -Not -BeNullOrEmpty
            $backup = Get-TestBackup -Path $item.backup.path
            $backup.id | Should -Be $id
            $backup.incidentId | Should -Be 'INC-7'
            $backup.kind | Should -Be 'run-key'
            $backup.format | Should -Be 'registry-value'
            $backup.matchedPath | Should -Be $script:Evil
            $backup.data.key | Should -Be $script:Run
            $backup.data.valueName | Should -Be 'Updater'
            $backup.data.valueKind | Should -Be 'String'
            $backup.data.data | Should -Be ('"' + $script:Evil + '" /silent')
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $item.backup.path }
        }

        It 'computes the backup id as the SHA-256 of incidentId|kind|location|name lower-cased' {
            $sha = [System.Security.Cryptography.SHA256]::Create()
            $bytes = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes('inc-7|run-key|hklm\software\microsoft\windows\currentversion\run|updater'))
            $expected = ([System.BitConverter]::ToString($bytes)).Replace('-', '').ToLowerInvariant()
            Get-SpawnGuardPersistenceBackupId -IncidentId 'INC-7' -Kind 'run-key' -Location $script:RunLocation -Name 'Updater' | Should -Be $expected
        }

        It 'keeps an ExpandString value''s type and unexpanded data, and matches it with the variables expanded' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = '%PUBLIC%\evil.exe' } }
            Set-TestRegistryValue -Path $script:Run -Name 'Updater' -Value '%PUBLIC%\evil.exe' -Kind 'ExpandString'
            $saved = $env:PUBLIC
            $env:PUBLIC = 'C:\Users\Public'
            try {
                $run = Invoke-TestRemove -Entries @(New-TestEntry)
            } finally {
                $env:PUBLIC = $saved
            }
            $run.Document.results[0].status | Should -Be 'done'
            $backup = Get-TestBackup -Path $run.Document.results[0].backup.path
            $backup.data.valueKind | Should -Be 'ExpandString'
            $backup.data.data | Should -Be '%PUBLIC%\evil.exe'
        }

        It 'removes a value of a loaded user hive, expanding the user''s own %APPDATA%' {
            $key = 'HKEY_USERS\' + $script:Bob + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $appData = 'C:\Users\bob\AppData\Roaming'
            $null = New-TestFile -WindowsPath ($appData + '\evil.exe') -Content 'MZ'
            Set-TestRegistry -Keys @{
                $key                                                                               = @{ 'Updater' = '%APPDATA%\evil.exe' }
                ('HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\' + $script:Bob) = @{ 'ProfileImagePath' = 'C:\Users\bob' }
            }
            $location = 'HKU\' + $script:Bob + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location $location -MatchedPath ($appData + '\evil.exe'))
            $run.Document.results[0].status | Should -Be 'done'
            $run.Document.results[0].location | Should -Be $location
            Get-TestRegistryValue -Path $key -Name 'Updater' | Should -BeNullOrEmpty
        }

        It 'is idempotent: removing again is already done with the same backup, and nothing is deleted twice' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $first = Invoke-TestRemove -Entries @(New-TestEntry)
            $first.Document.results[0].status | Should -Be 'done'
            $again = Invoke-TestRemove -Entries @(New-TestEntry)
            $again.ExitCode | Should -Be 0
            $again.Document.results[0].status | Should -Be 'already-done'
            $again.Document.results[0].verified | Should -BeTrue
            $again.Document.results[0].backup.id | Should -Be $first.Document.results[0].backup.id
            (Get-TestBackup -Path $first.Document.results[0].backup.path).data.data | Should -Be $script:Evil
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 1 -Exactly
        }

        It 'reports an entry that is gone and was never backed up as already done (not-found), writing no backup' {
            Set-TestRegistry -Keys @{ $script:Run = @{} }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'already-done'
            $run.Document.results[0].reason | Should -Be 'not-found'
            $run.Document.results[0].backup | Should -BeNullOrEmpty
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Backups) | Should -BeFalse
        }

        It 'refuses a value that no longer references the file (not-referencing): nothing is backed up or removed' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = '"C:\Program Files\Contoso\updater.exe"' } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'not-referencing'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be '"C:\Program Files\Contoso\updater.exe"'
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Backups) | Should -BeFalse
        }

        It 'refuses when the file is <Case> (<Reason>): the value stays' -ForEach @(
            @{ Case = 'signed by Microsoft'; Reason = 'trusted-signer'; Signature = 'microsoft'; Publishers = @() },
            @{ Case = 'signed by a trusted publisher'; Reason = 'trusted-signer'; Signature = 'contoso'; Publishers = @('Contoso Ltd') },
            @{ Case = 'signed with an unreadable signature'; Reason = 'signature-unknown'; Signature = 'throw'; Publishers = @() }
        ) {
            param($Reason, $Signature, $Publishers)
            $given = $Signature
            if ($Signature -eq 'microsoft') { $given = New-TestSignature -Status 'Valid' -Subject 'CN=Microsoft Corporation, O=Microsoft Corporation, C=US' }
            if ($Signature -eq 'contoso') { $given = New-TestSignature -Status 'Valid' -Subject 'CN=Contoso Ltd, O=Contoso Ltd, C=US' -RootThumbprint 'ABCDEF' }
            Set-TestAuthenticodeSignature -Signatures @{ $script:Evil = $given }
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry) -Extra @{ trustedPublishers = $Publishers }
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be $Reason
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be $script:Evil
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'removes a value whose file is already gone (quarantined): there is no signature to judge' {
            Remove-Item -LiteralPath $script:EvilNative
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.Document.results[0].status | Should -Be 'done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 0 -Exactly
        }

        It 'refuses a location outside the Run keys (<Case>) as unsupported-location, reading and removing nothing' -ForEach @(
            @{ Case = 'Winlogon'; Location = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' },
            @{ Case = 'a parent of Run'; Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion' },
            @{ Case = 'a climb out of Run'; Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\..\..\Policies' },
            @{ Case = 'RunServices'; Location = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunServices' },
            @{ Case = 'HKCU'; Location = 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' },
            @{ Case = 'a hive file loaded by the listing'; Location = 'C:\Users\carol\NTUSER.DAT\Software\Microsoft\Windows\CurrentVersion\Run' },
            @{ Case = 'the classes hive of a user'; Location = 'HKU\S-1-5-21-100-2002_Classes\Software\Microsoft\Windows\CurrentVersion\Run' }
        ) {
            param($Location)
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Location $Location)
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'unsupported-location'
            Should -Invoke -CommandName Get-SpawnGuardRegistryTypedValue -Times 0 -Exactly
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'never opens a remote offending file (remote-path), whatever the entry' -ForEach @(
            @{ Path = '\\attacker\share\evil.exe' },
            @{ Path = '\\?\UNC\attacker\share\evil.exe' },
            @{ Path = '\Device\Mup\attacker\share\evil.exe' }
        ) {
            param($Path)
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $Path } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -MatchedPath $Path)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'remote-path'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -like '*attacker*' }
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be $Path
        }

        It 'takes a hostile value name as data: quotes, $() and ; are never evaluated' {
            $hostile = 'x"; $(Set-TestValue -Name Pwned -Value 1); '' & calc; `$env:ComSpec'
            Set-TestRegistry -Keys @{ $script:Run = @{ $hostile = $script:Evil } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Name $hostile)
            $run.Document.results[0].status | Should -Be 'done'
            $run.Document.results[0].name | Should -Be $hostile
            Get-TestValue -Name 'Pwned' | Should -BeNullOrEmpty
            Get-TestRegistryTypedValue -Path $script:Run -Name $hostile | Should -BeNullOrEmpty
            (Get-TestBackup -Path $run.Document.results[0].backup.path).data.valueName | Should -Be $hostile
        }

        It 'removes nothing when the backup cannot be written (backup-failed)' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Write-SpawnGuardTextFile -MockWith { throw (New-Object -TypeName System.IO.IOException -ArgumentList 'There is not enough space on the disk.') }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.ExitCode | Should -Be 1
            $run.Document.results[0].status | Should -Be 'failed'
            $run.Document.results[0].reason | Should -Be 'backup-failed'
            $run.Document.results[0].message | Should -Match 'not enough space'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be $script:Evil
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'removes nothing when the backup does not read back as written' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Read-SpawnGuardTextFile -MockWith { return '{"id":"something else"}' }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.Document.results[0].reason | Should -Be 'backup-failed'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be $script:Evil
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'refuses a backup store reached through a junction, removing nothing' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath 'C:\Elsewhere')
            $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath 'C:\ProgramData')
            $null = New-TestLink -WindowsPath 'C:\ProgramData\spawnguard' -TargetWindowsPath 'C:\Elsewhere'
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.Document.ok | Should -BeFalse
            $run.Document.errors[0].code | Should -Be 'quarantine-untrusted'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be $script:Evil
        }

        It 'reports the removal failing after the backup as failed, keeping the backup' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access to the registry key is denied.') }
            $run = Invoke-TestRemove -Entries @(New-TestEntry)
            $run.ExitCode | Should -Be 4
            $run.Document.results[0].status | Should -Be 'failed'
            $run.Document.results[0].reason | Should -Be 'access-denied'
            $run.Document.results[0].verified | Should -BeFalse
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $run.Document.results[0].backup.path) | Should -BeTrue
        }
    }

    Context 'scheduled tasks' {
        It 'backs the task up as its XML and principal, then deletes it' {
            Set-TestScheduledTask -Tasks @(@{ TaskPath = '\Contoso\EvilUpdate'; Actions = @(@{ Path = $script:Evil; Arguments = '--update' }); UserId = 'S-1-5-18'; LogonType = 5 })
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'scheduled-task' -Location '\Contoso\EvilUpdate' -Name 'EvilUpdate')
            $run.ExitCode | Should -Be 0
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done'
            $item.backup.format | Should -Be 'task-xml'
            $item.verified | Should -BeTrue
            Get-TestScheduledTaskDefinition -TaskPath '\Contoso\EvilUpdate' | Should -BeNullOrEmpty
            $backup = Get-TestBackup -Path $item.backup.path
            $backup.data.taskPath | Should -Be '\Contoso\EvilUpdate'
            $backup.data.xml | Should -Match '<Command>C:\\Users\\Public\\evil.exe</Command>'
            $backup.data.userId | Should -Be 'S-1-5-18'
            $backup.data.logonType | Should -Be 5
            $backup.data.actions[0].path | Should -Be $script:Evil
        }

        It 'refuses <Case> (unsupported-location)' -ForEach @(
            @{ Case = 'a task seen only in the TaskCache'; Location = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks\{0B1C}'; Name = 'EvilUpdate' },
            @{ Case = 'a location that does not end in the name'; Location = '\Contoso\Other'; Name = 'EvilUpdate' },
            @{ Case = 'a folder climbing up'; Location = '\Contoso\..\EvilUpdate'; Name = 'EvilUpdate' }
        ) {
            param($Location, $Name)
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'scheduled-task' -Location $Location -Name $Name)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'unsupported-location'
            Should -Invoke -CommandName Unregister-SpawnGuardScheduledTask -Times 0 -Exactly
        }

        It 'refuses a task whose actions no longer run the file' {
            Set-TestScheduledTask -Tasks @(@{ TaskPath = '\EvilUpdate'; Actions = @(@{ Path = 'C:\Windows\System32\defrag.exe'; Arguments = '-c' }) })
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'scheduled-task' -Location '\EvilUpdate' -Name 'EvilUpdate')
            $run.Document.results[0].reason | Should -Be 'not-referencing'
            Get-TestScheduledTaskDefinition -TaskPath '\EvilUpdate' | Should -Not -BeNullOrEmpty
        }
    }

    Context 'services' {
        BeforeEach {
            Set-TestRegistry -Keys @{ ($script:Services + '\EvilSvc') = @{ 'ImagePath' = ('"' + $script:Evil + '" -service'); 'Start' = 2; 'ObjectName' = 'LocalSystem' } }
        }

        It 'disables the service (Start = 4) after backing up its start type, and says it did not delete it' {
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'EvilSvc')
            $run.ExitCode | Should -Be 0
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $item.backup.format | Should -Be 'service-start'
            $item.message | Should -Match 'disabled \(Start = 4, was 2\)'
            $item.message | Should -Match 'not deleted'
            Get-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'Start' | Should -Be 4
            Get-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'ImagePath' | Should -Not -BeNullOrEmpty
            (Get-TestBackup -Path $item.backup.path).data.start | Should -Be 2
            Should -Invoke -CommandName Set-SpawnGuardServiceStartType -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'EvilSvc' -and $PesterBoundParameters['Start'] -eq 4 }
        }

        It 'is already done when asked again, and a service disabled by someone else is not backed up' {
            $entry = New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'EvilSvc'
            $null = Invoke-TestRemove -Entries @($entry)
            $again = Invoke-TestRemove -Entries @($entry)
            $again.Document.results[0].status | Should -Be 'already-done'
            $again.Document.results[0].backup | Should -Not -BeNullOrEmpty
            Should -Invoke -CommandName Set-SpawnGuardServiceStartType -Times 1 -Exactly

            Set-TestRegistry -Keys @{ ($script:Services + '\OtherSvc') = @{ 'ImagePath' = $script:Evil; 'Start' = 4 } }
            $other = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\OtherSvc' -Name 'OtherSvc')
            $other.Document.results[0].status | Should -Be 'already-done'
            $other.Document.results[0].reason | Should -Be 'already-disabled'
            $other.Document.results[0].backup | Should -BeNullOrEmpty
        }

        It 'refuses a ServiceDll or FailureCommand entry (unsupported-entry) and another service''s key' {
            $run = Invoke-TestRemove -Entries @(
                (New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc\Parameters' -Name 'EvilSvc (ServiceDll)'),
                (New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'EvilSvc (FailureCommand)'),
                (New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\Spooler' -Name 'EvilSvc')
            )
            @($run.Document.results).reason | Should -Be @('unsupported-entry', 'unsupported-entry', 'unsupported-location')
            Get-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'Start' | Should -Be 2
        }
    }

    Context 'WMI subscriptions' {
        BeforeEach {
            Set-TestSubscription -Instances @{
                'CommandLineEventConsumer'  = @(@{ Name = 'EvilConsumer'; CommandLineTemplate = ($script:Evil + ' --wmi'); ExecutablePath = $null })
                '__EventFilter'             = @(@{ Name = 'EvilFilter'; Query = 'SELECT * FROM __InstanceModificationEvent WITHIN 60' })
                '__FilterToConsumerBinding' = @(@{ Filter = '__EventFilter.Name="EvilFilter"'; Consumer = 'CommandLineEventConsumer.Name="EvilConsumer"' })
            }
        }

        It 'deletes the consumer and its binding, after backing up its properties and the filters it was bound to' {
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'wmi-subscription' -Location 'root\subscription:CommandLineEventConsumer' -Name 'EvilConsumer')
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done' -Because $item.message
            $item.backup.format | Should -Be 'wmi-instance'
            $item.message | Should -Match '1 binding'
            (Get-TestSubscriptionInstance -ClassName 'CommandLineEventConsumer').Length | Should -Be 0
            (Get-TestSubscriptionInstance -ClassName '__FilterToConsumerBinding').Length | Should -Be 0
            (Get-TestSubscriptionInstance -ClassName '__EventFilter').Length | Should -Be 1
            $backup = Get-TestBackup -Path $item.backup.path
            $backup.data.className | Should -Be 'CommandLineEventConsumer'
            $backup.data.properties.CommandLineTemplate | Should -Be ($script:Evil + ' --wmi')
            $backup.data.bindings[0].filterName | Should -Be 'EvilFilter'
        }

        It 'refuses an event filter or a binding alone (unsupported-entry): its consumer is the entry' {
            $run = Invoke-TestRemove -Entries @(
                (New-TestEntry -Kind 'wmi-subscription' -Location 'root\subscription:__EventFilter' -Name 'EvilFilter'),
                (New-TestEntry -Kind 'wmi-subscription' -Location 'root\subscription:__FilterToConsumerBinding' -Name 'EvilFilter -> CommandLineEventConsumer EvilConsumer'),
                (New-TestEntry -Kind 'wmi-subscription' -Location 'root\cimv2:Win32_Process' -Name 'x')
            )
            @($run.Document.results).reason | Should -Be @('unsupported-entry', 'unsupported-entry', 'unsupported-location')
            Should -Invoke -CommandName Remove-SpawnGuardSubscriptionInstance -Times 0 -Exactly
        }
    }

    Context 'startup folders' {
        It 'moves the shortcut into the quarantine store (manifest with the incident) after backing up its hash and path' {
            $link = $script:Startup + '\updater.lnk'
            $linkNative = New-TestFile -WindowsPath $link -Content 'shortcut bytes'
            Mock -CommandName Get-SpawnGuardShortcut -MockWith { [pscustomobject]@{ TargetPath = 'C:\Users\Public\evil.exe'; Arguments = '--hidden' } }
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'startup-folder' -Location $script:Startup -Name 'updater.lnk')
            $run.ExitCode | Should -Be 0
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $item.backup.format | Should -Be 'quarantined-file'
            Test-Path -LiteralPath $linkNative | Should -BeFalse
            $hash = Get-TestSha256 -Content 'shortcut bytes'
            $backup = Get-TestBackup -Path $item.backup.path
            $backup.data.originalPath | Should -Be $link
            $backup.data.sha256 | Should -Be $hash
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $hash + '.json')) -Raw | ConvertFrom-Json
            $manifest.entries[0].originalPath | Should -Be $link
            $manifest.entries[0].incidentId | Should -Be 'INC-7'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $hash + '.quarantine')) | Should -BeTrue

            $again = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'startup-folder' -Location $script:Startup -Name 'updater.lnk')
            $again.Document.results[0].status | Should -Be 'already-done'
        }

        It 'refuses <Case>' -ForEach @(
            @{ Case = 'a folder that is not a Startup folder'; Location = 'C:\Users\Public'; Name = 'evil.exe'; Reason = 'unsupported-location' },
            @{ Case = 'a Startup folder written with ..'; Location = 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\..\..\..\..\..\..\..\Public'; Name = 'evil.exe'; Reason = 'unsupported-location' },
            @{ Case = 'a name with a folder in it'; Location = 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp'; Name = '..\evil.exe'; Reason = 'unsupported-location' },
            @{ Case = 'a remote Startup folder'; Location = '\\fileserver\profiles\bob\Start Menu\Programs\Startup'; Name = 'evil.exe'; Reason = 'remote-path' }
        ) {
            param($Location, $Name, $Reason)
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'startup-folder' -Location $Location -Name $Name)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be $Reason
            Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        }

        It 'never moves a file through a junction planted in the Startup folder''s path' {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\evil.exe' -Content 'MZ'
            $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs')
            $null = New-TestLink -WindowsPath $script:Startup -TargetWindowsPath 'C:\Windows\System32'
            $run = Invoke-TestRemove -Entries @(New-TestEntry -Kind 'startup-folder' -Location $script:Startup -Name 'evil.exe' -MatchedPath ($script:Startup + '\evil.exe'))
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'reparse-point'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Windows\System32\evil.exe') | Should -BeTrue
        }
    }

    Context 'requests' {
        It 'refuses a kind that is not removable (unsupported-kind) and takes the others in the same request' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $run = Invoke-TestRemove -Entries @((New-TestEntry -Kind 'winlogon' -Location 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' -Name 'Userinit'), (New-TestEntry))
            $run.ExitCode | Should -Be 0
            @($run.Document.results).status | Should -Be @('skipped', 'done')
            $run.Document.results[0].reason | Should -Be 'unsupported-kind'
        }

        It 'takes one entry from the analyst parameters' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $run = Invoke-TestRemove -Parameters @{ IncidentId = 'INC-7'; Kind = 'run-key'; Location = $script:RunLocation; Name = 'Updater'; MatchedPath = $script:Evil }
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'done'
        }

        It 'refuses <Case> with exit code 2, doing nothing' -ForEach @(
            @{ Case = 'a kind that is not a persistence kind'; Parameters = @{ IncidentId = 'INC-7'; Kind = 'evil'; Location = 'x'; Name = 'y'; MatchedPath = 'C:\a.exe' } },
            @{ Case = 'no incident'; Parameters = @{ Kind = 'run-key'; Location = 'x'; Name = 'y'; MatchedPath = 'C:\a.exe' } },
            @{ Case = 'both -Request and -Kind'; Parameters = @{ Kind = 'run-key'; Request = 'e30=' } },
            @{ Case = 'a backup folder on a share'; Parameters = @{ IncidentId = 'INC-7'; Kind = 'run-key'; Location = 'x'; Name = 'y'; MatchedPath = 'C:\a.exe'; BackupDirectory = '\\server\share\backups' } }
        ) {
            param($Parameters)
            $run = Invoke-TestRemove -Parameters $Parameters
            $run.ExitCode | Should -Be 2
            $run.Document.errors[0].code | Should -Be 'invalid-request'
            Should -Invoke -CommandName Remove-SpawnGuardRegistryValue -Times 0 -Exactly
        }
    }
}
