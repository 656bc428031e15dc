<#
.SYNOPSIS
    Planning and carrying out process terminations, and their result items.

.DESCRIPTION
    A plan is decided for every target before anything is stopped: one protected target refuses the whole request.
#>

function Stop-SpawnGuardProcessInstance {
    <#
    .SYNOPSIS
        Terminates one process instance, re-checking right before that its PID still belongs to the
        instance seen in the snapshot, and waits for it to exit.
        Returns 'done', 'already-done' (gone, or its PID now belongs to another process) or
        'skipped' (-WhatIf); throws on failure.
    .DESCRIPTION
        The last check and the kill go through one process handle (Stop-SpawnGuardVerifiedProcess),
        so the PID cannot change hands between them.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Process, [int]$WaitMilliseconds = 10000)
    $live = Get-SpawnGuardLiveProcess -ProcessId $Process.ProcessId
    if ($null -eq $live -or -not (Test-SpawnGuardSameProcess -Expected $Process -Actual $live)) { return 'already-done' }
    if (-not $PSCmdlet.ShouldProcess(([string]$Process.ProcessId + ' (' + $Process.Name + ')'), 'Stop-Process')) { return 'skipped' }
    try {
        $stopped = Stop-SpawnGuardVerifiedProcess -ProcessId $Process.ProcessId -ExpectedImagePath $Process.ExecutablePath -ExpectedStartTime $Process.CreationDate
    } catch {
        if (-not (Test-SpawnGuardProcessRunning -ProcessId $Process.ProcessId)) { return 'already-done' }
        throw
    }
    # Gone, or the PID now holds another process: the instance in the snapshot has exited.
    if ($stopped -ne 'done') { return 'already-done' }
    $deadline = (Get-Date).AddMilliseconds($WaitMilliseconds)
    while (Test-SpawnGuardProcessRunning -ProcessId $Process.ProcessId) {
        if ((Get-Date) -gt $deadline) {
            throw (New-SpawnGuardException -Code 'still-running' -Message ('Process ' + $Process.ProcessId + ' did not exit.'))
        }
        Start-Sleep -Milliseconds 250
    }
    return 'done'
}

function Resolve-SpawnGuardProcessTarget {
    <#
    .SYNOPSIS
        Turns one requested target into a plan: the live processes to act on, or why nothing is done.
        Refusal (a protected target) is separate from skipping: a refusal stops the whole request.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Target,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [switch]$ForQuarantine
    )
    $plan = [pscustomobject]@{
        Target    = $Target
        Processes = @()
        ImagePath = $Target.imagePath
        Name      = $Target.name
        ProcessId = $Target.pid
        Refusal   = $null
        Status    = $null
        Reason    = $null
        Message   = $null
    }
    if ($Target.byPath) {
        $plan.Name = Get-SpawnGuardBaseName -Path $Target.imagePath
        if (Test-SpawnGuardPowerShellHost -Path $Target.imagePath) {
            # Stopping every powershell.exe would stop the host worker's own scripts.
            $plan.Refusal = 'powershell-by-path'
            $plan.Message = 'PowerShell is never stopped by path: that would stop the host worker.'
            return $plan
        }
        if (Test-SpawnGuardCriticalProcess -Path $Target.imagePath) {
            $plan.Refusal = 'protected-process'
            $plan.Message = 'A critical Windows process image.'
            return $plan
        }
        $matched = Find-SpawnGuardProcessByPath -Snapshot $Snapshot -Path $Target.imagePath
        foreach ($process in $matched) {
            $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
            if ($null -ne $reason) {
                $plan.Refusal = $reason
                $plan.Message = 'Process ' + $process.ProcessId + ' running this image is protected.'
                return $plan
            }
        }
        $plan.Processes = $matched
        if ($matched.Length -eq 1) { $plan.ProcessId = $matched[0].ProcessId }
        if ($matched.Length -eq 0) {
            $plan.Status = 'already-done'
            $plan.Reason = 'not-running'
            $plan.Message = 'No process is running this image.'
        }
        return $plan
    }

    if ($script:ProtectedProcessIds -contains $Target.pid) {
        $plan.Refusal = 'protected-pid'
        $plan.Message = 'PID ' + $Target.pid + ' belongs to the kernel.'
        return $plan
    }
    if ($WorkerProcessIds -contains $Target.pid) {
        $plan.Refusal = 'worker-process'
        $plan.Message = 'The host worker itself or its parent chain.'
        return $plan
    }
    # The request's own description is checked too (as the TypeScript side does): a request that
    # names lsass.exe in System32 is refused whatever the PID now holds.
    if ((-not [string]::IsNullOrEmpty($Target.name) -or -not [string]::IsNullOrEmpty($Target.imagePath)) -and
        (Test-SpawnGuardCriticalProcess -Name $Target.name -Path $Target.imagePath)) {
        $plan.Refusal = 'protected-process'
        $plan.Message = 'The request names a critical Windows process.'
        if ([string]::IsNullOrEmpty($plan.Name)) { $plan.Name = Get-SpawnGuardBaseName -Path $Target.imagePath }
        return $plan
    }
    if ($ForQuarantine -and (Test-SpawnGuardPowerShellHost -Name $Target.name -Path $Target.imagePath)) {
        $plan.Refusal = 'powershell-host'
        $plan.Message = 'The PowerShell image is never quarantined: the host worker runs its scripts with it.'
        return $plan
    }
    $process = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $Target.pid
    if ($null -eq $process) {
        $plan.Status = 'already-done'
        $plan.Reason = 'not-found'
        $plan.Message = 'No process has this PID: it has already exited.'
        return $plan
    }
    $plan.Name = $process.Name
    $startedBefore = $null
    if ($null -ne $Target.PSObject.Properties['startedBefore']) { $startedBefore = $Target.startedBefore }
    $identity = Test-SpawnGuardProcessIdentity -Process $process -ExpectedImagePath $Target.imagePath -ExpectedStartTime $Target.startTime -ExpectedStartedBefore $startedBefore
    if ($null -ne $identity) {
        $plan.Status = 'skipped'
        $plan.Reason = $identity
        $plan.ImagePath = $process.ExecutablePath
        if ($identity -eq 'pid-reused') {
            $plan.Message = 'PID ' + $Target.pid + ' now belongs to another process (' + $process.ExecutablePath + '); the alerted process has exited. Nothing was done.'
        } elseif ([string]::IsNullOrEmpty($Target.imagePath)) {
            $plan.Message = 'The request gives no image path for PID ' + $Target.pid + ', so its identity cannot be checked (the PID may have been reused). Nothing was done.'
        } else {
            $plan.Message = 'The image path or start time of PID ' + $Target.pid + ' cannot be read, so its identity cannot be checked. Nothing was done.'
        }
        return $plan
    }
    $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
    if ($null -ne $reason) {
        $plan.Refusal = $reason
        $plan.Message = 'Process ' + $process.ProcessId + ' (' + $process.Name + ') is protected.'
        return $plan
    }
    if ($ForQuarantine -and (Test-SpawnGuardPowerShellHost -Name $process.Name -Path $process.ExecutablePath)) {
        $plan.Refusal = 'powershell-host'
        $plan.Message = 'The PowerShell image is never quarantined: the host worker runs its scripts with it.'
        return $plan
    }
    $plan.Processes = @($process)
    $plan.ImagePath = $process.ExecutablePath
    return $plan
}

