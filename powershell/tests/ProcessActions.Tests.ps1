<#
.SYNOPSIS
    Pester 5 tests of planning and carrying out process terminations
    (SpawnGuard.Safety/ProcessActions.ps1): one instance, target resolution with every refusal and
    skip, whole trees, the outcome summary and the report of a refused request. The seam
    (Win32_Process, Stop-Process, Get-Process) is mocked over a fake process table that changes
    as processes are "stopped".
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:SavedSystemRoot = $env:SystemRoot
    $env:SystemRoot = 'C:\Windows'
    $script:EvilStart = Get-Date -Date '2024-05-01T10:00:00Z'

    # The machine: the kernel, lsass, the worker chain (node.exe -> this PowerShell), explorer,
    # and evil.exe with a child, a grandchild and a genuine explorer.exe it happens to parent.
    $script:Machine = @(
        (New-TestProcess -ProcessId 4 -ParentProcessId 0 -Name 'System'),
        (New-TestProcess -ProcessId 640 -ParentProcessId 500 -Name 'lsass.exe' -Path 'C:\Windows\System32\lsass.exe'),
        (New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'node.exe' -Path 'C:\Program Files\nodejs\node.exe'),
        (New-TestProcess -ProcessId $PID -ParentProcessId 900 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date -Date '2024-05-01T09:00:00Z')),
        (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:EvilStart),
        (New-TestProcess -ProcessId 4400 -ParentProcessId 4321 -Name 'cmd.exe' -Path 'C:\Windows\System32\cmd.exe' -Created $script:EvilStart.AddSeconds(1)),
        (New-TestProcess -ProcessId 4500 -ParentProcessId 4400 -Name 'whoami.exe' -Path 'C:\Windows\System32\whoami.exe' -Created $script:EvilStart.AddSeconds(2)),
        (New-TestProcess -ProcessId 4600 -ParentProcessId 4321 -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe' -Created $script:EvilStart.AddSeconds(3)),
        (New-TestProcess -ProcessId 5000 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:EvilStart),
        (New-TestProcess -ProcessId 6000 -ParentProcessId 1 -Name 'pwsh.exe' -Path 'C:\Program Files\PowerShell\7\pwsh.exe' -Created $script:EvilStart),
        (New-TestProcess -ProcessId 7000 -ParentProcessId 1 -Name 'ghost.exe' -Path '' -Created $script:EvilStart)
    )

    function New-Target {
        <#
        .SYNOPSIS
            A process target as the request readers build it.
        #>
        [CmdletBinding()]
        param([object]$ProcessId = $null, [string]$ImagePath = $null, [string]$StartTime = $null, [string]$Name = $null, [switch]$ByPath)
        $text = [string]$ProcessId
        if ($ByPath) { $text = $ImagePath }
        return [pscustomobject]@{ target = $text; pid = $ProcessId; imagePath = $ImagePath; startTime = $StartTime; name = $Name; byPath = [bool]$ByPath }
    }

    function Resolve-Target {
        <#
        .SYNOPSIS
            The plan for one target against the current fake process table, with the worker chain protected.
        #>
        [CmdletBinding()]
        param([psobject]$Target, [switch]$ForQuarantine)
        $snapshot = Get-SpawnGuardProcessSnapshot
        $workers = Get-SpawnGuardWorkerProcessId -Snapshot $snapshot
        return (Resolve-SpawnGuardProcessTarget -Target $Target -Snapshot $snapshot -WorkerProcessIds $workers -ForQuarantine:$ForQuarantine)
    }

    function Get-ThrownError {
        <#
        .SYNOPSIS
            The error record a script block throws, or $null.
        #>
        [CmdletBinding()]
        param([scriptblock]$ScriptBlock)
        try {
            $null = & $ScriptBlock
        } catch {
            return $_
        }
        return $null
    }
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
}

