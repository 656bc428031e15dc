<#
.SYNOPSIS
    Pester 5 tests of process snapshots, parent chains, descendants, the worker's own chain,
    protection reasons and the PID-reuse identity check (SpawnGuard.Safety/Processes.ps1).
    Only the seam read of Win32_Process is mocked, with a fake process table.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:SavedSystemRoot = $env:SystemRoot
    $env:SystemRoot = 'C:\Windows'
    $script:T0 = Get-Date -Date '2024-05-01T08:00:00Z'

    function ConvertTo-Snapshot {
        <#
        .SYNOPSIS
            A snapshot of records built from New-TestProcess records, as Get-SpawnGuardProcessSnapshot would return it.
        #>
        [CmdletBinding()]
        param([object[]]$Processes)
        return , @($Processes | ForEach-Object -Process { ConvertTo-SpawnGuardProcessRecord -Process $_ })
    }
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
}

Describe 'Process records and snapshots' {
    BeforeEach {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
    }

    It 'turns a WMI instance with a DMTF creation date into a record with a UTC DateTime' {
        $wmi = [pscustomobject]@{ ProcessId = 42; ParentProcessId = 7; Name = 'evil.exe'; ExecutablePath = 'C:\Users\Public\evil.exe'; CommandLine = 'evil.exe -x'; CreationDate = '20240501120000.000000+060'; SessionId = 2 }
        $record = ConvertTo-SpawnGuardProcessRecord -Process $wmi
        $record.ProcessId | Should -Be 42
        $record.ParentProcessId | Should -Be 7
        $record.CommandLine | Should -Be 'evil.exe -x'
        $record.SessionId | Should -Be 2
        $record.CreationDate | Should -Be (New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 11, 0, 0, ([System.DateTimeKind]::Utc))
    }

    It 'leaves the creation date empty when WMI could not read it' {
        $noDate = [pscustomobject]@{ ProcessId = 4; ParentProcessId = 0; Name = 'System'; ExecutablePath = $null; CommandLine = $null; CreationDate = ''; SessionId = 0 }
        (ConvertTo-SpawnGuardProcessRecord -Process $noDate).CreationDate | Should -BeNullOrEmpty
        $nullDate = [pscustomobject]@{ ProcessId = 0; ParentProcessId = 0; Name = 'Idle'; ExecutablePath = $null; CommandLine = $null; CreationDate = $null; SessionId = 0 }
        (ConvertTo-SpawnGuardProcessRecord -Process $nullDate).CreationDate | Should -BeNullOrEmpty
    }

    It 'reads every process into a snapshot, and one live PID or $null when it is gone' {
        Set-TestProcessTable -Processes @(
            (New-TestProcess -ProcessId 100 -Name 'a.exe' -Path 'C:\a.exe'),
            (New-TestProcess -ProcessId 200 -Name 'b.exe' -Path 'C:\b.exe')
        )
        $snapshot = Get-SpawnGuardProcessSnapshot
        $snapshot.Length | Should -Be 2
        (Get-SpawnGuardLiveProcess -ProcessId 200).ExecutablePath | Should -Be 'C:\b.exe'
        Get-SpawnGuardLiveProcess -ProcessId 300 | Should -BeNullOrEmpty
    }

    It 'finds every process running an image, compared case-insensitively and without the \\?\ prefix' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 100 -Name 'evil.exe' -Path 'C:\Users\Public\EVIL.exe'),
            (New-TestProcess -ProcessId 101 -Name 'evil.exe' -Path 'c:\users\public\evil.exe'),
            (New-TestProcess -ProcessId 102 -Name 'evil.exe' -Path 'C:\Temp\evil.exe')
        )
        $found = Find-SpawnGuardProcessByPath -Snapshot $snapshot -Path '\\?\C:\Users\Public\evil.exe'
        @($found | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(100, 101)
        $none = Find-SpawnGuardProcessByPath -Snapshot $snapshot -Path 'C:\nothing.exe'
        , $none | Should -BeOfType [System.Array]
        $none.Length | Should -Be 0
    }
}

