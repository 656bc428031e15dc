<#
.SYNOPSIS
    Pester 5 tests of StopProcess.ps1, run under pwsh: the Windows seam (Win32_Process, Stop-Process)
    is mocked, the script's logic runs.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'StopProcess.ps1'
    $script:EvilStart = Get-Date -Date '2024-05-01T10:00:00Z'
    # The machine as the script sees it: the kernel, lsass, this PowerShell under the host worker
    # (node.exe), and evil.exe with a child.
    $script:Processes = @(
        (New-TestProcess -ProcessId 4 -ParentProcessId 0 -Name 'System'),
        (New-TestProcess -ProcessId 640 -ParentProcessId 500 -Name 'lsass.exe' -Path 'C:\Windows\System32\lsass.exe'),
        (New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'node.exe' -Path 'C:\Program Files\nodejs\node.exe'),
        (New-TestProcess -ProcessId $PID -ParentProcessId 900 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date)),
        (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:EvilStart),
        (New-TestProcess -ProcessId 4400 -ParentProcessId 4321 -Name 'cmd.exe' -Path 'C:\Windows\System32\cmd.exe' -Created $script:EvilStart.AddSeconds(1))
    )
}

Describe 'StopProcess.ps1' {
    BeforeEach {
        Set-TestProcessTable -Processes $script:Processes
        # Mock bodies run in the module's scope: they reach the test's processes through the helpers.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
        # The check and the kill through one handle: the fake process table answers for Windows.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { Stop-TestVerifiedProcess -ProcessId $PesterBoundParameters['ProcessId'] -ExpectedImagePath $PesterBoundParameters['ExpectedImagePath'] -ExpectedStartTime $PesterBoundParameters['ExpectedStartTime'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -MockWith { return $false }
    }

    It 'stops an identity-checked target and its child, and reports both PIDs' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-05-01T10:00:00Z' }); includeDescendants = $true }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.ok | Should -BeTrue
        @($document.results).Length | Should -Be 1
        $document.results[0].status | Should -Be 'done'
        @($document.results[0].terminatedPids) | Should -Be @(4321, 4400)
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 2 -Exactly
    }

    It 'refuses the whole request when one target is lsass.exe, and stops nothing' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }, @{ pid = 640; imagePath = 'C:\Windows\System32\lsass.exe' }) }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 3
        $document.ok | Should -BeFalse
        ($document.results | Where-Object -FilterScript { $_.pid -eq 640 }).reason | Should -Be 'protected-process'
        $document.errors[0].code | Should -Be 'protected-process'
        ($document.results | Where-Object -FilterScript { $_.pid -eq 4321 }).reason | Should -Be 'request-refused'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
    }

    It 'refuses PID 4 and the worker itself' {
        foreach ($protectedPid in @(4, 900, $PID)) {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = $protectedPid; imagePath = 'C:\Users\Public\evil.exe' }) }
            $null = & $script:Script -Request $request
            $LASTEXITCODE | Should -Be 3
        }
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
    }

    It 'skips a PID that now belongs to another process' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-04-30T10:00:00Z' }) }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'skipped'
        $document.results[0].reason | Should -Be 'pid-reused'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
    }

    It 'reports a target that has already exited as already done' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '0x1F40=C:\Users\Public\evil.exe')
        $LASTEXITCODE | Should -Be 0
        $document.results[0].pid | Should -Be 8000
        $document.results[0].status | Should -Be 'already-done'
    }

    It 'never stops PowerShell by path' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe')
        $LASTEXITCODE | Should -Be 3
        $document.results[0].reason | Should -Be 'powershell-by-path'
    }

    It 'refuses a worker request whose target carries only a PID: exit 2, invalid-request, nothing stopped' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; startTime = '2024-05-01T10:00:00Z' }); includeDescendants = $true }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 2
        $document.errors[0].code | Should -Be 'invalid-request'
        $document.errors[0].message | Should -Match 'imagePath'
        @($document.results).Length | Should -Be 0
        Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
    }

    It 'refuses a bare PID typed by an analyst (exit 2, nothing stopped) and stops PID=path or a PID with -ImagePath' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '4321')
        $LASTEXITCODE | Should -Be 2
        $document.errors[0].code | Should -Be 'invalid-request'
        $document.errors[0].message | Should -Match 'PID=path'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly

        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '4400=C:\Windows\System32\cmd.exe' -NoDescendants)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'done'
        $document.results[0].target | Should -Be '4400=C:\Windows\System32\cmd.exe'
        @($document.results[0].terminatedPids) | Should -Be @(4400)

        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '4321' -ImagePath 'C:\Users\Public\evil.exe' -NoDescendants)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'done'
        @($document.results[0].terminatedPids) | Should -Be @(4321)
    }

    It 'does not stop an analyst PID=path whose PID now runs another image' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '4321=C:\Users\Public\other.exe')
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'skipped'
        $document.results[0].reason | Should -Be 'pid-reused'
        Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
    }

    It 'skips a parent whose PID now holds a process started after the child (startedBefore), and stops the real parent' {
        # The child started at 09:59:00; PID 4321 (evil.exe, started 10:00:00) is younger: not its parent.
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startedBefore = '2024-05-01T09:59:00Z' }); includeDescendants = $false }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'skipped'
        $document.results[0].reason | Should -Be 'pid-reused'
        Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly

        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startedBefore = '2024-05-01T10:00:01Z' }); includeDescendants = $false }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'done'
        @($document.results[0].terminatedPids) | Should -Be @(4321)
    }

    It 'answers a request that is not base64 with exit code 2 and a JSON error' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request 'not base64!')
        $LASTEXITCODE | Should -Be 2
        $document.errors[0].code | Should -Be 'invalid-request'
        @($document.results).Length | Should -Be 0
    }
}
