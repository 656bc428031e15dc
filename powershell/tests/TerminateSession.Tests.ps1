<#
.SYNOPSIS
    Pester 5 tests of TerminateSession.ps1 with the WTS API wrappers mocked (Windows only).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety.psm1') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'TerminateSession.ps1'
    # Session ids far from the one this test runs in (the script never logs its own session off).
    $script:Sessions = @(
        [pscustomobject]@{ SessionId = 9001; UserName = 'alice'; DomainName = 'CONTOSO'; State = 'active'; SessionType = 'console'; ClientAddress = $null },
        [pscustomobject]@{ SessionId = 9002; UserName = 'bob'; DomainName = 'CONTOSO'; State = 'active'; SessionType = 'rdp'; ClientAddress = '10.0.0.5' },
        [pscustomobject]@{ SessionId = 9003; UserName = 'bob'; DomainName = 'CONTOSO'; State = 'disconnected'; SessionType = 'rdp'; ClientAddress = '192.0.2.7' },
        [pscustomobject]@{ SessionId = 9004; UserName = 'DWM-4'; DomainName = 'Window Manager'; State = 'active'; SessionType = 'other'; ClientAddress = $null }
    )
}

BeforeEach {
    Mock -CommandName Get-SpawnGuardSession -MockWith { $script:Sessions }
    Mock -CommandName Stop-SpawnGuardSession -MockWith { 0 }
}

Describe 'TerminateSession.ps1' {
    It 'logs off every session of the user by its numeric id and reports the client-reported address' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'contoso.local' }) }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        @($document.results).Length | Should -Be 2
        $document.results[0].sessionId | Should -Be 9002
        $document.results[0].status | Should -Be 'done'
        $document.results[0].clientAddress | Should -Be '10.0.0.5'
        $document.results[0].clientAddressIsClientReported | Should -BeTrue
        Should -Invoke -CommandName Stop-SpawnGuardSession -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 9002 }
        Should -Invoke -CommandName Stop-SpawnGuardSession -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 9003 }
    }

    It 'acts only on the session whose client reported the given address' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\bob' -RemoteIp '192.0.2.7')
        @($document.results).Length | Should -Be 1
        $document.results[0].sessionId | Should -Be 9003
    }

    It 'leaves console sessions alone with -RdpOnly' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'alice' -RdpOnly)
        $LASTEXITCODE | Should -Be 0
        @($document.results).Length | Should -Be 0
        Should -Invoke -CommandName Stop-SpawnGuardSession -Times 0 -Exactly
    }

    It 'only lists with listOnly' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'alice' }); listOnly = $true }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $document.results[0].sessionId | Should -Be 9001
        $document.results[0].reason | Should -Be 'list-only'
        Should -Invoke -CommandName Stop-SpawnGuardSession -Times 0 -Exactly
    }

    It 'refuses service accounts, by name and by the session they own, and logs nothing off' {
        foreach ($user in @('NT AUTHORITY\SYSTEM', 'DWM-4')) {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames $user)
            $LASTEXITCODE | Should -Be 3
            $document.results[0].reason | Should -Be 'service-account'
        }
        Should -Invoke -CommandName Stop-SpawnGuardSession -Times 0 -Exactly
    }

    It 'reports a session that ended before the logoff as already done' {
        Mock -CommandName Stop-SpawnGuardSession -MockWith { 7022 }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'alice')
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'already-done'
    }

    It 'answers a user name with a path separator as an invalid request' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = '..\bob' }) }
        $null = & $script:Script -Request $request
        $LASTEXITCODE | Should -Be 2
    }
}
