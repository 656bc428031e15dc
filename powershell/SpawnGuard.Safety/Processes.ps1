<#
.SYNOPSIS
    Process snapshots, parent chains, descendants, the worker's own chain, and identity.

.DESCRIPTION
    Everything here works on plain records; only Platform.ps1 reads Win32_Process.
#>

function ConvertTo-SpawnGuardProcessRecord {
    <#
    .SYNOPSIS
        A plain record of one Win32_Process instance (CIM or WMI), creation date as a DateTime.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][object]$Process)
    $created = $null
    if ($null -ne $Process.CreationDate) {
        if ($Process.CreationDate -is [string]) {
            if ($Process.CreationDate.Length -gt 0) {
                $created = ConvertFrom-SpawnGuardDmtfDate -Text $Process.CreationDate
            }
        } else {
            $created = [datetime]$Process.CreationDate
        }
    }
    return [pscustomobject]@{
        ProcessId       = [int64]$Process.ProcessId
        ParentProcessId = [int64]$Process.ParentProcessId
        Name            = [string]$Process.Name
        ExecutablePath  = [string]$Process.ExecutablePath
        CommandLine     = [string]$Process.CommandLine
        CreationDate    = $created
        SessionId       = [int64]$Process.SessionId
        Source          = $Process
    }
}
function Get-SpawnGuardProcessSnapshot {
    <#
    .SYNOPSIS
        Every process from Win32_Process as plain records.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $snapshot = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in (Get-SpawnGuardWin32Process)) {
        [void]$snapshot.Add((ConvertTo-SpawnGuardProcessRecord -Process $process))
    }
    return , $snapshot.ToArray()
}

function Get-SpawnGuardLiveProcess {
    <#
    .SYNOPSIS
        The current record of one PID (re-read now, not from a snapshot), or $null when it is gone.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][int64]$ProcessId)
    foreach ($process in (Get-SpawnGuardWin32Process -ProcessId $ProcessId)) {
        if ([int64]$process.ProcessId -eq $ProcessId) { return (ConvertTo-SpawnGuardProcessRecord -Process $process) }
    }
    return $null
}

function Find-SpawnGuardProcess {
    <#
    .SYNOPSIS
        The snapshot record of a PID, or $null.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    foreach ($process in $Snapshot) {
        if ($process.ProcessId -eq $ProcessId) { return $process }
    }
    return $null
}

function Find-SpawnGuardProcessByPath {
    <#
    .SYNOPSIS
        Every snapshot record whose image is the given path (compared normalized).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][string]$Path)
    $wanted = ConvertTo-SpawnGuardNormalizedPath -Path $Path
    $found = New-Object -TypeName System.Collections.ArrayList
    foreach ($process in $Snapshot) {
        if ((ConvertTo-SpawnGuardNormalizedPath -Path $process.ExecutablePath) -eq $wanted) { [void]$found.Add($process) }
    }
    return , $found.ToArray()
}

function Get-SpawnGuardParentChain {
    <#
    .SYNOPSIS
        The ancestors of a process, nearest first. A parent started after its child is a reused PID
        (the real parent exited), so the walk stops there.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    $chain = New-Object -TypeName System.Collections.ArrayList
    $current = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $ProcessId
    $seen = @{}
    while ($null -ne $current -and $chain.Count -lt 64) {
        $seen[$current.ProcessId] = $true
        $parentId = $current.ParentProcessId
        if ($parentId -eq $current.ProcessId -or $seen.ContainsKey($parentId)) { break }
        $parent = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $parentId
        if ($null -eq $parent) { break }
        if ($null -ne $parent.CreationDate -and $null -ne $current.CreationDate -and $parent.CreationDate -gt $current.CreationDate) { break }
        [void]$chain.Add($parent)
        $current = $parent
    }
    return , $chain.ToArray()
}

