<#
.SYNOPSIS
    The warm runner's PowerShell host: runs the host scripts of this folder on request, each in a
    fresh runspace, so that a host action does not wait for PowerShell to start.

.DESCRIPTION
    Started by the host worker (activities/host/warm-runner.ts) with the same flags as a script
    (-NoLogo -NoProfile -NonInteractive -ExecutionPolicy <policy> -File WarmHost.ps1), after the
    worker has checked this file against the hash manifest. It then serves one request at a time:

      it prints  SPAWNGUARD-WARM {"ready":true,"pid":<its PID>,"version":"<PowerShell version>"}
      it reads   {"id":"<id>","script":"StopProcess.ps1","sha256":"<hex>","request":"<base64 of the request JSON>"}
      it prints  SPAWNGUARD-WARM {"id":"<id>","exitCode":<n>,"stdout":"<base64>","stderr":"<base64>","workingSet":<bytes>}
                 or {"id":"<id>","refused":"script-tampered"|"invalid-request","message":"..."}

    One line each way; every line it prints for the worker starts with "SPAWNGUARD-WARM ", and the
    worker ignores anything else. An empty line or the end of standard input stops the host.

    Nothing of a request is ever run as code. The script is a plain file name of this folder,
    hashed here again (SHA-256 with CRLF read as LF, as powershell/manifest.json pins it) and
    compared with the hash the worker sent; the request is the value of the script's -Request
    parameter (base64, exactly what an analyst may pass by hand). Each request gets a runspace
    of its own, opened before the request arrives and disposed after it: nothing a script
    defines (variables, functions, imported modules) is seen by the next one. The script's
    output stream is its result document, its error stream its stderr, and its exit code the
    LASTEXITCODE its "exit" left in its runspace.

    Windows PowerShell 3.0 and later.

.PARAMETER Request
    Not used: the host reads its requests from standard input. Declared so that the host takes the
    same command line as every other script.

.EXAMPLE
    # What the worker does (by hand, for a look at the protocol):
    pwsh -NoProfile -File .\WarmHost.ps1
#>
[CmdletBinding()]
param([string]$Request)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$script:LinePrefix = 'SPAWNGUARD-WARM '
$script:ScriptNamePattern = '^[A-Za-z]+\.ps1$'
$script:IdPattern = '^[A-Za-z0-9-]{1,64}$'

function Test-WarmFullLanguage {
    <#
    .SYNOPSIS
        True when this session runs in Full Language mode (runspaces and .NET calls are allowed).
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    return ([string]$ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage')
}

function Write-WarmLine {
    <#
    .SYNOPSIS
        Prints one line for the worker: the prefix and the compressed JSON of a message.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][System.Collections.IDictionary]$Message)
    [Console]::Out.WriteLine($script:LinePrefix + (ConvertTo-Json -InputObject $Message -Depth 5 -Compress))
    [Console]::Out.Flush()
}

function ConvertTo-WarmBase64 {
    <#
    .SYNOPSIS
        Base64 of a text's UTF-8 bytes: responses stay ASCII whatever the console's code page.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Text)
    if ([string]::IsNullOrEmpty($Text)) { return '' }
    $utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
    return [System.Convert]::ToBase64String($utf8.GetBytes($Text))
}

function Get-WarmScriptHash {
    <#
    .SYNOPSIS
        The SHA-256 of a file as powershell/manifest.json pins it: lower-case hex, CRLF read as LF.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][string]$LiteralPath)
    # Latin-1 maps every byte to one character and back, so only the CRLF pairs change.
    $latin = [System.Text.Encoding]::GetEncoding(28591)
    $text = $latin.GetString([System.IO.File]::ReadAllBytes($LiteralPath)).Replace("`r`n", "`n")
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $digest = $sha.ComputeHash($latin.GetBytes($text))
    } finally {
        $sha.Dispose()
    }
    return ([System.BitConverter]::ToString($digest) -replace '-', '').ToLowerInvariant()
}

function New-WarmRunspace {
    <#
    .SYNOPSIS
        Opens the runspace the next request will run in: the default commands and the safety
        module already imported.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.Runspaces.Runspace])]
    param()
    # The execution policy the worker started this host with (-ExecutionPolicy) is the process's
    # (PSExecutionPolicyPreference): every runspace of the process resolves it the same way.
    $state = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $module = Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety'
    $state.ImportPSModule([string[]]@($module))
    $runspace = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspace($state)
    $runspace.Open()
    return $runspace
}

function New-WarmRefusal {
    <#
    .SYNOPSIS
        The response to a request this host will not run.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([AllowNull()][AllowEmptyString()][string]$Id, [Parameter(Mandatory = $true)][string]$Code, [Parameter(Mandatory = $true)][string]$Message)
    return [ordered]@{ id = $Id; refused = $Code; message = $Message }
}

