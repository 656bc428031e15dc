<#
.SYNOPSIS
    Builders shared by the Pester tests: requests as the host worker sends them, fake
    Win32_Process records, and the parse of what a script printed.

.DESCRIPTION
    Pester 5, Windows only (Invoke-Pester -Path powershell\tests). The scripts themselves are
    invoked from the test files, not from here: a script run from inside this module would not
    see the tests' mocks.
#>

Set-StrictMode -Version 2.0

function ConvertTo-TestRequest {
    <#
    .SYNOPSIS
        The -Request argument for a request body: base64 of UTF-8 JSON, as the runner sends it.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][hashtable]$Body)
    $json = ConvertTo-Json -InputObject $Body -Depth 8 -Compress
    return [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($json))
}

function New-TestProcess {
    <#
    .SYNOPSIS
        A fake Win32_Process instance with the properties the scripts read.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][int64]$ProcessId,
        [Parameter(Mandatory = $true)][string]$Name,
        [int64]$ParentProcessId = 1,
        [string]$Path = '',
        [string]$CommandLine = '',
        [datetime]$Created = (Get-Date -Date '2024-05-01T08:00:00Z'),
        [int64]$SessionId = 1
    )
    return [pscustomobject]@{
        ProcessId       = $ProcessId
        ParentProcessId = $ParentProcessId
        Name            = $Name
        ExecutablePath  = $Path
        CommandLine     = $CommandLine
        CreationDate    = $Created
        SessionId       = $SessionId
    }
}

function ConvertFrom-TestOutput {
    <#
    .SYNOPSIS
        Parses what a script printed, which must be exactly one string holding one JSON document.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowNull()][AllowEmptyCollection()][object[]]$Output)
    if ($null -eq $Output -or $Output.Length -ne 1 -or -not ($Output[0] -is [string])) {
        throw 'A script must print exactly one string: its JSON document.'
    }
    return (ConvertFrom-Json -InputObject $Output[0])
}

Export-ModuleMember -Function @('ConvertTo-TestRequest', 'New-TestProcess', 'ConvertFrom-TestOutput')