Describe 'Parent chains and descendants' {
    It 'walks the parent chain nearest first' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 10 -ParentProcessId 1 -Name 'explorer.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 20 -ParentProcessId 10 -Name 'winword.exe' -Created $script:T0.AddMinutes(1)),
            (New-TestProcess -ProcessId 30 -ParentProcessId 20 -Name 'cmd.exe' -Created $script:T0.AddMinutes(2))
        )
        $chain = Get-SpawnGuardParentChain -Snapshot $snapshot -ProcessId 30
        @($chain | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(20, 10)
    }

    It 'stops at a parent PID that was reused by a process started after the child' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 10 -ParentProcessId 1 -Name 'node.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 20 -ParentProcessId 10 -Name 'notepad.exe' -Created $script:T0.AddHours(2)),
            (New-TestProcess -ProcessId 30 -ParentProcessId 20 -Name 'evil.exe' -Created $script:T0.AddHours(1))
        )
        (Get-SpawnGuardParentChain -Snapshot $snapshot -ProcessId 30).Length | Should -Be 0
    }

    It 'stops at a self-parented process and at a loop' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 10 -ParentProcessId 10 -Name 'odd.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 20 -ParentProcessId 30 -Name 'a.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 30 -ParentProcessId 20 -Name 'b.exe' -Created $script:T0)
        )
        (Get-SpawnGuardParentChain -Snapshot $snapshot -ProcessId 10).Length | Should -Be 0
        @((Get-SpawnGuardParentChain -Snapshot $snapshot -ProcessId 20) | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(30)
    }

    It 'finds descendants breadth first and skips an orphan whose parent PID was reused' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 100 -ParentProcessId 1 -Name 'evil.exe' -Created $script:T0.AddMinutes(10)),
            (New-TestProcess -ProcessId 110 -ParentProcessId 100 -Name 'cmd.exe' -Created $script:T0.AddMinutes(11)),
            (New-TestProcess -ProcessId 120 -ParentProcessId 100 -Name 'conhost.exe' -Created $script:T0.AddMinutes(11)),
            (New-TestProcess -ProcessId 111 -ParentProcessId 110 -Name 'whoami.exe' -Created $script:T0.AddMinutes(12)),
            (New-TestProcess -ProcessId 130 -ParentProcessId 100 -Name 'orphan.exe' -Created $script:T0)
        )
        $descendants = Get-SpawnGuardDescendant -Snapshot $snapshot -ProcessId 100
        @($descendants | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(110, 120, 111)
    }

    It 'finds no descendants of a PID that is not in the snapshot' {
        $none = Get-SpawnGuardDescendant -Snapshot @() -ProcessId 100
        , $none | Should -BeOfType [System.Array]
        $none.Length | Should -Be 0
    }
}

Describe 'The worker and its parent chain' {
    It 'lists this PowerShell process and its ancestors as never valid targets' {
        $snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 800 -ParentProcessId 1 -Name 'nssm.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 900 -ParentProcessId 800 -Name 'node.exe' -Created $script:T0.AddMinutes(1)),
            (New-TestProcess -ProcessId $PID -ParentProcessId 900 -Name 'powershell.exe' -Created $script:T0.AddMinutes(2)),
            (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Created $script:T0)
        )
        $ids = Get-SpawnGuardWorkerProcessId -Snapshot $snapshot
        $ids | Should -Be @([int64]$PID, 900, 800)
        $workers = Get-SpawnGuardWorkerProcess -Snapshot $snapshot
        @($workers | ForEach-Object -Process { $_.ProcessId }) | Should -Be @([int64]$PID, 900, 800)
    }

    It 'still protects its own PID when this process is missing from the snapshot' {
        $ids = Get-SpawnGuardWorkerProcessId -Snapshot @()
        $ids | Should -Be @([int64]$PID)
        (Get-SpawnGuardWorkerProcess -Snapshot @()).Length | Should -Be 0
    }
}