function Invoke-WarmRequest {
    <#
    .SYNOPSIS
        Runs one request line in the given (fresh) runspace and returns the response; never throws.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][string]$Line, [Parameter(Mandatory = $true)][System.Management.Automation.Runspaces.Runspace]$Runspace)
    try {
        $message = ConvertFrom-Json -InputObject $Line
    } catch {
        return (New-WarmRefusal -Id $null -Code 'invalid-request' -Message 'The request line is not JSON.')
    }
    $id = ''
    $scriptName = ''
    $expected = ''
    $requestText = ''
    foreach ($field in @('id', 'script', 'sha256', 'request')) {
        if ($null -eq $message -or $null -eq $message.PSObject.Properties[$field] -or -not ($message.$field -is [string])) {
            return (New-WarmRefusal -Id $null -Code 'invalid-request' -Message ('The request has no string "' + $field + '".'))
        }
    }
    $id = [string]$message.id
    $scriptName = [string]$message.script
    $expected = [string]$message.sha256
    $requestText = [string]$message.request
    if ($id -notmatch $script:IdPattern) {
        return (New-WarmRefusal -Id $null -Code 'invalid-request' -Message 'The request id is not 1 to 64 letters, digits or dashes.')
    }
    # A plain file name of this folder: never a path, so a request cannot name another file.
    if ($scriptName -notmatch $script:ScriptNamePattern -or $scriptName -eq 'WarmHost.ps1') {
        return (New-WarmRefusal -Id $id -Code 'invalid-request' -Message ('Not a host script name: ' + $scriptName))
    }
    $path = Join-Path -Path $PSScriptRoot -ChildPath $scriptName
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        return (New-WarmRefusal -Id $id -Code 'invalid-request' -Message ('No such host script: ' + $scriptName))
    }
    $actual = Get-WarmScriptHash -LiteralPath $path
    if ($actual -ne $expected.ToLowerInvariant()) {
        return (New-WarmRefusal -Id $id -Code 'script-tampered' -Message ($scriptName + ' hashes to ' + $actual + ', not to the manifest''s ' + $expected))
    }

    $shell = [System.Management.Automation.PowerShell]::Create()
    $shell.Runspace = $Runspace
    $stdout = New-Object -TypeName System.Text.StringBuilder
    $stderr = New-Object -TypeName System.Text.StringBuilder
    $exitCode = 0
    # What the script writes to the console itself is its stdout, as in a process of its own; it
    # never reaches the host's own output, so it can never pass for a response.
    $hostOut = [Console]::Out
    $console = New-Object -TypeName System.IO.StringWriter
    try {
        [void]$shell.AddCommand($path).AddParameter('Request', $requestText)
        [Console]::SetOut($console)
        try {
            $output = $shell.Invoke()
        } catch {
            # A terminating error out of the script: what a PowerShell process would report with exit 1.
            $output = @()
            [void]$stderr.AppendLine($_.Exception.Message)
            $exitCode = 1
        } finally {
            [Console]::SetOut($hostOut)
        }
        [void]$stdout.Append($console.ToString())
        foreach ($item in $output) {
            if ($stdout.Length -gt 0 -and -not $stdout.ToString().EndsWith("`n")) { [void]$stdout.Append("`n") }
            [void]$stdout.Append([string]$item)
        }
        foreach ($record in $shell.Streams.Error) { [void]$stderr.AppendLine([string]$record) }
        $last = $Runspace.SessionStateProxy.GetVariable('LASTEXITCODE')
        if ($null -ne $last) { $exitCode = [int]$last }
    } finally {
        $shell.Dispose()
        $console.Dispose()
    }
    return [ordered]@{
        id         = $id
        exitCode   = $exitCode
        stdout     = (ConvertTo-WarmBase64 -Text $stdout.ToString())
        stderr     = (ConvertTo-WarmBase64 -Text $stderr.ToString())
        workingSet = [System.Environment]::WorkingSet
    }
}

function Invoke-WarmHost {
    <#
    .SYNOPSIS
        Serves requests from standard input until an empty line or its end; the host's main part.
    #>
    [CmdletBinding()]
    param()
    $next = New-WarmRunspace
    Write-WarmLine -Message ([ordered]@{ ready = $true; pid = $PID; version = [string]$PSVersionTable.PSVersion })
    while ($true) {
        $line = [Console]::In.ReadLine()
        if ([string]::IsNullOrEmpty($line)) { break }
        $runspace = $next
        $next = $null
        try {
            $response = Invoke-WarmRequest -Line $line -Runspace $runspace
        } finally {
            $runspace.Dispose()
        }
        Write-WarmLine -Message $response
        # The next request's runspace is opened while the worker reads this response.
        $next = New-WarmRunspace
    }
    if ($null -ne $next) { $next.Dispose() }
}

# Main guard: dot-sourcing the script (as the tests do) loads its functions and runs nothing.
if ($MyInvocation.InvocationName -ne '.') {
    # Constrained Language Mode blocks runspaces: refuse (exit 5); the worker then runs each script
    # in a process of its own, where the script itself refuses the same way.
    if (-not (Test-WarmFullLanguage)) {
        [Console]::Out.WriteLine($script:LinePrefix + '{"ready":false,"refused":"constrained-language"}')
        exit 5
    }
    Invoke-WarmHost
    exit 0
}
