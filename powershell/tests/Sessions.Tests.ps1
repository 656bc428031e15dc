<#
.SYNOPSIS
    Pester 5 tests of logon sessions (SpawnGuard.Safety/Sessions.ps1): the mapping of what the WTS
    API returns into session records, and logging one off. The WTS seam functions are mocked;
    the real enumeration and logoff run only in the tests tagged Windows.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
}

Describe 'Get-SpawnGuardSession' {
    BeforeEach {
        # What WTSEnumerateSessions / WTSQuerySessionInformation give on a terminal server: the
        # services session, the console, an RDP session, a disconnected RDP session whose station
        # name is gone, the RDP listener and a state the table does not know.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWtsSession -MockWith {
            [pscustomobject]@{
                ConsoleSessionId = 1
                Sessions         = @(
                    [pscustomobject]@{ SessionId = 0; WinStationName = 'Services'; State = 4; UserName = ''; DomainName = ''; ProtocolType = 0; ClientAddress = $null },
                    [pscustomobject]@{ SessionId = 1; WinStationName = 'Console'; State = 0; UserName = 'alice'; DomainName = 'CONTOSO'; ProtocolType = 0; ClientAddress = $null },
                    [pscustomobject]@{ SessionId = 2; WinStationName = 'RDP-Tcp#3'; State = 0; UserName = 'bob'; DomainName = 'CONTOSO'; ProtocolType = 2; ClientAddress = '10.0.0.5' },
                    [pscustomobject]@{ SessionId = 3; WinStationName = ''; State = 4; UserName = 'bob'; DomainName = 'CONTOSO'; ProtocolType = 2; ClientAddress = '2001:db8::7' },
                    [pscustomobject]@{ SessionId = 65536; WinStationName = 'RDP-Tcp'; State = 6; UserName = $null; DomainName = $null; ProtocolType = -1; ClientAddress = $null },
                    [pscustomobject]@{ SessionId = 5; WinStationName = 'Other'; State = 42; UserName = 'carol'; DomainName = 'CONTOSO'; ProtocolType = 0; ClientAddress = $null }
                )
            }
        }
        $script:Sessions = Get-SpawnGuardSession
    }

    It 'returns every session with its numeric id, user and domain' {
        @($script:Sessions | ForEach-Object -Process { $_.SessionId }) | Should -Be @(0, 1, 2, 3, 65536, 5)
        $script:Sessions[2].UserName | Should -Be 'bob'
        $script:Sessions[2].DomainName | Should -Be 'CONTOSO'
        $script:Sessions[4].UserName | Should -Be ''
    }

    It 'calls the active console session console, RDP sessions rdp (by protocol or station name) and the rest other' {
        @($script:Sessions | ForEach-Object -Process { $_.SessionType }) | Should -Be @('other', 'console', 'rdp', 'rdp', 'rdp', 'other')
    }

    It 'names the WTS connect states, and unknown for a state outside the table' {
        @($script:Sessions | ForEach-Object -Process { $_.State }) | Should -Be @('disconnected', 'active', 'active', 'disconnected', 'listen', 'unknown')
    }

    It 'passes the client-reported IPv4 and IPv6 addresses through' {
        $script:Sessions[2].ClientAddress | Should -Be '10.0.0.5'
        $script:Sessions[3].ClientAddress | Should -Be '2001:db8::7'
        $script:Sessions[1].ClientAddress | Should -BeNullOrEmpty
    }

    It 'calls the Console station console when no session is attached to the console' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWtsSession -MockWith {
            [pscustomobject]@{ ConsoleSessionId = -1; Sessions = @([pscustomobject]@{ SessionId = 7; WinStationName = 'Console'; State = 1; UserName = ''; DomainName = ''; ProtocolType = 0; ClientAddress = $null }) }
        }
        $sessions = Get-SpawnGuardSession
        , $sessions | Should -BeOfType [System.Array]
        $sessions.Length | Should -Be 1
        $sessions[0].SessionType | Should -Be 'console'
        $sessions[0].State | Should -Be 'connected'
    }
}

Describe 'Stop-SpawnGuardSession' {
    BeforeEach {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { return 0 }
    }

    It 'logs the session off by its numeric id and returns 0' {
        Stop-SpawnGuardSession -SessionId 2 | Should -Be 0
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 }
    }

    It 'returns the Win32 error code when the logoff fails' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { return 5 }
        Stop-SpawnGuardSession -SessionId 2 | Should -Be 5
    }

    It 'never takes session 0 (services) or a value that is not a session id' {
        { Stop-SpawnGuardSession -SessionId 0 } | Should -Throw
        { Stop-SpawnGuardSession -SessionId 65536 } | Should -Throw
        { Stop-SpawnGuardSession -SessionId 'bob' } | Should -Throw
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
    }

    It 'logs nothing off with -WhatIf' {
        Stop-SpawnGuardSession -SessionId 2 -WhatIf | Should -Be 0
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
    }
}

Describe 'The real WTS API' -Tag 'Windows' {
    It 'enumerates the sessions of this machine, this one included' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: wtsapi32.dll (WTSEnumerateSessions)' }
        $sessions = Get-SpawnGuardSession
        $sessions.Length | Should -BeGreaterThan 0
        @($sessions | ForEach-Object -Process { $_.SessionId }) | Should -Contain ([System.Diagnostics.Process]::GetCurrentProcess().SessionId)
        @($sessions | Where-Object -FilterScript { $_.State -eq 'unknown' }).Length | Should -Be 0
    }

    It 'answers a logoff of a session id that does not exist with a Win32 error code, not 0' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: wtsapi32.dll (WTSLogoffSession)' }
        $unused = 65000
        @(Get-SpawnGuardSession | ForEach-Object -Process { $_.SessionId }) | Should -Not -Contain $unused
        Invoke-SpawnGuardWtsLogoff -SessionId $unused | Should -Not -Be 0
    }
}