Describe 'Protection reasons' {
    BeforeAll {
        $script:Snapshot = ConvertTo-Snapshot -Processes @(
            (New-TestProcess -ProcessId 4 -ParentProcessId 0 -Name 'System'),
            (New-TestProcess -ProcessId 600 -ParentProcessId 500 -Name 'wininit.exe' -Path 'C:\Windows\System32\wininit.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 700 -ParentProcessId 600 -Name 'services.exe' -Path 'C:\Windows\System32\services.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 800 -ParentProcessId 700 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'WINWORD.EXE' -Path 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE' -Created $script:T0),
            (New-TestProcess -ProcessId 901 -ParentProcessId 900 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' -Created $script:T0.AddMinutes(5)),
            (New-TestProcess -ProcessId 902 -ParentProcessId 700 -Name 'svchost.exe' -Path 'C:\Users\Public\svchost.exe' -Created $script:T0.AddMinutes(5)),
            (New-TestProcess -ProcessId 950 -ParentProcessId 1 -Name 'services.exe' -Path 'C:\Users\Public\services.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 951 -ParentProcessId 950 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' -Created $script:T0.AddMinutes(5)),
            (New-TestProcess -ProcessId 952 -ParentProcessId 9999 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 2100 -ParentProcessId 2000 -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe' -Created $script:T0),
            (New-TestProcess -ProcessId 2200 -ParentProcessId 2100 -Name 'explorer.exe' -Path 'C:\Users\Public\explorer.exe' -Created $script:T0.AddMinutes(1)),
            (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:T0)
        )
        function Get-Reason {
            <#
            .SYNOPSIS
                The protection reason of one PID of the snapshot above.
            #>
            [CmdletBinding()]
            param([int64]$ProcessId, [int64[]]$Workers = @())
            $process = Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId $ProcessId
            return (Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $Workers -Snapshot $script:Snapshot)
        }
    }

    It 'treats only a service-hosted svchost.exe as a shared host' {
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 800) -Snapshot $script:Snapshot | Should -BeTrue
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 901) -Snapshot $script:Snapshot | Should -BeFalse
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 902) -Snapshot $script:Snapshot | Should -BeFalse
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 951) -Snapshot $script:Snapshot | Should -BeFalse
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 952) -Snapshot $script:Snapshot | Should -BeFalse
        Test-SpawnGuardServiceHostedSvchost -Process (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321) -Snapshot $script:Snapshot | Should -BeFalse
    }

    It 'gives the reason a process must not be stopped' {
        Get-Reason -ProcessId 4 | Should -Be 'protected-pid'
        Get-Reason -ProcessId 4321 -Workers @(4321) | Should -Be 'worker-process'
        Get-Reason -ProcessId 700 | Should -Be 'protected-process'
        Get-Reason -ProcessId 800 | Should -Be 'shared-host'
        Get-Reason -ProcessId 2100 | Should -Be 'shared-host'
    }

    It 'lets a hollowed svchost.exe, an impostor explorer.exe, a fake services.exe and evil.exe be stopped' {
        Get-Reason -ProcessId 901 | Should -BeNullOrEmpty
        Get-Reason -ProcessId 2200 | Should -BeNullOrEmpty
        Get-Reason -ProcessId 950 | Should -BeNullOrEmpty
        Get-Reason -ProcessId 4321 | Should -BeNullOrEmpty
    }
}