function Get-SpawnGuardDescendant {
    <#
    .SYNOPSIS
        Every descendant of a process, breadth first. A "child" started before its parent is an
        orphan whose parent PID was reused, so it is not part of the tree.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot, [Parameter(Mandatory = $true)][int64]$ProcessId)
    $result = New-Object -TypeName System.Collections.ArrayList
    $queue = New-Object -TypeName System.Collections.Queue
    $root = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $ProcessId
    if ($null -eq $root) { return , $result.ToArray() }
    $queue.Enqueue($root)
    $seen = @{}
    $seen[$root.ProcessId] = $true
    while ($queue.Count -gt 0 -and $result.Count -lt 1024) {
        $parent = $queue.Dequeue()
        foreach ($candidate in $Snapshot) {
            if ($candidate.ParentProcessId -ne $parent.ProcessId -or $seen.ContainsKey($candidate.ProcessId)) { continue }
            if ($null -ne $candidate.CreationDate -and $null -ne $parent.CreationDate -and $candidate.CreationDate -lt $parent.CreationDate) { continue }
            $seen[$candidate.ProcessId] = $true
            [void]$result.Add($candidate)
            $queue.Enqueue($candidate)
        }
    }
    return , $result.ToArray()
}

function Get-SpawnGuardWorkerProcess {
    <#
    .SYNOPSIS
        This PowerShell process and its parent chain (the host worker, its service wrapper, ...).
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    $chain = New-Object -TypeName System.Collections.ArrayList
    $self = Find-SpawnGuardProcess -Snapshot $Snapshot -ProcessId $PID
    if ($null -ne $self) { [void]$chain.Add($self) }
    foreach ($ancestor in (Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $PID)) { [void]$chain.Add($ancestor) }
    return , $chain.ToArray()
}

function Get-SpawnGuardWorkerProcessId {
    <#
    .SYNOPSIS
        The PIDs of this PowerShell process and its parent chain (never valid targets).
    #>
    [CmdletBinding()]
    [OutputType([int64])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    $ids = New-Object -TypeName System.Collections.ArrayList
    [void]$ids.Add([int64]$PID)
    foreach ($ancestor in (Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $PID)) {
        [void]$ids.Add([int64]$ancestor.ProcessId)
    }
    return , [int64[]]$ids.ToArray()
}

function Test-SpawnGuardServiceHostedSvchost {
    <#
    .SYNOPSIS
        True for a genuine svchost.exe started by the genuine services.exe: a service host whose
        death can take the machine's services down. (A System32 svchost.exe started by anything
        else, such as a hollowed child of an Office application, is not one.)
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Process, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot)
    if ((Get-SpawnGuardProcessName -Name $Process.Name -Path $Process.ExecutablePath) -ne 'svchost.exe') { return $false }
    if (-not [string]::IsNullOrEmpty($Process.ExecutablePath) -and -not (Test-SpawnGuardSystemPath -Path $Process.ExecutablePath)) { return $false }
    $chain = Get-SpawnGuardParentChain -Snapshot $Snapshot -ProcessId $Process.ProcessId
    if ($chain.Length -eq 0) { return $false }
    $parent = $chain[0]
    return ((Get-SpawnGuardProcessName -Name $parent.Name -Path $parent.ExecutablePath) -eq 'services.exe' -and
        (Test-SpawnGuardCriticalProcess -ProcessId $parent.ProcessId -Name $parent.Name -Path $parent.ExecutablePath))
}

function Get-SpawnGuardProtectionReason {
    <#
    .SYNOPSIS
        Why a running process must not be terminated, or $null when it may be.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Process,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][int64[]]$WorkerProcessIds,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Snapshot
    )
    if ($script:ProtectedProcessIds -contains $Process.ProcessId) { return 'protected-pid' }
    if ($WorkerProcessIds -contains $Process.ProcessId) { return 'worker-process' }
    if (Test-SpawnGuardCriticalProcess -ProcessId $Process.ProcessId -Name $Process.Name -Path $Process.ExecutablePath) { return 'protected-process' }
    if (Test-SpawnGuardServiceHostedSvchost -Process $Process -Snapshot $Snapshot) { return 'shared-host' }
    # Explorer, WMI and WinRM hosts in their genuine place serve the whole host. A genuine-path
    # svchost is judged by its parent above: one not started by services.exe is a hollowed copy.
    $imageName = Get-SpawnGuardProcessName -Name $Process.Name -Path $Process.ExecutablePath
    if ($imageName -ne 'svchost.exe' -and (Test-SpawnGuardSharedHost -Name $Process.Name -Path $Process.ExecutablePath)) { return 'shared-host' }
    return $null
}

