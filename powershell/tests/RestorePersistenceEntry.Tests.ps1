<#
.SYNOPSIS
    Pester 5 tests of RestorePersistenceEntry.ps1 under the same fake Windows as
    RemovePersistenceEntry.Tests.ps1: entries are removed with RemovePersistenceEntry.ps1 and put
    back with this script (round trips), and backups written by hand stand for tampered ones. Only
    the seam is mocked; the backup and quarantine stores are real files in a test folder.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Remove = Join-Path -Path $script:Root -ChildPath 'RemovePersistenceEntry.ps1'
    $script:Script = Join-Path -Path $script:Root -ChildPath 'RestorePersistenceEntry.ps1'

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
    $script:Startup = 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp'
    $script:Services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'
    $script:Sddl = 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)'

    function Invoke-TestRemoval {
        <#
        .SYNOPSIS
            Removes entries with RemovePersistenceEntry.ps1 (incident INC-7); returns the backup ids.
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][object[]]$Entries)
        $document = ConvertFrom-TestOutput -Output @(& $script:Remove -Request (ConvertTo-TestRequest -Body @{ incidentId = 'INC-7'; entries = $Entries }))
        foreach ($item in @($document.results)) {
            if (@('done', 'already-done') -notcontains $item.status) { throw ('The removal did not happen: ' + $item.reason + ': ' + $item.message) }
        }
        return , @(@($document.results) | ForEach-Object -Process { $_.backup.id })
    }

    function Invoke-TestRestore {
        <#
        .SYNOPSIS
            Runs the script for these backup ids (or with these parameters); returns its exit code and parsed document.
        #>
        [CmdletBinding()]
        param([string[]]$BackupIds, [string]$IncidentId = 'INC-7', [hashtable]$Parameters)
        if ($null -eq $Parameters) { $Parameters = @{ Request = (ConvertTo-TestRequest -Body @{ incidentId = $IncidentId; backupIds = $BackupIds }) } }
        $output = @(& $script:Script @Parameters)
        $exitCode = $LASTEXITCODE
        return [pscustomobject]@{ ExitCode = $exitCode; Document = (ConvertFrom-TestOutput -Output $output) }
    }

    function Write-TestBackup {
        <#
        .SYNOPSIS
            Writes a backup document by hand (as an attacker with write access to the store could);
            the id is computed from what the document says unless one is given. Returns the id.
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][hashtable]$Entry, [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Data, [string]$Id = '', [string]$IncidentId = 'INC-7')
        if ($Id.Length -eq 0) { $Id = Get-SpawnGuardPersistenceBackupId -IncidentId $IncidentId -Kind $Entry['kind'] -Location $Entry['location'] -Name $Entry['name'] }
        $document = New-SpawnGuardPersistenceBackup -Id $Id -IncidentId $IncidentId -Entry ([pscustomobject]$Entry) -Data $Data
        $null = New-TestFile -WindowsPath ($script:Backups + '\' + $Id + '.json') -Content (ConvertTo-Json -InputObject $document -Depth 10)
        return $Id
    }

    function New-TestEntry {
        <#
        .SYNOPSIS
            An entry of a removal request.
        #>
        [CmdletBinding()]
        param([string]$Kind = 'run-key', [string]$Location = $script:RunLocation, [string]$Name = 'Updater', [string]$MatchedPath = $script:Evil)
        return @{ kind = $Kind; location = $Location; name = $Name; matchedPath = $MatchedPath }
    }

    function Test-TestBackupFile {
        <#
        .SYNOPSIS
            Whether <id>.json (or <id>.restored.json with -Restored) is in the backup store.
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][string]$Id, [switch]$Restored)
        $suffix = '.json'
        if ($Restored) { $suffix = '.restored.json' }
        return (Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Backups + '\' + $Id + $suffix)))
    }
}

AfterAll {
    foreach ($name in $script:SavedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $script:SavedEnvironment[$name])
    }
}

