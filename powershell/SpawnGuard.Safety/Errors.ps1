<#
.SYNOPSIS
    Typed errors: an exception carries a machine-readable spawnguard code.

.DESCRIPTION
    Each code maps to an exit code in Output.ps1 (Get-SpawnGuardExitCode).
#>

function New-SpawnGuardException {
    <#
    .SYNOPSIS
        An exception carrying a machine-readable spawnguard error code in its Data.
    #>
    [CmdletBinding()]
    [OutputType([System.Exception])]
    param(
        [Parameter(Mandatory = $true)][string]$Code,
        [Parameter(Mandatory = $true)][string]$Message
    )
    $exception = New-Object -TypeName System.InvalidOperationException -ArgumentList $Message
    $exception.Data['SpawnGuardCode'] = $Code
    return $exception
}

function Test-SpawnGuardAccessDenied {
    <#
    .SYNOPSIS
        True when an error record is an access-denied failure (Win32 error 5 or UnauthorizedAccess).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord)
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception) {
        if ($exception -is [System.UnauthorizedAccessException]) { return $true }
        if ($exception -is [System.ComponentModel.Win32Exception] -and $exception.NativeErrorCode -eq 5) { return $true }
        $exception = $exception.InnerException
    }
    return ($ErrorRecord.CategoryInfo.Category -eq [System.Management.Automation.ErrorCategory]::PermissionDenied)
}

function Get-SpawnGuardErrorCode {
    <#
    .SYNOPSIS
        The spawnguard code of a caught error: its own code, 'access-denied', or 'failure'.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord)
    $exception = $ErrorRecord.Exception
    if ($null -ne $exception -and $exception.Data.Contains('SpawnGuardCode')) {
        return [string]$exception.Data['SpawnGuardCode']
    }
    if (Test-SpawnGuardAccessDenied -ErrorRecord $ErrorRecord) { return 'access-denied' }
    return 'failure'
}

function Test-SpawnGuardMissingObjectError {
    <#
    .SYNOPSIS
        True when an error record says the object asked for does not exist: a COM call that failed
        with ERROR_FILE_NOT_FOUND or ERROR_PATH_NOT_FOUND (0x80070002, 0x80070003), as the Task
        Scheduler answers for a task or folder that is not there.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][System.Management.Automation.ErrorRecord]$ErrorRecord)
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception) {
        if ($exception -is [System.Runtime.InteropServices.COMException] -and @(-2147024894, -2147024893) -contains $exception.ErrorCode) { return $true }
        $exception = $exception.InnerException
    }
    return $false
}
