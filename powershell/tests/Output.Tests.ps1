<#
.SYNOPSIS
    Pester 5 tests of the one JSON document every script prints and of its exit code
    (SpawnGuard.Safety/Output.ps1), and of typed errors (Errors.ps1). Pure logic, run under pwsh.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force

    function New-ResultWith {
        <#
        .SYNOPSIS
            A result document holding the given items and one error per code.
        #>
        [CmdletBinding()]
        param([System.Collections.IDictionary[]]$Items = @(), [string[]]$ErrorCodes = @())
        $result = New-SpawnGuardResult -Script 'Test.ps1'
        foreach ($item in $Items) { Add-SpawnGuardResultItem -Result $result -Item $item }
        foreach ($code in $ErrorCodes) { Add-SpawnGuardError -Result $result -Code $code -Message ('about ' + $code) }
        return $result
    }
}

Describe 'Typed errors' {
    It 'carries its spawnguard code through a throw' {
        try {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request is missing targets.')
        } catch {
            Get-SpawnGuardErrorCode -ErrorRecord $_ | Should -Be 'invalid-request'
            $_.Exception.Message | Should -Be 'Request is missing targets.'
        }
    }

    It 'recognizes access denied from Win32 error 5, UnauthorizedAccessException (also inner) and the PermissionDenied category' {
        $records = @(
            (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList 5), 'x', ([System.Management.Automation.ErrorCategory]::NotSpecified), $null),
            (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.InvalidOperationException -ArgumentList 'outer', (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'inner')), 'x', ([System.Management.Automation.ErrorCategory]::NotSpecified), $null),
            (New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.Exception -ArgumentList 'no'), 'x', ([System.Management.Automation.ErrorCategory]::PermissionDenied), $null)
        )
        foreach ($record in $records) {
            Test-SpawnGuardAccessDenied -ErrorRecord $record | Should -BeTrue
            Get-SpawnGuardErrorCode -ErrorRecord $record | Should -Be 'access-denied'
        }
    }

    It 'calls any other error a failure (Win32 error 2 is not access denied)' {
        $notFound = New-Object -TypeName System.Management.Automation.ErrorRecord -ArgumentList (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList 2), 'x', ([System.Management.Automation.ErrorCategory]::ObjectNotFound), $null
        Test-SpawnGuardAccessDenied -ErrorRecord $notFound | Should -BeFalse
        Get-SpawnGuardErrorCode -ErrorRecord $notFound | Should -Be 'failure'
    }
}

Describe 'Get-SpawnGuardExitCode' {
    It 'is 0 for a clean run, for already-done items and for skips that are not refusals' {
        Get-SpawnGuardExitCode -Result (New-ResultWith) | Should -Be 0
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'done' }, [ordered]@{ status = 'already-done'; reason = 'not-found' }, [ordered]@{ status = 'skipped'; reason = 'pid-reused' })) | Should -Be 0
    }

    It 'is 0 when the only errors are partial-collection notes ending in -unavailable' {
        Get-SpawnGuardExitCode -Result (New-ResultWith -ErrorCodes @('wmi-subscription-unavailable', 'scheduled-tasks-unavailable')) | Should -Be 0
    }

    It 'is 1 for a failed item or any other error' {
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'failed'; reason = 'still-running' })) | Should -Be 1
        Get-SpawnGuardExitCode -Result (New-ResultWith -ErrorCodes @('failure')) | Should -Be 1
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ note = 'an item without a status' }) -ErrorCodes @('wmi-unavailable', 'failure')) | Should -Be 1
    }

    It 'is 2 for an invalid request, ahead of every other code' {
        Get-SpawnGuardExitCode -Result (New-ResultWith -ErrorCodes @('invalid-request')) | Should -Be 2
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'skipped'; reason = 'protected-process' }, [ordered]@{ status = 'failed'; reason = 'access-denied' }) -ErrorCodes @('invalid-request')) | Should -Be 2
    }

    It 'is 3 for a protected target, by an item reason or an error code, ahead of access denied' {
        foreach ($reason in @('protected-pid', 'protected-process', 'shared-host', 'worker-process', 'powershell-by-path', 'powershell-host', 'service-account', 'worker-session')) {
            Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'skipped'; reason = $reason })) | Should -Be 3 -Because $reason
        }
        Get-SpawnGuardExitCode -Result (New-ResultWith -ErrorCodes @('worker-process')) | Should -Be 3
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'failed'; reason = 'access-denied' }, [ordered]@{ status = 'skipped'; reason = 'protected-pid' })) | Should -Be 3
    }

    It 'is 4 for access denied' {
        Get-SpawnGuardExitCode -Result (New-ResultWith -Items @([ordered]@{ status = 'failed'; reason = 'access-denied' })) | Should -Be 4
        Get-SpawnGuardExitCode -Result (New-ResultWith -ErrorCodes @('access-denied')) | Should -Be 4
    }
}