Describe 'Process actions' {
    BeforeEach {
        Set-TestProcessTable -Processes $script:Machine
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
        # A stop really removes the process from the table; the wait then sees it gone.
        # The check and the kill through one handle: the fake table answers; the decision is the module's.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { Stop-TestVerifiedProcess -ProcessId $PesterBoundParameters['ProcessId'] -ExpectedImagePath $PesterBoundParameters['ExpectedImagePath'] -ExpectedStartTime $PesterBoundParameters['ExpectedStartTime'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -MockWith { Test-TestProcessRunning -ProcessId $PesterBoundParameters['ProcessId'] }
    }

    Context 'Stopping one process instance' {
        It 'stops the instance it saw and reports it done once it has exited' {
            $seen = Get-SpawnGuardLiveProcess -ProcessId 4321
            Stop-SpawnGuardProcessInstance -Process $seen | Should -Be 'done'
            Test-TestProcessRunning -ProcessId 4321 | Should -BeFalse
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['ProcessId'] -eq 4321 }
        }

        It 'waits while the process is still exiting after the stop' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { return 'done' }
            # Still in the table at the first check, gone at the next one.
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -MockWith {
                $id = $PesterBoundParameters['ProcessId']
                if (Test-TestProcessRunning -ProcessId $id) {
                    Stop-TestProcess -ProcessId $id
                    return $true
                }
                return $false
            }
            Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) | Should -Be 'done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -Times 2 -Exactly
        }

        It 'reports a process that has already exited as already done, without stopping anything' {
            $seen = Get-SpawnGuardLiveProcess -ProcessId 4321
            Stop-TestProcess -ProcessId 4321
            Stop-SpawnGuardProcessInstance -Process $seen | Should -Be 'already-done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }

        It 'does not stop a PID that now belongs to another process than the one in the snapshot' {
            $seen = Get-SpawnGuardLiveProcess -ProcessId 4321
            Stop-TestProcess -ProcessId 4321
            Add-TestProcess -Process (New-TestProcess -ProcessId 4321 -Name 'notepad.exe' -Path 'C:\Windows\System32\notepad.exe' -Created (Get-Date -Date '2024-05-01T11:00:00Z'))
            Stop-SpawnGuardProcessInstance -Process $seen | Should -Be 'already-done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
            Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
        }

        It 'makes the last check and the kill through one handle: the seam gets the snapshot identity, and a mismatch there stops nothing' {
            $seen = Get-SpawnGuardLiveProcess -ProcessId 4321
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { return 'identity-mismatch' }
            Stop-SpawnGuardProcessInstance -Process $seen | Should -Be 'already-done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 1 -Exactly -ParameterFilter {
                $PesterBoundParameters['ProcessId'] -eq 4321 -and $PesterBoundParameters['ExpectedImagePath'] -eq 'C:\Users\Public\evil.exe' -and
                $PesterBoundParameters['ExpectedStartTime'] -eq (Get-Date -Date '2024-05-01T10:00:00Z')
            }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -Times 0 -Exactly
            Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
        }

        It 'does not kill a PID that changes hands between the snapshot re-read and the kill' {
            # The WMI re-read still sees evil.exe; by the time the handle is opened PID 4321 is notepad.
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith {
                Stop-TestProcess -ProcessId 4321
                Add-TestProcess -Process (New-TestProcess -ProcessId 4321 -Name 'notepad.exe' -Path 'C:\Windows\System32\notepad.exe' -Created (Get-Date -Date '2024-05-01T11:00:00Z'))
                Stop-TestVerifiedProcess -ProcessId $PesterBoundParameters['ProcessId'] -ExpectedImagePath $PesterBoundParameters['ExpectedImagePath'] -ExpectedStartTime $PesterBoundParameters['ExpectedStartTime']
            }
            Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) | Should -Be 'already-done'
            (Get-SpawnGuardLiveProcess -ProcessId 4321).Name | Should -Be 'notepad.exe'
        }

        It 'treats a stop that fails because the process exited meanwhile as already done' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith {
                Stop-TestProcess -ProcessId $PesterBoundParameters['ProcessId']
                throw 'Cannot find a process with the process identifier.'
            }
            Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) | Should -Be 'already-done'
        }

        It 'fails with still-running when the process does not exit in time' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { return 'done' }
            $caught = Get-ThrownError -ScriptBlock { Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) -WaitMilliseconds 0 }
            Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'still-running'
        }

        It 'fails with access-denied when Windows refuses the stop and the process keeps running' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList 5) }
            $caught = Get-ThrownError -ScriptBlock { Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) }
            Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'access-denied'
            Test-TestProcessRunning -ProcessId 4321 | Should -BeTrue
        }

        It 'stops nothing with -WhatIf and says so' {
            Stop-SpawnGuardProcessInstance -Process (Get-SpawnGuardLiveProcess -ProcessId 4321) -WhatIf | Should -Be 'skipped'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }
    }

    Context 'Resolving a target by PID' {
        It 'plans to stop an identity-checked process' {
            $plan = Resolve-Target -Target (New-Target -ProcessId 4321 -ImagePath 'C:\Users\Public\evil.exe' -StartTime '2024-05-01T10:00:01Z')
            $plan.Refusal | Should -BeNullOrEmpty
            $plan.Status | Should -BeNullOrEmpty
            @($plan.Processes | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(4321)
            $plan.Name | Should -Be 'evil.exe'
            $plan.ImagePath | Should -Be 'C:\Users\Public\evil.exe'
        }

        It 'refuses PID 0 and PID 4' {
            (Resolve-Target -Target (New-Target -ProcessId 4)).Refusal | Should -Be 'protected-pid'
            (Resolve-Target -Target (New-Target -ProcessId 0)).Refusal | Should -Be 'protected-pid'
        }

        It 'refuses the worker itself and its parent' {
            (Resolve-Target -Target (New-Target -ProcessId $PID)).Refusal | Should -Be 'worker-process'
            (Resolve-Target -Target (New-Target -ProcessId 900)).Refusal | Should -Be 'worker-process'
        }

        It 'refuses a request that names a critical process, whatever the PID now holds' {
            $plan = Resolve-Target -Target (New-Target -ProcessId 4321 -Name 'lsass.exe' -ImagePath 'C:\Windows\System32\lsass.exe')
            $plan.Refusal | Should -Be 'protected-process'
            $plan.Message | Should -Match 'critical'
        }

        It 'refuses a running critical process found under the PID' {
            (Resolve-Target -Target (New-Target -ProcessId 640 -ImagePath 'C:\Windows\System32\lsass.exe')).Refusal | Should -Be 'protected-process'
            # A shared host the request does not call critical is refused once the PID is found running it.
            (Resolve-Target -Target (New-Target -ProcessId 4600 -ImagePath 'C:\Windows\explorer.exe')).Refusal | Should -Be 'shared-host'
        }

        It 'refuses to quarantine PowerShell, named in the request or found running' {
            (Resolve-Target -Target (New-Target -ProcessId 6000 -Name 'pwsh.exe') -ForQuarantine).Refusal | Should -Be 'powershell-host'
            (Resolve-Target -Target (New-Target -ProcessId 6000 -ImagePath 'C:\Program Files\PowerShell\7\pwsh.exe') -ForQuarantine).Refusal | Should -Be 'powershell-host'
            (Resolve-Target -Target (New-Target -ProcessId 6000 -ImagePath 'C:\Program Files\PowerShell\7\pwsh.exe')).Refusal | Should -BeNullOrEmpty
        }

        It 'reports a PID that is not running as already done' {
            $plan = Resolve-Target -Target (New-Target -ProcessId 8000)
            $plan.Status | Should -Be 'already-done'
            $plan.Reason | Should -Be 'not-found'
            $plan.Processes.Length | Should -Be 0
        }

        It 'skips a PID now running another image, and names that image' {
            $plan = Resolve-Target -Target (New-Target -ProcessId 4400 -ImagePath 'C:\Users\Public\evil.exe')
            $plan.Status | Should -Be 'skipped'
            $plan.Reason | Should -Be 'pid-reused'
            $plan.ImagePath | Should -Be 'C:\Windows\System32\cmd.exe'
            $plan.Message | Should -Match 'now belongs to another process'
            $plan.Processes.Length | Should -Be 0
        }

        It 'skips a target that gives no image path: a PID alone never identifies a process' {
            foreach ($target in @((New-Target -ProcessId 4321), (New-Target -ProcessId 4321 -StartTime '2024-05-01T10:00:00Z'))) {
                $plan = Resolve-Target -Target $target
                $plan.Status | Should -Be 'skipped'
                $plan.Reason | Should -Be 'identity-unverified'
                $plan.Message | Should -Match 'no image path'
                $plan.Processes.Length | Should -Be 0
            }
        }

        It 'skips a parent PID now held by a process started after the child (startedBefore), and plans the real parent' {
            $younger = New-Target -ProcessId 4321 -ImagePath 'C:\Users\Public\evil.exe'
            $younger | Add-Member -NotePropertyName 'startedBefore' -NotePropertyValue '2024-05-01T09:59:00Z'
            $plan = Resolve-Target -Target $younger
            $plan.Status | Should -Be 'skipped'
            $plan.Reason | Should -Be 'pid-reused'
            $plan.Processes.Length | Should -Be 0

            $older = New-Target -ProcessId 4321 -ImagePath 'C:\Users\Public\evil.exe'
            $older | Add-Member -NotePropertyName 'startedBefore' -NotePropertyValue '2024-05-01T10:00:05Z'
            $plan = Resolve-Target -Target $older
            $plan.Status | Should -BeNullOrEmpty
            @($plan.Processes | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(4321)
        }

        It 'skips a process whose image path cannot be read when the alert names one' {
            $plan = Resolve-Target -Target (New-Target -ProcessId 7000 -ImagePath 'C:\Users\Public\ghost.exe')
            $plan.Status | Should -Be 'skipped'
            $plan.Reason | Should -Be 'identity-unverified'
            $plan.Message | Should -Match 'cannot be read'
        }
    }

    Context 'Resolving a target by path' {
        It 'never stops PowerShell by path' {
            $plan = Resolve-Target -Target (New-Target -ImagePath 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -ByPath)
            $plan.Refusal | Should -Be 'powershell-by-path'
            $plan.Name | Should -Be 'powershell.exe'
        }

        It 'refuses the path of a critical Windows image' {
            (Resolve-Target -Target (New-Target -ImagePath 'C:\Windows\System32\lsass.exe' -ByPath)).Refusal | Should -Be 'protected-process'
        }

        It 'refuses a path that a protected process runs (here: the worker, node.exe)' {
            $plan = Resolve-Target -Target (New-Target -ImagePath 'C:\Program Files\nodejs\node.exe' -ByPath)
            $plan.Refusal | Should -Be 'worker-process'
            $plan.Message | Should -Match '900'
        }

        It 'plans every process running the image' {
            $plan = Resolve-Target -Target (New-Target -ImagePath 'c:\users\public\EVIL.EXE' -ByPath)
            $plan.Refusal | Should -BeNullOrEmpty
            @($plan.Processes | ForEach-Object -Process { $_.ProcessId }) | Should -Be @(4321, 5000)
            $plan.ProcessId | Should -BeNullOrEmpty
        }

        It 'names the PID when exactly one process runs the image' {
            $plan = Resolve-Target -Target (New-Target -ImagePath 'C:\Windows\System32\whoami.exe' -ByPath)
            $plan.ProcessId | Should -Be 4500
        }

        It 'reports an image nobody runs as already done' {
            $plan = Resolve-Target -Target (New-Target -ImagePath 'C:\Users\Public\gone.exe' -ByPath)
            $plan.Status | Should -Be 'already-done'
            $plan.Reason | Should -Be 'not-running'
        }
    }

    Context 'Stopping a process tree' {
        BeforeEach {
            $script:Snapshot = Get-SpawnGuardProcessSnapshot
            $script:Workers = Get-SpawnGuardWorkerProcessId -Snapshot $script:Snapshot
        }

        It 'stops the roots first, then their descendants, and leaves a protected descendant alone' {
            $roots = @((Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321), (Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 5000))
            $outcome = Stop-SpawnGuardProcessTree -Processes $roots -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers -IncludeDescendants
            $outcome.RootStatus | Should -Be 'done'
            @($outcome.TerminatedPids) | Should -Be @(4321, 5000, 4400, 4500)
            @($outcome.LeftAlone) | Should -Be @('4600 (explorer.exe): shared-host')
            $outcome.Failures.Count | Should -Be 0
            Test-TestProcessRunning -ProcessId 4600 | Should -BeTrue
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['ProcessId'] -eq 4600 }
        }

        It 'stops only the root without -IncludeDescendants' {
            $outcome = Stop-SpawnGuardProcessTree -Processes @(Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321) -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers
            @($outcome.TerminatedPids) | Should -Be @(4321)
            Test-TestProcessRunning -ProcessId 4400 | Should -BeTrue
        }

        It 'stops, in a second pass, a child started while the tree was being stopped, but not an orphan with a reused parent PID' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith {
                $id = $PesterBoundParameters['ProcessId']
                Stop-TestProcess -ProcessId $id
                if ($id -eq 4321) {
                    Add-TestProcess -Process (New-TestProcess -ProcessId 4700 -ParentProcessId 4321 -Name 'late.exe' -Path 'C:\Users\Public\late.exe' -Created (Get-Date -Date '2024-05-01T10:00:30Z'))
                    Add-TestProcess -Process (New-TestProcess -ProcessId 4800 -ParentProcessId 4321 -Name 'orphan.exe' -Path 'C:\Users\Public\orphan.exe' -Created (Get-Date -Date '2024-05-01T09:30:00Z'))
                }
                return 'done'
            }
            $outcome = Stop-SpawnGuardProcessTree -Processes @(Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321) -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers -IncludeDescendants
            @($outcome.TerminatedPids) | Should -Be @(4321, 4400, 4500, 4700)
            Test-TestProcessRunning -ProcessId 4800 | Should -BeTrue
        }

        It 'reports a root that had already exited as already done' {
            $root = Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321
            Stop-TestProcess -ProcessId 4321
            $outcome = Stop-SpawnGuardProcessTree -Processes @($root) -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers
            $outcome.RootStatus | Should -Be 'already-done'
            $outcome.TerminatedPids.Count | Should -Be 0
            (Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome).Message | Should -Be 'The process had already exited.'
        }

        It 'records a descendant that would not stop as a failure and goes on with the others' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith {
                $id = $PesterBoundParameters['ProcessId']
                if ($id -eq 4400) { throw 'The operation failed.' }
                Stop-TestProcess -ProcessId $id
                return 'done'
            }
            $outcome = Stop-SpawnGuardProcessTree -Processes @(Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321) -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers -IncludeDescendants
            @($outcome.TerminatedPids) | Should -Be @(4321, 4500)
            $outcome.Failures.Count | Should -Be 1
            $outcome.Failures[0].ProcessId | Should -Be 4400
            $outcome.Failures[0].IsRoot | Should -BeFalse
            $outcome.Failures[0].Code | Should -Be 'failure'
            $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
            $summary.Status | Should -Be 'failed'
            $summary.Reason | Should -Be 'descendant-failure'
            $summary.Message | Should -Match 'Terminated PIDs 4321, 4500\.'
            $summary.Message | Should -Match 'PID 4400: The operation failed\.'
        }

        It 'stops nothing with -WhatIf and reports it as skipped' {
            $outcome = Stop-SpawnGuardProcessTree -Processes @(Find-SpawnGuardProcess -Snapshot $script:Snapshot -ProcessId 4321) -Snapshot $script:Snapshot -WorkerProcessIds $script:Workers -IncludeDescendants -WhatIf
            $outcome.WhatIf | Should -BeTrue
            $outcome.TerminatedPids.Count | Should -Be 0
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
            $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
            $summary.Status | Should -Be 'skipped'
            $summary.Reason | Should -Be 'what-if'
        }
    }

    Context 'Reporting a refused request' {
        It 'reports the protected target with its reason, every other one as not attempted, and exits 3' {
            $plans = @(
                (Resolve-Target -Target (New-Target -ProcessId 4321 -ImagePath 'C:\Users\Public\evil.exe')),
                (Resolve-Target -Target (New-Target -ProcessId 640 -ImagePath 'C:\Windows\System32\lsass.exe'))
            )
            Test-SpawnGuardRefusedPlan -Plans $plans | Should -BeTrue
            $result = New-SpawnGuardResult -Script 'StopProcess.ps1'
            Add-SpawnGuardRefusedPlan -Result $result -Plans $plans
            $result.Results.Count | Should -Be 2
            $result.Results[0].status | Should -Be 'skipped'
            $result.Results[0].reason | Should -Be 'request-refused'
            $result.Results[1].reason | Should -Be 'protected-process'
            $result.Results[1].name | Should -Be 'lsass.exe'
            $result.Errors.Count | Should -Be 1
            $result.Errors[0].code | Should -Be 'protected-process'
            $result.Errors[0].message | Should -Match '^Target 640: '
            Get-SpawnGuardExitCode -Result $result | Should -Be 3
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }

        It 'does not call a request refused when no target is protected' {
            Test-SpawnGuardRefusedPlan -Plans @((Resolve-Target -Target (New-Target -ProcessId 4321)), (Resolve-Target -Target (New-Target -ProcessId 8000))) | Should -BeFalse
            Test-SpawnGuardRefusedPlan -Plans @() | Should -BeFalse
        }
    }
}