Describe 'The identity check (PID reuse guard)' {
    BeforeAll {
        $script:Started = Get-Date -Date '2024-05-01T10:00:00Z'
        $script:Record = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:Started)
    }

    It 'accepts the same image started at the same time, within the rounding tolerance' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'c:\users\public\EVIL.exe' -ExpectedStartTime '2024-05-01T10:00:00.500Z' | Should -BeNullOrEmpty
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath '\\?\C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T10:00:02Z' | Should -BeNullOrEmpty
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T12:00:01+02:00' | Should -BeNullOrEmpty
    }

    It 'never accepts a target without an image path: a PID, even with its start time, is not an identity' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath $null -ExpectedStartTime $null | Should -Be 'identity-unverified'
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath '' -ExpectedStartTime '2024-05-01T10:00:00Z' | Should -Be 'identity-unverified'
    }

    It 'accepts a parent that started before its child (within the tolerance) and reports a younger process as reused' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartedBefore '2024-05-01T10:05:00Z' | Should -BeNullOrEmpty
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartedBefore '2024-05-01T09:59:59Z' | Should -BeNullOrEmpty
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartedBefore '2024-05-01T09:59:00Z' | Should -Be 'pid-reused'
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T10:00:00Z' -ExpectedStartedBefore '2024-05-01T09:00:00Z' | Should -Be 'pid-reused'
        $noTime = ConvertTo-SpawnGuardProcessRecord -Process ([pscustomobject]@{ ProcessId = 42; ParentProcessId = 1; Name = 'evil.exe'; ExecutablePath = 'C:\Users\Public\evil.exe'; CommandLine = ''; CreationDate = $null; SessionId = 1 })
        Test-SpawnGuardProcessIdentity -Process $noTime -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartedBefore '2024-05-01T10:05:00Z' | Should -Be 'identity-unverified'
    }

    It 'reports a PID now running another image as reused' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Temp\other.exe' -ExpectedStartTime '' | Should -Be 'pid-reused'
    }

    It 'reports the same image started outside the tolerance as reused' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T09:00:00Z' | Should -Be 'pid-reused'
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T10:00:02.500Z' | Should -Be 'pid-reused'
    }

    It 'reports a process whose path or start time cannot be read as unverified' {
        $noPath = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path '' -Created $script:Started)
        Test-SpawnGuardProcessIdentity -Process $noPath -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '' | Should -Be 'identity-unverified'
        $noTime = ConvertTo-SpawnGuardProcessRecord -Process ([pscustomobject]@{ ProcessId = 42; ParentProcessId = 1; Name = 'evil.exe'; ExecutablePath = 'C:\Users\Public\evil.exe'; CommandLine = ''; CreationDate = $null; SessionId = 1 })
        Test-SpawnGuardProcessIdentity -Process $noTime -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime '2024-05-01T10:00:00Z' | Should -Be 'identity-unverified'
    }

    It 'tells the same instance from a later one with the same PID' {
        $same = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\USERS\Public\evil.exe' -Created $script:Started.AddMilliseconds(300))
        $later = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:Started.AddMinutes(5))
        $otherImage = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Temp\evil.exe' -Created $script:Started)
        $otherPid = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 43 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:Started)
        Test-SpawnGuardSameProcess -Expected $script:Record -Actual $same | Should -BeTrue
        Test-SpawnGuardSameProcess -Expected $script:Record -Actual $later | Should -BeFalse
        Test-SpawnGuardSameProcess -Expected $script:Record -Actual $otherImage | Should -BeFalse
        Test-SpawnGuardSameProcess -Expected $script:Record -Actual $otherPid | Should -BeFalse
    }

    It 'treats two records without a creation date as the same only when both lack it' {
        $noDate = [pscustomobject]@{ ProcessId = 42; ExecutablePath = 'C:\Users\Public\evil.exe'; CreationDate = $null }
        Test-SpawnGuardSameProcess -Expected $noDate -Actual $noDate | Should -BeTrue
        Test-SpawnGuardSameProcess -Expected $noDate -Actual $script:Record | Should -BeFalse
    }
}

Describe 'Test-SpawnGuardInstanceIdentity (the decision Stop-SpawnGuardVerifiedProcess makes through its handle)' {
    BeforeAll {
        $script:Started = Get-Date -Date '2024-05-01T10:00:00Z'
    }

    It 'accepts the same image path (normalized) and the same start time within a second, in any time kind' {
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started -ActualImagePath '\\?\c:\users\public\EVIL.EXE' -ActualStartTime $script:Started.AddMilliseconds(400) | Should -BeTrue
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started.ToUniversalTime() -ActualImagePath 'C:\Users\Public\evil.exe' -ActualStartTime $script:Started.ToLocalTime() | Should -BeTrue
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $null -ActualImagePath 'C:\Users\Public\evil.exe' -ActualStartTime $null | Should -BeTrue
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath '' -ExpectedStartTime $script:Started -ActualImagePath $null -ActualStartTime $script:Started | Should -BeTrue
    }

    It 'refuses another image, another start time, a value that cannot be read, or nothing to compare' {
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started -ActualImagePath 'C:\Windows\System32\notepad.exe' -ActualStartTime $script:Started | Should -BeFalse
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started -ActualImagePath 'C:\Users\Public\evil.exe' -ActualStartTime $script:Started.AddSeconds(1) | Should -BeFalse
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started -ActualImagePath '' -ActualStartTime $script:Started | Should -BeFalse
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $script:Started -ActualImagePath 'C:\Users\Public\evil.exe' -ActualStartTime $null | Should -BeFalse
        Test-SpawnGuardInstanceIdentity -ExpectedImagePath '' -ExpectedStartTime $null -ActualImagePath 'C:\Users\Public\evil.exe' -ActualStartTime $script:Started | Should -BeFalse
    }
}