Describe 'Write-SpawnGuardResult' {
    BeforeAll {
        Initialize-SpawnGuardOutput
    }

    It 'prints exactly one string holding the whole document, ok only for exit code 0' {
        $result = New-ResultWith -Items @([ordered]@{ status = 'done' }) -ErrorCodes @('wmi-unavailable')
        $printed = @(Write-SpawnGuardResult -Result $result -ExitCode 0)
        $document = ConvertFrom-TestOutput -Output $printed
        $document.script | Should -Be 'Test.ps1'
        $document.ok | Should -BeTrue
        $document.hostname | Should -Be ([System.Environment]::MachineName)
        $document.errors[0].code | Should -Be 'wmi-unavailable'
        $document.errors[0].message | Should -Be 'about wmi-unavailable'
        (ConvertFrom-TestOutput -Output @(Write-SpawnGuardResult -Result $result -ExitCode 1)).ok | Should -BeFalse
    }

    It 'keeps one-element results, errors and nested lists as JSON arrays, and empty ones as []' {
        $result = New-ResultWith -Items @([ordered]@{ pid = 1; terminatedPids = [object[]]@(1) }) -ErrorCodes @('failure')
        $json = @(Write-SpawnGuardResult -Result $result -ExitCode 1)[0]
        $json | Should -Match '"results":\[\{'
        $json | Should -Match '"errors":\[\{'
        $json | Should -Match '"terminatedPids":\[1\]'
        $document = ConvertFrom-Json -InputObject $json
        , $document.results | Should -BeOfType [System.Array]
        , $document.results[0].terminatedPids | Should -BeOfType [System.Array]
        $empty = @(Write-SpawnGuardResult -Result (New-ResultWith) -ExitCode 0)[0]
        $empty | Should -Match '"results":\[\],"errors":\[\]'
    }

    It 'keeps a deeply nested item whole instead of truncating it to type names' {
        $deep = [ordered]@{ level1 = [ordered]@{ level2 = [ordered]@{ level3 = [ordered]@{ level4 = [ordered]@{ level5 = [ordered]@{ leaf = 'evil.exe' } } } } } }
        $document = ConvertFrom-TestOutput -Output @(Write-SpawnGuardResult -Result (New-ResultWith -Items @($deep)) -ExitCode 0)
        $document.results[0].level1.level2.level3.level4.level5.leaf | Should -Be 'evil.exe'
    }

    It 'keeps non-ASCII text intact' {
        $path = 'C:\Users\J' + [char]0x00FC + 'rgen\' + [char]0x0444 + [char]0x0430 + [char]0x0439 + [char]0x043B + [char]0x20AC + '.exe'
        $document = ConvertFrom-TestOutput -Output @(Write-SpawnGuardResult -Result (New-ResultWith -Items @([ordered]@{ imagePath = $path })) -ExitCode 0)
        $document.results[0].imagePath | Should -Be $path
    }

    It 'writes its own times and the items'' dates as ISO-8601 UTC strings' {
        $item = [ordered]@{ startTime = (ConvertTo-SpawnGuardIsoDate -Date (New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 10, 0, 0, ([System.DateTimeKind]::Utc))) }
        $json = @(Write-SpawnGuardResult -Result (New-ResultWith -Items @($item)) -ExitCode 0)[0]
        $json | Should -Match '"startTime":"2024-05-01T10:00:00\.0000000Z"'
        $json | Should -Match '"startedAt":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z"'
        $json | Should -Match '"finishedAt":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z"'
    }
}