Describe 'Result items and the outcome summary' {
    It 'builds a ProcessActionResult with nulls for empty fields and a list of terminated PIDs' {
        $plan = [pscustomobject]@{ Target = [pscustomobject]@{ target = '0x10E1' }; ProcessId = 4321; Name = ''; ImagePath = 'C:\Users\Public\evil.exe' }
        $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'done' -Reason '' -Message 'Terminated.' -TerminatedPids @(4321)
        $item.target | Should -Be '0x10E1'
        $item.pid | Should -Be 4321
        $item.name | Should -BeNullOrEmpty
        $item.imagePath | Should -Be 'C:\Users\Public\evil.exe'
        $item.status | Should -Be 'done'
        $item.reason | Should -BeNullOrEmpty
        $item.message | Should -Be 'Terminated.'
        , $item.terminatedPids | Should -BeOfType [System.Array]
        $item.terminatedPids | Should -Be @(4321)
        $item.Keys | Should -Be @('target', 'pid', 'name', 'imagePath', 'status', 'reason', 'message', 'terminatedPids', 'quarantine')
    }

    It 'has no PID for a plan by path that matched several processes, and refuses an unknown status' {
        $plan = [pscustomobject]@{ Target = [pscustomobject]@{ target = 'C:\x.exe' }; ProcessId = $null; Name = 'x.exe'; ImagePath = 'C:\x.exe' }
        (New-SpawnGuardProcessActionResult -Plan $plan -Status 'skipped' -Reason 'pid-reused').pid | Should -BeNullOrEmpty
        { New-SpawnGuardProcessActionResult -Plan $plan -Status 'maybe' } | Should -Throw
    }

    It 'reports a root failure ahead of a descendant failure, and an access-denied descendant as access-denied' {
        $failures = New-Object -TypeName System.Collections.ArrayList
        [void]$failures.Add([pscustomobject]@{ ProcessId = 20; IsRoot = $false; Code = 'still-running'; Message = 'Process 20 did not exit.' })
        [void]$failures.Add([pscustomobject]@{ ProcessId = 10; IsRoot = $true; Code = 'access-denied'; Message = 'Access is denied.' })
        $outcome = [pscustomobject]@{ RootStatus = 'already-done'; TerminatedPids = (New-Object -TypeName System.Collections.ArrayList); Failures = $failures; LeftAlone = (New-Object -TypeName System.Collections.ArrayList); WhatIf = $false }
        $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
        $summary.Status | Should -Be 'failed'
        $summary.Reason | Should -Be 'access-denied'
        $summary.Message | Should -Be 'PID 20: Process 20 did not exit. PID 10: Access is denied.'

        $descendantOnly = New-Object -TypeName System.Collections.ArrayList
        [void]$descendantOnly.Add([pscustomobject]@{ ProcessId = 20; IsRoot = $false; Code = 'access-denied'; Message = 'Access is denied.' })
        $outcome.Failures = $descendantOnly
        (Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome).Reason | Should -Be 'access-denied'
    }

    It 'summarizes a clean stop with the PIDs and the protected descendants left alone' {
        $terminated = New-Object -TypeName System.Collections.ArrayList
        [void]$terminated.Add([int64]10)
        [void]$terminated.Add([int64]11)
        $leftAlone = New-Object -TypeName System.Collections.ArrayList
        [void]$leftAlone.Add('12 (explorer.exe): shared-host')
        $outcome = [pscustomobject]@{ RootStatus = 'done'; TerminatedPids = $terminated; Failures = (New-Object -TypeName System.Collections.ArrayList); LeftAlone = $leftAlone; WhatIf = $false }
        $summary = Get-SpawnGuardTreeOutcomeSummary -Outcome $outcome
        $summary.Status | Should -Be 'done'
        $summary.Reason | Should -BeNullOrEmpty
        $summary.Message | Should -Be 'Terminated PIDs 10, 11. Protected descendants left alone: 12 (explorer.exe): shared-host.'
    }
}

