<#
.SYNOPSIS
    Pester 5 tests of how a request reaches a script: UTF-8 JSON on standard input ('-Request -',
    what the host worker sends) or base64 of it (an analyst by hand). The standard-input cases start
    a real PowerShell process and write real bytes to its stdin.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    # This PowerShell's own executable: pwsh (or pwsh.exe) beside its engine, powershell.exe on 5.1.
    $script:Pwsh = $null
    foreach ($name in @('pwsh', 'pwsh.exe', 'powershell.exe')) {
        $candidate = Join-Path -Path $PSHOME -ChildPath $name
        if ($null -eq $script:Pwsh -and (Test-Path -LiteralPath $candidate -PathType Leaf)) { $script:Pwsh = $candidate }
    }

    function Invoke-ScriptWithInput {
        <#
        .SYNOPSIS
            Runs a script in a new PowerShell process with -Request - and the given bytes on its
            standard input; returns its exit code and what it printed.
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][string]$Script, [Parameter(Mandatory = $true)][AllowEmptyCollection()][byte[]]$Bytes)
        $start = New-Object -TypeName System.Diagnostics.ProcessStartInfo
        $start.FileName = $script:Pwsh
        foreach ($argument in @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', (Join-Path -Path $script:Root -ChildPath $Script), '-Request', '-')) {
            $start.ArgumentList.Add($argument)
        }
        $start.UseShellExecute = $false
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($start)
        $errors = $process.StandardError.ReadToEndAsync()
        $output = $process.StandardOutput.ReadToEndAsync()
        try {
            $process.StandardInput.BaseStream.Write($Bytes, 0, $Bytes.Length)
            $process.StandardInput.Close()
        } catch [System.IO.IOException] {
            # The script stopped reading (its request was too large): its answer says why.
            $null = $_
        }
        $process.WaitForExit()
        return [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $output.Result; Errors = $errors.Result }
    }
}

Describe 'A request on standard input' {
    It 'is read as UTF-8 JSON, non-ASCII text included, whatever the console code page' {
        $json = '{"paths":["C:\\Users\\Public\\' + [char]0x00E4 + [char]0x4E2D + '.exe"]}'
        $run = Invoke-ScriptWithInput -Script 'GetFileEnrichment.ps1' -Bytes ([System.Text.Encoding]::UTF8.GetBytes($json))
        $run.ExitCode | Should -Be 0
        $document = ConvertFrom-TestOutput -Output @($run.Output.Trim())
        $document.results[0].path | Should -BeExactly ('C:\Users\Public\' + [char]0x00E4 + [char]0x4E2D + '.exe')
    }

    It 'refuses bytes that are not UTF-8 with exit code 2 and a JSON error, and runs nothing' {
        $run = Invoke-ScriptWithInput -Script 'GetFileEnrichment.ps1' -Bytes ([byte[]]@(0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D))
        $run.ExitCode | Should -Be 2
        $document = ConvertFrom-TestOutput -Output @($run.Output.Trim())
        $document.errors[0].code | Should -Be 'invalid-request'
        @($document.results).Length | Should -Be 0
    }

    It 'refuses an empty standard input as an invalid request' {
        $run = Invoke-ScriptWithInput -Script 'GetFileEnrichment.ps1' -Bytes ([byte[]]@())
        $run.ExitCode | Should -Be 2
        (ConvertFrom-TestOutput -Output @($run.Output.Trim())).errors[0].code | Should -Be 'invalid-request'
    }

    It 'refuses a request larger than 8 MiB without reading it all' {
        $bytes = [System.Text.Encoding]::ASCII.GetBytes('{"paths":["C:\\' + ('a' * 9437184) + '"]}')
        $run = Invoke-ScriptWithInput -Script 'GetFileEnrichment.ps1' -Bytes $bytes
        $run.ExitCode | Should -Be 2
        $document = ConvertFrom-TestOutput -Output @($run.Output.Trim())
        $document.errors[0].message | Should -Match 'larger than 8388608 bytes'
    }
}

Describe 'A request as a base64 argument (an analyst by hand)' {
    It 'is still accepted' {
        $run = & (Join-Path -Path $script:Root -ChildPath 'GetFileEnrichment.ps1') -Request (ConvertTo-TestRequest -Body @{ paths = @('relative.exe') })
        $LASTEXITCODE | Should -Be 0
        (ConvertFrom-TestOutput -Output @($run)).errors[0].code | Should -Be 'path-unavailable'
    }

    It 'refuses anything that is neither - nor base64, naming both forms' {
        $run = & (Join-Path -Path $script:Root -ChildPath 'GetFileEnrichment.ps1') -Request '{"paths":["x"]}'
        $LASTEXITCODE | Should -Be 2
        (ConvertFrom-TestOutput -Output @($run)).errors[0].message | Should -Match "must be '-' \(JSON on standard input\) or base64"
    }
}

Describe 'PowerShell in Constrained Language Mode (AppLocker/WDAC script enforcement)' {
    It 'makes <Script> refuse before doing anything: one JSON document, code constrained-language, exit code 5' -TestCases @(
        @{ Script = 'StopProcess.ps1' },
        @{ Script = 'StopAndQuarantineProcess.ps1' },
        @{ Script = 'TerminateSession.ps1' },
        @{ Script = 'GetFileEnrichment.ps1' }
    ) {
        param($Script)
        # A wrapper that drops its own session to ConstrainedLanguage, as script enforcement does,
        # then runs the script as the worker would.
        $wrapper = Join-Path -Path $TestDrive -ChildPath 'constrained.ps1'
        $lines = @(
            '$ExecutionContext.SessionState.LanguageMode = ''ConstrainedLanguage''',
            ('& ''' + (Join-Path -Path $script:Root -ChildPath $Script) + ''' -Request ''eyJpbmNpZGVudElkIjoiSU5DLTEifQ=='''),
            'exit $LASTEXITCODE'
        )
        Set-Content -LiteralPath $wrapper -Value $lines -Encoding ASCII
        $start = New-Object -TypeName System.Diagnostics.ProcessStartInfo
        $start.FileName = $script:Pwsh
        foreach ($argument in @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $wrapper)) { $start.ArgumentList.Add($argument) }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $process = [System.Diagnostics.Process]::Start($start)
        $errors = $process.StandardError.ReadToEndAsync()
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $process.ExitCode | Should -Be 5
        $errors.Result | Should -BeNullOrEmpty
        $document = ConvertFrom-TestOutput -Output @($output.Trim())
        $document.script | Should -Be $Script
        $document.ok | Should -BeFalse
        @($document.results).Length | Should -Be 0
        $document.errors[0].code | Should -Be 'constrained-language'
        $document.errors[0].message | Should -Match 'ConstrainedLanguage mode'
    }
}
