<#
.SYNOPSIS
    Pester 5 tests of WarmHost.ps1's request handling, run under pwsh: the script is dot-sourced
    (its main guard runs nothing) and each request runs in a real fresh runspace. The worker's
    side of the protocol is tested in test/host/warm-runner.test.ts.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    . (Join-Path -Path $script:Root -ChildPath 'WarmHost.ps1')
    $script:Manifest = Get-Content -LiteralPath (Join-Path -Path $script:Root -ChildPath 'manifest.json') -Raw | ConvertFrom-Json

    function ConvertTo-TestLine {
        <#
        .SYNOPSIS
            A request line as the worker writes it.
        #>
        [CmdletBinding()]
        [OutputType([string])]
        param([string]$Id = 'req-1', [string]$Script = 'GetProcessTree.ps1', [string]$Hash, [string]$Body = '{"processIds":[]}')
        if (-not $PSBoundParameters.ContainsKey('Hash')) { $Hash = [string]$script:Manifest.files.$Script }
        $request = [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($Body))
        return (ConvertTo-Json -InputObject ([ordered]@{ id = $Id; script = $Script; sha256 = $Hash; request = $request }) -Depth 5 -Compress)
    }

    function ConvertFrom-TestBase64 {
        <#
        .SYNOPSIS
            The text of a response's base64 field.
        #>
        [CmdletBinding()]
        [OutputType([string])]
        param([AllowEmptyString()][string]$Text)
        return [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($Text))
    }
}

Describe 'WarmHost.ps1' {
    BeforeEach {
        $script:Runspace = New-WarmRunspace
    }
    AfterEach {
        $script:Runspace.Dispose()
    }

    It 'hashes a script exactly as powershell/manifest.json pins it (CRLF read as LF)' {
        foreach ($name in @('StopProcess.ps1', 'WarmHost.ps1', 'FetchPersistenceEntries.ps1')) {
            Get-WarmScriptHash -LiteralPath (Join-Path -Path $script:Root -ChildPath $name) | Should -Be ([string]$script:Manifest.files.$name)
        }
        $crlf = Join-Path -Path $TestDrive -ChildPath 'crlf.ps1'
        $lf = Join-Path -Path $TestDrive -ChildPath 'lf.ps1'
        [System.IO.File]::WriteAllText($crlf, "a`r`nb`r`n")
        [System.IO.File]::WriteAllText($lf, "a`nb`n")
        Get-WarmScriptHash -LiteralPath $crlf | Should -Be (Get-WarmScriptHash -LiteralPath $lf)
    }

    It 'runs a host script in the runspace it is given, with the safety module already there, and returns its exit code and output' {
        $shell = [System.Management.Automation.PowerShell]::Create()
        try {
            $shell.Runspace = $script:Runspace
            [void]$shell.AddCommand('Get-Module')
            @($shell.Invoke() | ForEach-Object -Process { $_.Name }) | Should -Contain 'SpawnGuard.Safety'
        } finally {
            $shell.Dispose()
        }
        $response = Invoke-WarmRequest -Line (ConvertTo-TestLine -Body '{"processIds":"not a list"}') -Runspace $script:Runspace
        $response.id | Should -Be 'req-1'
        $response.exitCode | Should -Be 2
        $document = ConvertFrom-TestBase64 -Text $response.stdout | ConvertFrom-Json
        $document.script | Should -Be 'GetProcessTree.ps1'
        $document.ok | Should -BeFalse
        @($document.errors)[0].code | Should -Be 'invalid-request'
        $response.workingSet | Should -BeGreaterThan 0
    }

    It 'refuses <Case> without running anything' -ForEach @(
        @{ Case = 'a line that is not JSON'; Line = 'not json'; Code = 'invalid-request' },
        @{ Case = 'a path instead of a script name'; Line = '{"id":"a","script":"..\\tests\\x.ps1","sha256":"00","request":""}'; Code = 'invalid-request' },
        @{ Case = 'the host itself'; Line = '{"id":"a","script":"WarmHost.ps1","sha256":"00","request":""}'; Code = 'invalid-request' },
        @{ Case = 'a script that does not exist'; Line = '{"id":"a","script":"Nothing.ps1","sha256":"00","request":""}'; Code = 'invalid-request' },
        @{ Case = 'a field that is not a string'; Line = '{"id":"a","script":"StopProcess.ps1","sha256":"00","request":5}'; Code = 'invalid-request' },
        @{ Case = 'an id that is not plain'; Line = '{"id":"a b;c","script":"StopProcess.ps1","sha256":"00","request":""}'; Code = 'invalid-request' },
        @{ Case = 'a hash that differs from the file'; Line = '{"id":"a","script":"StopProcess.ps1","sha256":"0000000000000000000000000000000000000000000000000000000000000000","request":""}'; Code = 'script-tampered' }
    ) {
        param($Line, $Code)
        $response = Invoke-WarmRequest -Line $Line -Runspace $script:Runspace
        $response.refused | Should -Be $Code
        $response.Contains('exitCode') | Should -BeFalse
        $script:Runspace.SessionStateProxy.GetVariable('LASTEXITCODE') | Should -BeNullOrEmpty
    }

    It 'prints each message on one line with its prefix' {
        $writer = New-Object -TypeName System.IO.StringWriter
        $saved = [Console]::Out
        [Console]::SetOut($writer)
        try {
            Write-WarmLine -Message ([ordered]@{ id = 'x'; text = "two`nlines" })
        } finally {
            [Console]::SetOut($saved)
        }
        $writer.ToString() | Should -Be ('SPAWNGUARD-WARM {"id":"x","text":"two\nlines"}' + [Environment]::NewLine)
    }
}