function Test-SpawnGuardProcessIdentity {
    <#
    .SYNOPSIS
        Checks a live process against the identity the alert gave (PID reuse guard): its image path
        (required), its start time when known, and for a parent that it started before its child.
        Returns $null when it matches, else 'pid-reused' or 'identity-unverified'.
    .DESCRIPTION
        Without an expected image path nothing but the PID identifies the process, so the identity
        is unverified and nothing may be done to it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Process,
        [AllowNull()][AllowEmptyString()][string]$ExpectedImagePath,
        [AllowNull()][AllowEmptyString()][string]$ExpectedStartTime,
        [AllowNull()][AllowEmptyString()][string]$ExpectedStartedBefore
    )
    if ([string]::IsNullOrEmpty($ExpectedImagePath)) { return 'identity-unverified' }
    if ([string]::IsNullOrEmpty($Process.ExecutablePath)) { return 'identity-unverified' }
    $expected = ConvertTo-SpawnGuardNormalizedPath -Path $ExpectedImagePath
    $actual = ConvertTo-SpawnGuardNormalizedPath -Path $Process.ExecutablePath
    if ($expected -ne $actual) { return 'pid-reused' }
    if (-not [string]::IsNullOrEmpty($ExpectedStartTime)) {
        if ($null -eq $Process.CreationDate) { return 'identity-unverified' }
        $expectedTime = ConvertFrom-SpawnGuardIsoDate -Text $ExpectedStartTime
        $difference = [math]::Abs(($Process.CreationDate.ToUniversalTime() - $expectedTime).TotalSeconds)
        if ($difference -gt $script:IdentityToleranceSeconds) { return 'pid-reused' }
    }
    if (-not [string]::IsNullOrEmpty($ExpectedStartedBefore)) {
        # A parent is older than its child: a process started after the child holds a reused PID.
        if ($null -eq $Process.CreationDate) { return 'identity-unverified' }
        $limit = ConvertFrom-SpawnGuardIsoDate -Text $ExpectedStartedBefore
        if ($Process.CreationDate.ToUniversalTime() -gt $limit.AddSeconds($script:IdentityToleranceSeconds)) { return 'pid-reused' }
    }
    return $null
}

function Test-SpawnGuardInstanceIdentity {
    <#
    .SYNOPSIS
        True when what was read through a process handle (image path, start time) is the expected
        instance: the decision Stop-SpawnGuardVerifiedProcess (Platform.ps1) makes before it kills.
    .DESCRIPTION
        Each expected value that is given must match (paths compared normalized, start times within
        a second); a value that cannot be read does not match; with neither given nothing identifies
        the instance and the answer is false.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [AllowNull()][AllowEmptyString()][string]$ExpectedImagePath,
        [AllowNull()][object]$ExpectedStartTime,
        [AllowNull()][AllowEmptyString()][string]$ActualImagePath,
        [AllowNull()][object]$ActualStartTime
    )
    $hasPath = -not [string]::IsNullOrEmpty($ExpectedImagePath)
    $hasStart = ($null -ne $ExpectedStartTime)
    if (-not $hasPath -and -not $hasStart) { return $false }
    if ($hasPath) {
        if ([string]::IsNullOrEmpty($ActualImagePath)) { return $false }
        if ((ConvertTo-SpawnGuardNormalizedPath -Path $ExpectedImagePath) -ne (ConvertTo-SpawnGuardNormalizedPath -Path $ActualImagePath)) { return $false }
    }
    if ($hasStart) {
        if ($null -eq $ActualStartTime) { return $false }
        $difference = [math]::Abs((([datetime]$ActualStartTime).ToUniversalTime() - ([datetime]$ExpectedStartTime).ToUniversalTime()).TotalSeconds)
        if ($difference -ge 1) { return $false }
    }
    return $true
}

function Test-SpawnGuardSameProcess {
    <#
    .SYNOPSIS
        True when two records describe the same process instance (same PID, image and creation time).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Expected, [Parameter(Mandatory = $true)][psobject]$Actual)
    if ($Expected.ProcessId -ne $Actual.ProcessId) { return $false }
    if ((ConvertTo-SpawnGuardNormalizedPath -Path $Expected.ExecutablePath) -ne (ConvertTo-SpawnGuardNormalizedPath -Path $Actual.ExecutablePath)) { return $false }
    if ($null -eq $Expected.CreationDate -or $null -eq $Actual.CreationDate) { return ($null -eq $Expected.CreationDate -and $null -eq $Actual.CreationDate) }
    return ([math]::Abs(($Expected.CreationDate - $Actual.CreationDate).TotalSeconds) -lt 1)
}