function Stop-SpawnGuardProcessTree {
    <#
    .SYNOPSIS
        Terminates the given processes and, optionally, their descendants; protected descendants
        are left alone. Returns what was terminated, what was already gone and what failed.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Processes,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [switch]$IncludeDescendants
    )
    $outcome = [pscustomobject]@{
        RootStatus        = 'already-done'
        TerminatedPids    = New-Object -TypeName System.Collections.ArrayList
        Failures          = New-Object -TypeName System.Collections.ArrayList
        LeftAlone         = New-Object -TypeName System.Collections.ArrayList
        WhatIf            = $false
    }
    $visited = @{}
    # Processes this call terminated, by PID: the parents whose late children the second pass stops.
    $stopped = @{}
    $queue = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in $Processes) { [void]$queue.Add([pscustomobject]@{ Process = $process; IsRoot = $true }) }
    if ($IncludeDescendants) {
        foreach ($process in $Processes) {
            foreach ($descendant in (Get-SpawnGuardDescendant -Snapshot $Snapshot -ProcessId $process.ProcessId)) {
                [void]$queue.Add([pscustomobject]@{ Process = $descendant; IsRoot = $false })
            }
        }
    }
    # Roots first so they cannot start new children while the tree is being stopped; a second
    # pass below catches children started in between.
    for ($pass = 0; $pass -lt 2; $pass++) {
        foreach ($entry in $queue) {
            $process = $entry.Process
            if ($visited.ContainsKey($process.ProcessId)) { continue }
            $visited[$process.ProcessId] = $true
            if (-not $entry.IsRoot) {
                $reason = Get-SpawnGuardProtectionReason -Process $process -WorkerProcessIds $WorkerProcessIds -Snapshot $Snapshot
                if ($null -ne $reason) {
                    [void]$outcome.LeftAlone.Add(([string]$process.ProcessId + ' (' + $process.Name + '): ' + $reason))
                    continue
                }
            }
            try {
                $status = Stop-SpawnGuardProcessInstance -Process $process
                if ($status -eq 'done') {
                    $stopped[$process.ProcessId] = $process
                    [void]$outcome.TerminatedPids.Add([int64]$process.ProcessId)
                    if ($entry.IsRoot) { $outcome.RootStatus = 'done' }
                } elseif ($status -eq 'skipped') {
                    $outcome.WhatIf = $true
                }
            } catch {
                [void]$outcome.Failures.Add([pscustomobject]@{
                        ProcessId = [int64]$process.ProcessId
                        IsRoot    = $entry.IsRoot
                        Code      = Get-SpawnGuardErrorCode -ErrorRecord $_
                        Message   = $_.Exception.Message
                    })
            }
        }
        if (-not $IncludeDescendants -or $outcome.TerminatedPids.Count -eq 0) { break }
        $queue = New-Object -TypeName System.Collections.ArrayList
        $fresh = Get-SpawnGuardProcessSnapshot
        foreach ($candidate in $fresh) {
            if ($visited.ContainsKey($candidate.ProcessId) -or -not $stopped.ContainsKey($candidate.ParentProcessId)) { continue }
            $parent = $stopped[$candidate.ParentProcessId]
            if ($null -ne $candidate.CreationDate -and $null -ne $parent.CreationDate -and $candidate.CreationDate -lt $parent.CreationDate) { continue }
            [void]$queue.Add([pscustomobject]@{ Process = $candidate; IsRoot = $false })
        }
        $Snapshot = $fresh
    }
    return $outcome
}