Describe 'Stop-SpawnGuardVerifiedProcess on a real process (the seam itself, not mocked)' {
    BeforeAll {
        function Start-Sleeper {
            <#
            .SYNOPSIS
                A real child process that sleeps for a minute: sleep on Linux, this PowerShell on Windows.
            #>
            [CmdletBinding()]
            param()
            if (Test-TestWindowsHost) {
                $child = Start-Process -FilePath (Get-Process -Id $PID).Path -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', 'Start-Sleep -Seconds 60') -PassThru -WindowStyle Hidden
            } else {
                $child = Start-Process -FilePath 'sleep' -ArgumentList @('60') -PassThru
            }
            # Let the image load so its main module can be read.
            Start-Sleep -Milliseconds 300
            return $child
        }
    }

    It 'kills a real process through the handle it checked, when image path and start time match' {
        $child = Start-Sleeper
        try {
            $path = $child.Path
            $path | Should -Not -BeNullOrEmpty
            Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath $path -ExpectedStartTime $child.StartTime | Should -Be 'done'
            $child.WaitForExit(10000) | Should -BeTrue
        } finally {
            if (-not $child.HasExited) { $child.Kill() }
        }
    }

    It 'leaves a real process running when its image path or its start time differs, and answers gone once it has exited' {
        $child = Start-Sleeper
        try {
            Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath 'C:\Users\Public\evil.exe' -ExpectedStartTime $child.StartTime | Should -Be 'identity-mismatch'
            Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath $child.Path -ExpectedStartTime $child.StartTime.AddMinutes(-5) | Should -Be 'identity-mismatch'
            Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath '' -ExpectedStartTime $null | Should -Be 'identity-mismatch'
            $child.Refresh()
            $child.HasExited | Should -BeFalse
        } finally {
            if (-not $child.HasExited) { $child.Kill() }
        }
        $child.WaitForExit(10000) | Should -BeTrue
        Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath $child.Path -ExpectedStartTime $null | Should -Be 'gone'
    }

    It 'stops a real process from its Win32_Process record: WMI and the handle agree on image path and start time' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: Win32_Process (CIM) and the process handle must give the same image path and start time' }
        $child = Start-Sleeper
        try {
            $live = Get-SpawnGuardLiveProcess -ProcessId $child.Id
            $live.ExecutablePath | Should -Not -BeNullOrEmpty
            Stop-SpawnGuardVerifiedProcess -ProcessId $child.Id -ExpectedImagePath $live.ExecutablePath -ExpectedStartTime $live.CreationDate.AddHours(-1) | Should -Be 'identity-mismatch'
            Stop-SpawnGuardProcessInstance -Process $live | Should -Be 'done'
            $child.WaitForExit(10000) | Should -BeTrue
        } finally {
            if (-not $child.HasExited) { $child.Kill() }
        }
    }
}
