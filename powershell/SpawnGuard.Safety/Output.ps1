<#
.SYNOPSIS
    The one JSON document every script prints, and its exit code.

.DESCRIPTION
    Exit codes: 0 ok, 1 retryable failure, 2 invalid request, 3 protected target refused, 4 access denied.
#>

function Initialize-SpawnGuardOutput {
    <#
    .SYNOPSIS
        Prepares the one JSON document: UTF-8 output, and no ETS Count/value wrapping of arrays
        (Windows PowerShell 3.0-5.1 can serialize an array as {"value":[...],"Count":n}).
    #>
    [CmdletBinding()]
    param()
    try {
        Remove-TypeData -TypeName 'System.Array' -ErrorAction Stop
    } catch {
        $null = $_
    }
    try {
        [Console]::OutputEncoding = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    } catch {
        # No console attached (a test host): the caller receives the string through the pipeline.
        $null = $_
    }
}

function New-SpawnGuardResult {
    <#
    .SYNOPSIS
        Starts the result document a script prints at the end.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][string]$Script)
    return [pscustomobject]@{
        Script    = $Script
        Hostname  = [System.Environment]::MachineName
        StartedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
        Results   = New-Object -TypeName System.Collections.ArrayList
        Errors    = New-Object -TypeName System.Collections.ArrayList
    }
}

function Add-SpawnGuardError {
    <#
    .SYNOPSIS
        Adds one { code, message } to the result's errors.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Result,
        [Parameter(Mandatory = $true)][string]$Code,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Message
    )
    [void]$Result.Errors.Add([ordered]@{ code = $Code; message = $Message })
}

function Add-SpawnGuardResultItem {
    <#
    .SYNOPSIS
        Adds one item (an ordered dictionary) to the result's results.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][System.Collections.IDictionary]$Item)
    [void]$Result.Results.Add($Item)
}

function Test-SpawnGuardFullLanguage {
    <#
    .SYNOPSIS
        True when this PowerShell runs in FullLanguage mode.
    .DESCRIPTION
        Under Constrained Language Mode (AppLocker or WDAC script enforcement) Add-Type and most
        .NET types are blocked, so the scripts could only half-work: every script checks this
        first and refuses (Write-SpawnGuardLanguageRefusal, exit code 5) before doing anything.
        A host that enforces script rules must allow these scripts (signed by a publisher its
        policy trusts, see powershell/README.md); they then run in FullLanguage.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    return ([string]$ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage')
}

function Write-SpawnGuardLanguageRefusal {
    <#
    .SYNOPSIS
        The result document of a script that refused to run in a restricted language mode, built
        only with what Constrained Language Mode allows (hashtables, arrays, ConvertTo-Json).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][string]$Script)
    $now = (Get-Date).ToUniversalTime().ToString('o')
    $hostname = [string]$env:COMPUTERNAME
    if ($hostname.Length -eq 0) { $hostname = 'unknown' }
    $message = 'PowerShell runs in ' + [string]$ExecutionContext.SessionState.LanguageMode + ' mode (AppLocker/WDAC script enforcement): nothing was done. Allow the signed spawnguard scripts in the policy so they run in FullLanguage.'
    $document = [ordered]@{
        script     = $Script
        ok         = $false
        hostname   = $hostname
        startedAt  = $now
        finishedAt = $now
        results    = @()
        errors     = @([ordered]@{ code = 'constrained-language'; message = $message })
    }
    Write-Output -InputObject (ConvertTo-Json -InputObject $document -Depth 5 -Compress)
}

function Get-SpawnGuardExitCode {
    <#
    .SYNOPSIS
        0 ok, 2 invalid request, 4 access denied, 3 protected target refused, 1 other failure.
        Errors whose code ends in '-unavailable' are partial-collection notes and do not fail a
        run. (5, PowerShell in Constrained Language Mode, is decided before anything else runs.)
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][psobject]$Result)
    $codes = New-Object -TypeName System.Collections.ArrayList
    $failed = $false
    foreach ($entry in $Result.Errors) {
        if ($entry.code -match $script:PartialErrorPattern) { continue }
        [void]$codes.Add($entry.code)
        $failed = $true
    }
    foreach ($item in $Result.Results) {
        $status = $null
        $reason = $null
        if ($item.Contains('status')) { $status = $item['status'] }
        if ($item.Contains('reason')) { $reason = $item['reason'] }
        if ($status -eq 'failed') {
            $failed = $true
            [void]$codes.Add($reason)
        }
        if ($status -eq 'skipped') { [void]$codes.Add($reason) }
    }
    if ($codes -contains 'invalid-request') { return 2 }
    foreach ($reason in $script:ProtectedReasons) {
        if ($codes -contains $reason) { return 3 }
    }
    if ($codes -contains 'access-denied') { return 4 }
    if ($failed) { return 1 }
    return 0
}

function Write-SpawnGuardResult {
    <#
    .SYNOPSIS
        Writes the one JSON document (script, ok, hostname, startedAt, finishedAt, results,
        errors) to the output. results and errors are object[] inside the document, so a list of
        one element stays a list.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][psobject]$Result, [Parameter(Mandatory = $true)][int]$ExitCode)
    $document = [ordered]@{
        script     = $Result.Script
        ok         = ($ExitCode -eq 0)
        hostname   = $Result.Hostname
        startedAt  = $Result.StartedAt
        finishedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
        results    = [object[]]$Result.Results.ToArray()
        errors     = [object[]]$Result.Errors.ToArray()
    }
    # Depth 10 covers the deepest result (a process tree entry inside results); the default of 2
    # would silently truncate it to type names.
    $json = ConvertTo-Json -InputObject $document -Depth 10 -Compress
    Write-Output -InputObject $json
}