Describe 'RestorePersistenceEntry.ps1' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([guid]::NewGuid().ToString('n')))
        Set-TestRegistry -Keys @{}
        Set-TestScheduledTask -Tasks @()
        Set-TestSubscription -Instances @{}
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -CommandName Get-SpawnGuardRegistryValue -MockWith { Get-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Test-SpawnGuardRegistryKey -MockWith { Test-TestRegistryKey -Path $PesterBoundParameters['Path'] }
        Mock -CommandName Get-SpawnGuardRegistryTypedValue -MockWith { Get-TestRegistryTypedValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Remove-SpawnGuardRegistryValue -MockWith { Remove-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Set-SpawnGuardRegistryValue -MockWith { Set-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] -Value $PesterBoundParameters['Value'] -Kind $PesterBoundParameters['Kind'] }
        Mock -CommandName Get-SpawnGuardScheduledTaskDefinition -MockWith { Get-TestScheduledTaskDefinition -TaskPath $PesterBoundParameters['TaskPath'] }
        Mock -CommandName Unregister-SpawnGuardScheduledTask -MockWith { Unregister-TestScheduledTask -TaskPath $PesterBoundParameters['TaskPath'] }
        Mock -CommandName Register-SpawnGuardScheduledTaskXml -MockWith { Register-TestScheduledTask -TaskPath $PesterBoundParameters['TaskPath'] -Xml $PesterBoundParameters['Xml'] -UserId $PesterBoundParameters['UserId'] -LogonType $PesterBoundParameters['LogonType'] }
        Mock -CommandName Get-SpawnGuardServiceStartType -MockWith {
            $start = Get-TestRegistryValue -Path ('HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $PesterBoundParameters['Name']) -Name 'Start'
            if ($null -eq $start) { return $null }
            return [int]$start
        }
        Mock -CommandName Set-SpawnGuardServiceStartType -MockWith { Set-TestRegistryValue -Path ('HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\' + $PesterBoundParameters['Name']) -Name 'Start' -Value ([int]$PesterBoundParameters['Start']) -Kind 'DWord' }
        Mock -CommandName Get-SpawnGuardSubscriptionInstance -MockWith { Get-TestSubscriptionInstance -ClassName $PesterBoundParameters['ClassName'] }
        Mock -CommandName Remove-SpawnGuardSubscriptionInstance -MockWith { Remove-TestSubscriptionInstance -Instance $PesterBoundParameters['Instance'] }
        Mock -CommandName New-SpawnGuardSubscriptionInstance -MockWith { New-TestSubscriptionInstance -ClassName $PesterBoundParameters['ClassName'] -Property $PesterBoundParameters['Property'] }
        Mock -CommandName New-SpawnGuardSubscriptionBinding -MockWith { New-TestSubscriptionBinding -Filter $PesterBoundParameters['Filter'] -Consumer $PesterBoundParameters['Consumer'] }
        Mock -CommandName Get-SpawnGuardShortcut -MockWith { return $null }
        $null = New-TestFile -WindowsPath $script:Evil -Content 'MZ evil'
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
            Set-TestValue -Name 'MountedAtWrite' -Value $null
            Mock -CommandName Set-SpawnGuardRegistryValue -MockWith {
                Set-TestValue -Name 'MountedAtWrite' -Value (Get-TestValue -Name 'Mounted')
                Set-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] -Value $PesterBoundParameters['Value'] -Kind $PesterBoundParameters['Kind']
            }
        }

        It 'removes and restores a value of <Sid> while the user stays logged off, loading and unloading the hive each time' -ForEach @(
            @{ Sid = 'S-1-5-21-100-2002' },
            @{ Sid = 'S-1-12-1-1111111111-2222222222-3333333333-4444444444' }
        ) {
            $mount = 'HKEY_USERS\SpawnGuard_' + $Sid + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{
                $mount                               = @{ 'Updater' = $script:Evil }
                ($script:ProfileList + '\' + $Sid) = @{ 'ProfileImagePath' = 'C:\Users\carol' }
            }
            Set-TestRegistryValue -Path $mount -Name 'Updater' -Value $script:Evil -Kind 'ExpandString'
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            $location = 'HKU\' + $Sid + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Location $location)
            Get-TestRegistryTypedValue -Path $mount -Name 'Updater' | Should -BeNullOrEmpty

            $run = Invoke-TestRestore -BackupIds $ids
            $run.ExitCode | Should -Be 0
            $item = $run.Document.results[0]
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $item.location | Should -Be $location
            $value = Get-TestRegistryTypedValue -Path $mount -Name 'Updater'
            $value.Kind | Should -Be 'ExpandString'
            $value.Data | Should -Be $script:Evil
            Get-TestValue -Name 'MountedAtWrite' | Should -Be ('SpawnGuard_' + $Sid)
            Test-TestBackupFile -Id $ids[0] -Restored | Should -BeTrue
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 2 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq ('SpawnGuard_' + $Sid) -and $PesterBoundParameters['LiteralPath'] -eq 'C:\Users\carol\NTUSER.DAT' }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 2 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq ('SpawnGuard_' + $Sid) }
            Get-TestValue -Name 'Mounted' | Should -BeNullOrEmpty
        }

        It 'restores into the loaded hive once the user has logged on again, loading nothing' {
            $key = 'HKEY_USERS\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $location = 'HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{ $key = @{ 'Other' = 'x' } }
            $id = Write-TestBackup -Entry (New-TestEntry -Location $location) -Data (New-SpawnGuardRegistryValueRecord -Key $key -ValueName 'Updater' -Kind 'String' -Data $script:Evil)
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'done'
            Get-TestRegistryValue -Path $key -Name 'Updater' | Should -Be $script:Evil
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly
        }

        It 'unloads the hive also when writing the value back throws (failed; the backup is kept)' {
            $key = 'HKEY_USERS\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $location = 'HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{ ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' } }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            $id = Write-TestBackup -Entry (New-TestEntry -Location $location) -Data (New-SpawnGuardRegistryValueRecord -Key $key -ValueName 'Updater' -Kind 'String' -Data $script:Evil)
            Mock -CommandName Set-SpawnGuardRegistryValue -MockWith { throw 'Access is denied.' }
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'failed'
            Test-TestBackupFile -Id $id | Should -BeTrue
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 1 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly
            Get-TestValue -Name 'Mounted' | Should -BeNullOrEmpty
        }

        It 'skips the backup (hive-not-loaded), loading and writing nothing, when <Case>' -ForEach @(
            @{ Case = 'the SID has no profile'; ProfilePath = $null; Expect = '*no profile*' },
            @{ Case = 'the profile path is remote'; ProfilePath = '\\attacker\profiles\carol'; Expect = '*remote*' },
            @{ Case = 'the profile has no NTUSER.DAT'; ProfilePath = 'C:\Users\nobody'; Expect = '*no NTUSER.DAT*' }
        ) {
            $key = 'HKEY_USERS\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $location = 'HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $keys = @{}
            if ($null -ne $ProfilePath) { $keys[($script:ProfileList + '\' + $script:Carol)] = @{ 'ProfileImagePath' = $ProfilePath } }
            Set-TestRegistry -Keys $keys
            $id = Write-TestBackup -Entry (New-TestEntry -Location $location) -Data (New-SpawnGuardRegistryValueRecord -Key $key -ValueName 'Updater' -Kind 'String' -Data $script:Evil)
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            $run.Document.results[0].message | Should -BeLike $Expect
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
            Test-TestBackupFile -Id $id | Should -BeTrue
        }

        It 'skips the backup (hive-not-loaded) when the hive file is locked' {
            $key = 'HKEY_USERS\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            $location = 'HKU\' + $script:Carol + '\Software\Microsoft\Windows\CurrentVersion\Run'
            Set-TestRegistry -Keys @{ ($script:ProfileList + '\' + $script:Carol) = @{ 'ProfileImagePath' = 'C:\Users\carol' } }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT' -Content 'regf'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
            $id = Write-TestBackup -Entry (New-TestEntry -Location $location) -Data (New-SpawnGuardRegistryValueRecord -Key $key -ValueName 'Updater' -Kind 'String' -Data $script:Evil)
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Dismount-SpawnGuardUserHive -Times 0 -Exactly
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
        }
    }

    Context 'round trips: removed, then put back' {
        It 'a run key: the value comes back with its type and data, the backup is kept as restored, and again is already done' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = ('"' + $script:Evil + '" /silent') } }
            Set-TestRegistryValue -Path $script:Run -Name 'Updater' -Value ('"' + $script:Evil + '" /silent') -Kind 'ExpandString'
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            Get-TestRegistryTypedValue -Path $script:Run -Name 'Updater' | Should -BeNullOrEmpty

            $run = Invoke-TestRestore -BackupIds $ids
            $run.ExitCode | Should -Be 0
            $run.Document.ok | Should -BeTrue
            $item = $run.Document.results[0]
            $item.backupId | Should -Be $ids[0]
            $item.kind | Should -Be 'run-key'
            $item.location | Should -Be $script:RunLocation
            $item.name | Should -Be 'Updater'
            $item.status | Should -Be 'done'
            $item.verified | Should -BeTrue
            $item.backup.format | Should -Be 'registry-value'
            $item.backup.path | Should -Be ($script:Backups + '\' + $ids[0] + '.restored.json')
            $value = Get-TestRegistryTypedValue -Path $script:Run -Name 'Updater'
            $value.Kind | Should -Be 'ExpandString'
            $value.Data | Should -Be ('"' + $script:Evil + '" /silent')
            Test-TestBackupFile -Id $ids[0] | Should -BeFalse
            Test-TestBackupFile -Id $ids[0] -Restored | Should -BeTrue

            $again = Invoke-TestRestore -BackupIds $ids
            $again.ExitCode | Should -Be 0
            $again.Document.results[0].status | Should -Be 'already-done'
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 1 -Exactly
        }

        It 'a startup file: copied back from quarantine with its recorded ACL, the quarantined copy retired' {
            $file = $script:Startup + '\updater.bat'
            $native = New-TestFile -WindowsPath $file -Content ('@start "" "' + $script:Evil + '"')
            $hash = Get-TestSha256 -Content ('@start "" "' + $script:Evil + '"')
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind 'startup-folder' -Location $script:Startup -Name 'updater.bat' -MatchedPath $file)
            Test-Path -LiteralPath $native | Should -BeFalse

            $run = Invoke-TestRestore -BackupIds $ids
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'done'
            $run.Document.results[0].verified | Should -BeTrue
            $run.Document.results[0].message | Should -Match 'original ACL was put back'
            Get-TestFileHash -LiteralPath $native | Should -Be $hash
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -Times 1 -Exactly -ParameterFilter {
                $PesterBoundParameters['LiteralPath'] -eq 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\updater.bat' -and $PesterBoundParameters['Sddl'] -eq 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)'
            }
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $hash + '.quarantine')) | Should -BeFalse
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $hash + '.json')) | Should -BeFalse
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $hash + '.restored.json')) | Should -BeTrue
            Test-TestBackupFile -Id $ids[0] -Restored | Should -BeTrue

            (Invoke-TestRestore -BackupIds $ids).Document.results[0].status | Should -Be 'already-done'
        }

        It 'a scheduled task: registered again from its XML with its principal' {
            Set-TestScheduledTask -Tasks @(@{ TaskPath = '\Contoso\EvilUpdate'; Actions = @(@{ Path = $script:Evil; Arguments = '--update' }); UserId = 'S-1-5-18'; LogonType = 5 })
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind 'scheduled-task' -Location '\Contoso\EvilUpdate' -Name 'EvilUpdate')
            $run = Invoke-TestRestore -BackupIds $ids
            $run.Document.results[0].status | Should -Be 'done' -Because $run.Document.results[0].message
            $run.Document.results[0].verified | Should -BeTrue
            (Get-TestScheduledTaskDefinition -TaskPath '\Contoso\EvilUpdate').Actions[0].Arguments | Should -Be '--update'
            Should -Invoke -CommandName Register-SpawnGuardScheduledTaskXml -Times 1 -Exactly -ParameterFilter {
                $PesterBoundParameters['TaskPath'] -eq '\Contoso\EvilUpdate' -and $PesterBoundParameters['UserId'] -eq 'S-1-5-18' -and $PesterBoundParameters['LogonType'] -eq 5 -and $PesterBoundParameters['Xml'] -match 'evil\.exe'
            }
        }

        It 'a service: its start type set back to what it was' {
            Set-TestRegistry -Keys @{ ($script:Services + '\EvilSvc') = @{ 'ImagePath' = $script:Evil; 'Start' = 2 } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind 'service' -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'EvilSvc')
            Get-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'Start' | Should -Be 4
            $run = Invoke-TestRestore -BackupIds $ids
            $run.Document.results[0].status | Should -Be 'done'
            Get-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'Start' | Should -Be 2
        }

        It 'a WMI consumer: created again with its properties and bound again to its filter' {
            Set-TestSubscription -Instances @{
                'CommandLineEventConsumer'  = @(@{ Name = 'EvilConsumer'; CommandLineTemplate = ($script:Evil + ' --wmi'); KillTimeout = 30 })
                '__EventFilter'             = @(@{ Name = 'EvilFilter'; Query = 'SELECT * FROM __InstanceModificationEvent WITHIN 60' })
                '__FilterToConsumerBinding' = @(@{ Filter = '__EventFilter.Name="EvilFilter"'; Consumer = 'CommandLineEventConsumer.Name="EvilConsumer"' })
            }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind 'wmi-subscription' -Location 'root\subscription:CommandLineEventConsumer' -Name 'EvilConsumer')
            (Get-TestSubscriptionInstance -ClassName '__FilterToConsumerBinding').Length | Should -Be 0
            $run = Invoke-TestRestore -BackupIds $ids
            $run.Document.results[0].status | Should -Be 'done' -Because $run.Document.results[0].message
            $run.Document.results[0].message | Should -Match 'bindings were restored'
            $consumer = (Get-TestSubscriptionInstance -ClassName 'CommandLineEventConsumer')[0]
            $consumer.CommandLineTemplate | Should -Be ($script:Evil + ' --wmi')
            $consumer.KillTimeout | Should -BeOfType [uint32]
            (Get-TestSubscriptionInstance -ClassName '__FilterToConsumerBinding')[0].Consumer | Should -Be 'CommandLineEventConsumer.Name="EvilConsumer"'
        }

        It 'several entries in one request, each with its own result' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil; 'Helper' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @((New-TestEntry), (New-TestEntry -Name 'Helper'))
            $run = Invoke-TestRestore -BackupIds $ids
            @($run.Document.results).backupId | Should -Be $ids
            @($run.Document.results).status | Should -Be @('done', 'done')
        }
    }

    Context 'values of every registry type' {
        It 'writes back a <Kind> value as it was' -ForEach @(
            @{ Kind = 'MultiString'; Value = [string[]]@('C:\Users\Public\evil.exe', 'second') },
            @{ Kind = 'Binary'; Value = [byte[]]@(0, 1, 2, 255) },
            @{ Kind = 'DWord'; Value = [int]-1 },
            @{ Kind = 'QWord'; Value = [long]1099511627776 }
        ) {
            param($Kind, $Value)
            $entry = New-TestEntry
            $id = Write-TestBackup -Entry $entry -Data (New-SpawnGuardRegistryValueRecord -Key $script:Run -ValueName 'Updater' -Kind $Kind -Data $Value)
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'done'
            $run.Document.results[0].verified | Should -BeTrue
            $written = Get-TestRegistryTypedValue -Path $script:Run -Name 'Updater'
            $written.Kind | Should -Be $Kind
            Test-SpawnGuardRegistryDataEqual -Left $written.Data -Right $Value | Should -BeTrue
            , $written.Data | Should -BeOfType $Value.GetType()
        }
    }

    Context 'a place taken meanwhile' {
        It 'leaves a value of that name with other data alone (target-exists), keeping the backup' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            Set-TestRegistryValue -Path $script:Run -Name 'Updater' -Value 'C:\Program Files\Contoso\updater.exe' -Kind 'String'
            $run = Invoke-TestRestore -BackupIds $ids
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'target-exists'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -Be 'C:\Program Files\Contoso\updater.exe'
            Test-TestBackupFile -Id $ids[0] | Should -BeTrue
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'counts a value put back by hand exactly as it was as already done, and keeps the backup as restored' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            Set-TestRegistryValue -Path $script:Run -Name 'Updater' -Value $script:Evil -Kind 'String'
            $run = Invoke-TestRestore -BackupIds $ids
            $run.Document.results[0].status | Should -Be 'already-done'
            Test-TestBackupFile -Id $ids[0] -Restored | Should -BeTrue
        }

        It 'leaves <Case> alone (target-exists)' -ForEach @(
            @{ Case = 'a task with other actions at the path'; Kind = 'scheduled-task' },
            @{ Case = 'another file at the startup path'; Kind = 'startup-folder' },
            @{ Case = 'a service whose start type was changed since'; Kind = 'service' },
            @{ Case = 'another consumer of that name'; Kind = 'wmi-subscription' }
        ) {
            param($Kind)
            switch ($Kind) {
                'scheduled-task' {
                    Set-TestScheduledTask -Tasks @(@{ TaskPath = '\EvilUpdate'; Actions = @(@{ Path = $script:Evil }) })
                    $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind $Kind -Location '\EvilUpdate' -Name 'EvilUpdate')
                    Set-TestScheduledTask -Tasks @(@{ TaskPath = '\EvilUpdate'; Actions = @(@{ Path = 'C:\Windows\System32\defrag.exe' }) })
                }
                'startup-folder' {
                    $null = New-TestFile -WindowsPath ($script:Startup + '\evil.exe') -Content 'MZ evil'
                    $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind $Kind -Location $script:Startup -Name 'evil.exe' -MatchedPath ($script:Startup + '\evil.exe'))
                    $null = New-TestFile -WindowsPath ($script:Startup + '\evil.exe') -Content 'a different file'
                }
                'service' {
                    Set-TestRegistry -Keys @{ ($script:Services + '\EvilSvc') = @{ 'ImagePath' = $script:Evil; 'Start' = 2 } }
                    $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind $Kind -Location 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc' -Name 'EvilSvc')
                    Set-TestRegistryValue -Path ($script:Services + '\EvilSvc') -Name 'Start' -Value 3 -Kind 'DWord'
                }
                'wmi-subscription' {
                    Set-TestSubscription -Instances @{ 'CommandLineEventConsumer' = @(@{ Name = 'EvilConsumer'; CommandLineTemplate = $script:Evil }) }
                    $ids = Invoke-TestRemoval -Entries @(New-TestEntry -Kind $Kind -Location 'root\subscription:CommandLineEventConsumer' -Name 'EvilConsumer')
                    Set-TestSubscription -Instances @{ 'CommandLineEventConsumer' = @(@{ Name = 'EvilConsumer'; CommandLineTemplate = 'C:\Tools\other.exe' }) }
                }
            }
            $run = Invoke-TestRestore -BackupIds $ids
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'target-exists'
            Test-TestBackupFile -Id $ids[0] | Should -BeTrue
            Should -Invoke -CommandName Register-SpawnGuardScheduledTaskXml -Times 0 -Exactly
            Should -Invoke -CommandName New-SpawnGuardSubscriptionInstance -Times 0 -Exactly
            Should -Invoke -CommandName Set-SpawnGuardServiceStartType -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['Start'] -ne 4 }
        }
    }

    Context 'backups are read, never trusted' {
        It 'refuses a backup that names a key other than a Run key (its id recomputed to match), writing nothing' {
            $entry = New-TestEntry -Location 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' -Name 'Userinit'
            $id = Write-TestBackup -Entry $entry -Data (New-SpawnGuardRegistryValueRecord -Key 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' -ValueName 'Userinit' -Kind 'String' -Data 'C:\Users\Public\evil.exe')
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.ExitCode | Should -Be 0
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'invalid-backup'
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
            Test-TestBackupFile -Id $id | Should -BeTrue
        }

        It 'waits for a user hive that is not loaded (hive-not-loaded), writing nothing' {
            $location = 'HKU\S-1-5-21-100-2002\Software\Microsoft\Windows\CurrentVersion\Run'
            $key = 'HKEY_USERS\S-1-5-21-100-2002\Software\Microsoft\Windows\CurrentVersion\Run'
            $id = Write-TestBackup -Entry (New-TestEntry -Location $location) -Data (New-SpawnGuardRegistryValueRecord -Key $key -ValueName 'Updater' -Kind 'String' -Data $script:Evil)
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'hive-not-loaded'
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
            Test-TestBackupFile -Id $id | Should -BeTrue
        }

        It 'refuses a Run key backup whose data names another key than its location' {
            $id = Write-TestBackup -Entry (New-TestEntry) -Data (New-SpawnGuardRegistryValueRecord -Key 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon' -ValueName 'Updater' -Kind 'String' -Data 'x')
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].reason | Should -Be 'invalid-backup'
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'refuses a startup backup naming <Case>, opening nothing there' -ForEach @(
            @{ Case = 'a remote folder'; Location = '\\attacker\share\Start Menu\Programs\Startup' },
            @{ Case = 'a folder that is not a Startup folder'; Location = 'C:\Windows\System32' },
            @{ Case = 'a Startup folder written with ..'; Location = 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\..\..\..\..\..\Windows\System32' }
        ) {
            param($Location)
            $entry = New-TestEntry -Kind 'startup-folder' -Location $Location -Name 'evil.exe'
            $data = [ordered]@{ originalPath = ($Location + '\evil.exe'); sha256 = ('a' * 64); quarantineDirectory = $script:Quarantine; quarantinePath = ($script:Quarantine + '\' + ('a' * 64) + '.quarantine') }
            $id = Write-TestBackup -Entry $entry -Data $data
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'invalid-backup'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -like '*evil.exe' -or $PesterBoundParameters['LiteralPath'] -like '*attacker*' }
        }

        It 'refuses a startup backup whose original path is not its location and name' {
            $entry = New-TestEntry -Kind 'startup-folder' -Location $script:Startup -Name 'evil.exe'
            $data = [ordered]@{ originalPath = 'C:\Windows\System32\evil.exe'; sha256 = ('a' * 64) }
            $id = Write-TestBackup -Entry $entry -Data $data
            (Invoke-TestRestore -BackupIds @($id)).Document.results[0].reason | Should -Be 'invalid-backup'
        }

        It 'refuses a backup whose id is not the hash of what it says (edited after it was written)' {
            $entry = New-TestEntry
            $id = Get-SpawnGuardPersistenceBackupId -IncidentId 'INC-7' -Kind 'run-key' -Location $script:RunLocation -Name 'Helper'
            $null = Write-TestBackup -Entry $entry -Data (New-SpawnGuardRegistryValueRecord -Key $script:Run -ValueName 'Updater' -Kind 'String' -Data 'x') -Id $id
            $run = Invoke-TestRestore -BackupIds @($id)
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'invalid-backup'
            Should -Invoke -CommandName Set-SpawnGuardRegistryValue -Times 0 -Exactly
        }

        It 'refuses a backup of another incident (incident-mismatch)' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            $run = Invoke-TestRestore -BackupIds $ids -IncidentId 'INC-8'
            $run.Document.results[0].status | Should -Be 'skipped'
            $run.Document.results[0].reason | Should -Be 'incident-mismatch'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -BeNullOrEmpty
        }

        It 'reports a backup that is not JSON as an error, and restores the others' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            $broken = 'b' * 64
            $null = New-TestFile -WindowsPath ($script:Backups + '\' + $broken + '.json') -Content '{ not json'
            $run = Invoke-TestRestore -BackupIds @($broken, $ids[0])
            $run.ExitCode | Should -Be 1
            $run.Document.errors[0].code | Should -Be 'invalid-backup'
            @($run.Document.results).Length | Should -Be 1
            $run.Document.results[0].status | Should -Be 'done'
        }

        It 'refuses a request naming a backup that does not exist (exit code 2), restoring nothing' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @(New-TestEntry)
            $run = Invoke-TestRestore -BackupIds @($ids[0], ('c' * 64))
            $run.ExitCode | Should -Be 2
            $run.Document.errors[0].code | Should -Be 'invalid-request'
            Get-TestRegistryValue -Path $script:Run -Name 'Updater' | Should -BeNullOrEmpty
        }

        It 'refuses <Case> with exit code 2' -ForEach @(
            @{ Case = 'an id that is not 64 hex digits'; Parameters = @{ IncidentId = 'INC-7'; BackupIds = @('abc') } },
            @{ Case = 'no incident'; Parameters = @{ BackupIds = @(('a' * 64)) } },
            @{ Case = 'both -Request and -BackupIds'; Parameters = @{ BackupIds = @(('a' * 64)); Request = 'e30=' } }
        ) {
            param($Parameters)
            $run = Invoke-TestRestore -Parameters $Parameters
            $run.ExitCode | Should -Be 2
            $run.Document.errors[0].code | Should -Be 'invalid-request'
        }

        It 'takes comma-separated ids from the analyst parameters, upper case too' {
            Set-TestRegistry -Keys @{ $script:Run = @{ 'Updater' = $script:Evil; 'Helper' = $script:Evil } }
            $ids = Invoke-TestRemoval -Entries @((New-TestEntry), (New-TestEntry -Name 'Helper'))
            $run = Invoke-TestRestore -Parameters @{ IncidentId = 'INC-7'; BackupIds = @(($ids[0].ToUpperInvariant() + ',' + $ids[1])) }
            $run.ExitCode | Should -Be 0
            @($run.Document.results).status | Should -Be @('done', 'done')
        }
    }
}