function New-SpawnGuardProcessActionResult {
    <#
    .SYNOPSIS
        One ProcessActionResult (common/host-contract.ts) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Plan,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message,
        [AllowEmptyCollection()][int64[]]$TerminatedPids = @(),
        [AllowNull()][object]$Quarantine
    )
    $processId = $null
    if ($null -ne $Plan.ProcessId) { $processId = [int64]$Plan.ProcessId }
    $name = $null
    if (-not [string]::IsNullOrEmpty($Plan.Name)) { $name = [string]$Plan.Name }
    $imagePath = $null
    if (-not [string]::IsNullOrEmpty($Plan.ImagePath)) { $imagePath = [string]$Plan.ImagePath }
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    return [ordered]@{
        target         = [string]$Plan.Target.target
        pid            = $processId
        name           = $name
        imagePath      = $imagePath
        status         = $Status
        reason         = $reasonValue
        message        = $messageValue
        terminatedPids = [object[]]$TerminatedPids
        quarantine     = $Quarantine
    }
}

function Test-SpawnGuardRefusedPlan {
    <#
    .SYNOPSIS
        True when any plan names a protected target (the whole request is then refused).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Plans)
    foreach ($plan in $Plans) {
        if ($null -ne $plan.Refusal) { return $true }
    }
    return $false
}

function Add-SpawnGuardRefusedPlan {
    <#
    .SYNOPSIS
        Reports a refused request: each protected target with its reason, every other target as
        not attempted. Nothing was done to any of them (as the TypeScript side refuses it whole).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Plans)
    foreach ($plan in $Plans) {
        if ($null -ne $plan.Refusal) {
            $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'skipped' -Reason $plan.Refusal -Message $plan.Message
            # The runner reports a failed script by its errors: say there which target was refused and why.
            Add-SpawnGuardError -Result $Result -Code $plan.Refusal -Message ('Target ' + $plan.Target.target + ': ' + $plan.Message)
        } else {
            $item = New-SpawnGuardProcessActionResult -Plan $plan -Status 'skipped' -Reason 'request-refused' -Message 'Not attempted: another target in this request is protected, so the whole request was refused.'
        }
        Add-SpawnGuardResultItem -Result $Result -Item $item
    }
}

function Get-SpawnGuardTreeOutcomeSummary {
    <#
    .SYNOPSIS
        Status, reason and message of a process action from a Stop-SpawnGuardProcessTree outcome.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Outcome)
    $notes = New-Object -TypeName System.Collections.ArrayList
    $status = $Outcome.RootStatus
    $reason = $null
    if ($Outcome.TerminatedPids.Count -gt 0) { [void]$notes.Add('Terminated PIDs ' + ($Outcome.TerminatedPids -join ', ') + '.') }
    if ($status -eq 'already-done' -and $Outcome.Failures.Count -eq 0) { [void]$notes.Add('The process had already exited.') }
    if ($Outcome.LeftAlone.Count -gt 0) { [void]$notes.Add('Protected descendants left alone: ' + ($Outcome.LeftAlone -join '; ') + '.') }
    if ($Outcome.WhatIf) {
        $status = 'skipped'
        $reason = 'what-if'
    }
    foreach ($failure in $Outcome.Failures) {
        [void]$notes.Add('PID ' + $failure.ProcessId + ': ' + $failure.Message)
        $status = 'failed'
        if ($null -eq $reason -or $failure.IsRoot) {
            $reason = $failure.Code
            if (-not $failure.IsRoot -and $failure.Code -ne 'access-denied') { $reason = 'descendant-' + $failure.Code }
        }
    }
    return [pscustomobject]@{ Status = $status; Reason = $reason; Message = ($notes -join ' ') }
}
