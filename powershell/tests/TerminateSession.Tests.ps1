<#
.SYNOPSIS
    Pester 5 tests of TerminateSession.ps1, run under pwsh: the WTS API seam (enumeration, logoff,
    the worker's own session id) is mocked, the script's matching, refusals and results run.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'TerminateSession.ps1'

    # The machine as WTSEnumerateSessions sees it: the services session, alice at the console,
    # bob twice over RDP (one disconnected), carol over RDP from an IPv6 address, a Window Manager
    # account, and a listener without a user.
    $script:Sessions = @(
        (New-TestWtsSession -SessionId 0 -WinStationName 'Services' -ProtocolType 0 -State 4),
        (New-TestWtsSession -SessionId 1 -UserName 'alice' -DomainName 'CONTOSO' -WinStationName 'Console' -ProtocolType 0),
        (New-TestWtsSession -SessionId 2 -UserName 'bob' -DomainName 'CONTOSO' -ClientAddress '10.0.0.5'),
        (New-TestWtsSession -SessionId 3 -UserName 'bob' -DomainName 'CONTOSO' -State 4 -ClientAddress '192.0.2.7'),
        (New-TestWtsSession -SessionId 4 -UserName 'carol' -DomainName 'CONTOSO' -ClientAddress '2001:db8::7'),
        (New-TestWtsSession -SessionId 5 -UserName 'DWM-5' -DomainName 'Window Manager' -WinStationName 'Window Manager' -ProtocolType 0),
        (New-TestWtsSession -SessionId 65536 -WinStationName 'RDP-Tcp' -State 6)
    )


    function Assert-TerminateSessionResult {


        <#


        .SYNOPSIS


            Checks a document against TerminateSessionResultSchema (common/host-contract.ts).


        #>


        [CmdletBinding()]


        param([Parameter(Mandatory = $true)][psobject]$Document)
        @($Document.PSObject.Properties.Name) | Should -Be @('script', 'ok', 'hostname', 'startedAt', 'finishedAt', 'results', 'errors')
        $Document.script | Should -Be 'TerminateSession.ps1'
        $Document.ok | Should -BeOfType [bool]
        $Document.startedAt | Should -Match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$'
        $Document.finishedAt | Should -Match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$'
        , $Document.results | Should -BeOfType [object[]]
        , $Document.errors | Should -BeOfType [object[]]
        foreach ($item in $Document.results) {
            @($item.PSObject.Properties.Name) | Should -Be @('user', 'sessionId', 'sessionType', 'state', 'clientAddress', 'clientAddressIsClientReported', 'status', 'reason', 'message')
            $item.user | Should -BeOfType [string]
            if ($null -ne $item.sessionId) { $item.sessionId | Should -BeOfType [long] }
            if ($null -ne $item.sessionType) { $item.sessionType | Should -BeIn @('console', 'rdp', 'other') }
            if ($null -ne $item.state) { $item.state | Should -BeOfType [string] }
            if ($null -ne $item.clientAddress) { $item.clientAddress | Should -BeOfType [string] }
            $item.clientAddressIsClientReported | Should -BeTrue
            $item.status | Should -BeIn @('done', 'already-done', 'skipped', 'failed')
            if ($null -ne $item.reason) { $item.reason | Should -BeOfType [string] }
            if ($null -ne $item.message) { $item.message | Should -BeOfType [string] }
        }
        foreach ($entry in $Document.errors) {
            @($entry.PSObject.Properties.Name) | Should -Be @('code', 'message')
            $entry.code | Should -BeOfType [string]
            $entry.message | Should -BeOfType [string]
        }
    }
}

Describe 'TerminateSession.ps1' {
    BeforeEach {
        Set-TestWtsSession -ConsoleSessionId 1 -Sessions $script:Sessions
        # Mock bodies run in the module's scope: they reach the test's sessions through the helpers.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWtsSession -MockWith { Get-TestWtsSession }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { 0 }
        # The host worker runs as SYSTEM in the services session. The script itself calls this seam
        # function (not the module), so its mock lives in the test's scope, without -ModuleName.
        Mock -CommandName Get-SpawnGuardCurrentSessionId -MockWith { 0 }
    }

    Context 'logging users off' {
        It 'logs off every session of the user by its numeric id and reports each one against the contract' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 2
            $document.results[0].user | Should -Be 'CONTOSO\bob'
            $document.results[0].sessionId | Should -Be 2
            $document.results[0].sessionType | Should -Be 'rdp'
            $document.results[0].state | Should -Be 'active'
            $document.results[0].clientAddress | Should -Be '10.0.0.5'
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -BeNullOrEmpty
            $document.results[1].sessionId | Should -Be 3
            $document.results[1].state | Should -Be 'disconnected'
            $document.results[1].status | Should -Be 'done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 3 }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 2 -Exactly
            # One enumeration to match, then one re-check right before each logoff.
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWtsSession -Times 3 -Exactly
        }

        It 'does not log off a session id that was reused by another user between enumeration and logoff' {
            $reused = @(
                (New-TestWtsSession -SessionId 1 -UserName 'alice' -DomainName 'CONTOSO' -WinStationName 'Console' -ProtocolType 0),
                (New-TestWtsSession -SessionId 4 -UserName 'mallory' -DomainName 'CONTOSO' -ClientAddress '10.0.0.9')
            )
            Add-TestWtsSnapshot -ConsoleSessionId 1 -Sessions $reused
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].sessionId | Should -Be 4
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].reason | Should -Be 'session-gone'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'reports a session that ended between enumeration and logoff as already done' {
            Add-TestWtsSnapshot -ConsoleSessionId 1 -Sessions @((New-TestWtsSession -SessionId 1 -UserName 'alice' -DomainName 'CONTOSO' -WinStationName 'Console' -ProtocolType 0))
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol')
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].message | Should -Be 'The session ended before the logoff.'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'accepts <Form> and logs off only bob''s sessions' -TestCases @(
            @{ Form = 'DOMAIN\user'; UserName = 'CONTOSO\bob' },
            @{ Form = 'a UPN'; UserName = 'bob@contoso.com' },
            @{ Form = 'a plain name'; UserName = 'bob' },
            @{ Form = 'a name in another case'; UserName = 'contoso\BOB' }
        ) {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames $UserName)
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(2, 3)
            @($document.results | Where-Object -FilterScript { $_.status -eq 'done' }).Length | Should -Be 2
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 2 -Exactly
        }

        It 'takes several comma-separated users at once' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\carol, alice' -IncidentId 'INC-7')
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(1, 4)
            $document.results[0].sessionType | Should -Be 'console'
        }

        It 'matches the NetBIOS domain a session reports against the DNS name of the request' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'carol'; domain = 'contoso.local' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].sessionId | Should -Be 4
            $document.results[0].status | Should -Be 'done'
        }

        It 'matches a DNS domain a session reports against the NetBIOS name of the request' {
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @((New-TestWtsSession -SessionId 7 -UserName 'dave' -DomainName 'corp.contoso.com' -ClientAddress '10.1.1.1'))
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CORP\dave')
            $document.results[0].sessionId | Should -Be 7
            $document.results[0].status | Should -Be 'done'
        }

        It 'leaves the same user name in another domain alone' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'FABRIKAM\bob')
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 0
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'takes .\user as the local account of this machine, not a domain account of the same name' {
            $machine = [System.Environment]::MachineName
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @(
                (New-TestWtsSession -SessionId 2 -UserName 'bob' -DomainName 'CONTOSO' -ClientAddress '10.0.0.5'),
                (New-TestWtsSession -SessionId 8 -UserName 'bob' -DomainName $machine -ClientAddress '10.0.0.8')
            )
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames '.\bob')
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 1
            $document.results[0].sessionId | Should -Be 8
            $document.results[0].user | Should -Be ($machine + '\bob')
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 }
        }

        It 'answers a user without any session with no results and exit code 0' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'zoe')
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 0
            @($document.errors).Length | Should -Be 0
            $document.PSObject.Properties['results'].Value.GetType().IsArray | Should -BeTrue
        }
    }

    Context 'the attacker''s session (the one hosting the offending process)' {
        BeforeEach {
            # evil.exe (PID 4312) runs in bob's session 3; bob also has session 2 elsewhere.
            Set-TestProcessTable -Processes @(
                (New-TestProcess -ProcessId 4312 -Name 'evil.exe' -Path 'C:\Users\bob\AppData\Local\Temp\evil.exe' -SessionId 3),
                (New-TestProcess -ProcessId 5000 -Name 'notepad.exe' -Path 'C:\Windows\System32\notepad.exe' -SessionId 4)
            )
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
        }

        It 'logs off only the session hosting the offending process, not the user''s other sessions' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); processes = @(@{ pid = 4312; imagePath = 'C:\Users\bob\AppData\Local\Temp\evil.exe'; startTime = '2024-05-01T08:00:00Z' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            @($document.results).Length | Should -Be 1
            $document.results[0].sessionId | Should -Be 3
            $document.results[0].status | Should -Be 'done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 3 }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly
        }

        It 'takes the offending process from an analyst as PID=path and logs off only its session' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\bob' -ProcessIdentifiers '4312=C:\Users\bob\AppData\Local\Temp\evil.exe')
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 1
            $document.results[0].sessionId | Should -Be 3
            $document.results[0].status | Should -Be 'done'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly
        }

        It 'refuses an analyst process given by path alone (a path names no session), logging nothing off' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\bob' -ProcessIdentifiers 'C:\Users\bob\AppData\Local\Temp\evil.exe')
            $LASTEXITCODE | Should -Be 2
            $document.errors[0].code | Should -Be 'invalid-request'
            $document.errors[0].message | Should -Match 'PID=path'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'never logs off a targeted session of another user: skipped as user-mismatch' {
            # PID 5000 runs in carol's session 4: the request names bob.
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); processes = @(@{ pid = 5000; imagePath = 'C:\Windows\System32\notepad.exe' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            @($document.results).Length | Should -Be 1
            $document.results[0].sessionId | Should -Be 4
            $document.results[0].user | Should -Be 'CONTOSO\carol'
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'user-mismatch'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'takes no session from a reused PID, and logs nothing off when no session is left' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); processes = @(@{ pid = 4312; imagePath = 'C:\Tools\other.exe' }, @{ pid = 777; imagePath = 'C:\Tools\gone.exe' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            @($document.results).Length | Should -Be 1
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'no-target-session'
            $document.results[0].sessionId | Should -BeNullOrEmpty
            $document.results[0].message | Should -Match 'pid-reused'
            $document.results[0].message | Should -Match 'process 777 is not running'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'logs off a session named by id; the remote IP only narrows it and stays client-reported' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); sessionIds = @(2); remoteIp = '10.0.0.5' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(2)
            $document.results[0].clientAddressIsClientReported | Should -BeTrue
            # The same session with an address the client did not report: narrowed away, nothing done.
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); sessionIds = @(2); remoteIp = '192.0.2.7' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            @($document.results).Length | Should -Be 0
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 3 }
        }

        It 'lets a name without a domain match the user of the session hosting the process, in whatever domain' {
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @(
                (New-TestWtsSession -SessionId 2 -UserName 'bob' -DomainName 'CONTOSO' -ClientAddress '10.0.0.5'),
                (New-TestWtsSession -SessionId 3 -UserName 'bob' -DomainName 'FABRIKAM' -ClientAddress '10.9.9.9')
            )
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); processes = @(@{ pid = 4312; imagePath = 'C:\Users\bob\AppData\Local\Temp\evil.exe' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(3)
            $document.results[0].user | Should -Be 'FABRIKAM\bob'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 }
        }

        It 'reports a targeted session that has already ended as already done, by its id' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\bob' -SessionIds 9)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            $document.results[0].sessionId | Should -Be 9
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].reason | Should -Be 'session-gone'
            $document.results[0].sessionType | Should -BeNullOrEmpty
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'lists only the targeted sessions with listOnly (validation), not the user''s other sessions' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob'; domain = 'CONTOSO' }); sessionIds = @(3, 4, 9); listOnly = $true }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(3)
            $document.results[0].reason | Should -Be 'list-only'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'refuses a name without a domain that has sessions in two domains (ambiguous-user), logging nothing off' {
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @(
                (New-TestWtsSession -SessionId 2 -UserName 'bob' -DomainName 'CONTOSO' -ClientAddress '10.0.0.5'),
                (New-TestWtsSession -SessionId 3 -UserName 'bob' -DomainName 'FABRIKAM' -ClientAddress '10.9.9.9')
            )
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'bob')
            $LASTEXITCODE | Should -Be 2
            Assert-TerminateSessionResult -Document $document
            $document.ok | Should -BeFalse
            $document.results[0].reason | Should -Be 'ambiguous-user'
            $document.errors[0].message | Should -Match '^ambiguous-user: '
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
            # Naming the domain resolves it.
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'FABRIKAM\bob')
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(3)
        }

        It 'answers a session id out of range or a process that is not an object with exit code 2' {
            foreach ($body in @(
                    @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); sessionIds = @(70000) },
                    @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); sessionIds = @('3') },
                    @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); processes = @(4312) }
                )) {
                $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body $body))
                $LASTEXITCODE | Should -Be 2
                $document.errors[0].code | Should -Be 'invalid-request'
            }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }
    }

    Context 'filters' {
        It 'leaves console sessions alone with -RdpOnly' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'alice,bob' -RdpOnly)
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(2, 3)
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 1 }
        }

        It 'acts only on the session whose client reported the given IPv4 address, and marks the address client-reported' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); remoteIp = '192.0.2.7'; rdpOnly = $true }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 1
            $document.results[0].sessionId | Should -Be 3
            $document.results[0].clientAddress | Should -Be '192.0.2.7'
            $document.results[0].clientAddressIsClientReported | Should -BeTrue
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 3 }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 }
        }

        It 'compares IPv6 addresses as addresses, not as text' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol' -RemoteIp '2001:0DB8:0:0:0:0:0:7')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].sessionId | Should -Be 4
            $document.results[0].clientAddress | Should -Be '2001:db8::7'
            $document.results[0].status | Should -Be 'done'
        }

        It 'matches no session without a client address when an address is given' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'alice' -RemoteIp '10.0.0.5')
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 0
        }

        It 'never matches a client address that is not an IP, nor a session without a domain when a domain is named' {
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @(
                (New-TestWtsSession -SessionId 6 -UserName 'eve' -DomainName 'CONTOSO' -ClientAddress 'not-an-address'),
                (New-TestWtsSession -SessionId 7 -UserName 'eve' -ClientAddress '10.0.0.7')
            )
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'eve' -RemoteIp '10.0.0.7' -ListOnly)
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(7)
            $document.results[0].user | Should -Be 'eve'
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\eve' -ListOnly)
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(6)
            $document.results[0].clientAddress | Should -Be 'not-an-address'
        }

        It 'only lists with listOnly, console sessions included, and logs nothing off' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(@{ name = 'alice' }, @{ name = 'bob'; domain = 'contoso.com' }); listOnly = $true }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            Assert-TerminateSessionResult -Document $document
            @($document.results | ForEach-Object -Process { $_.sessionId }) | Should -Be @(1, 2, 3)
            @($document.results | Where-Object -FilterScript { $_.status -eq 'skipped' -and $_.reason -eq 'list-only' }).Length | Should -Be 3
            $document.results[0].clientAddress | Should -BeNullOrEmpty
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }
    }

    Context 'refusals' {
        It 'refuses the service account <UserName> with exit code 3 and logs nothing off' -TestCases @(
            @{ UserName = 'SYSTEM' },
            @{ UserName = 'NT AUTHORITY\NETWORK SERVICE' },
            @{ UserName = 'NT AUTHORITY\alice' },
            @{ UserName = 'CONTOSO\WEB01$' }
        ) {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames ('bob,' + $UserName))
            $LASTEXITCODE | Should -Be 3
            Assert-TerminateSessionResult -Document $document
            $document.ok | Should -BeFalse
            @($document.results).Length | Should -Be 1
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'service-account'
            $document.results[0].sessionId | Should -BeNullOrEmpty
            $document.errors[0].code | Should -Be 'service-account'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'refuses a session owned by a service account that a plain name matched' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'DWM-5,bob')
            $LASTEXITCODE | Should -Be 3
            $refused = @($document.results | Where-Object -FilterScript { $_.sessionId -eq 5 })
            $refused[0].reason | Should -Be 'service-account'
            $refused[0].user | Should -Be 'Window Manager\DWM-5'
            @($document.results | Where-Object -FilterScript { $_.reason -eq 'request-refused' }).Length | Should -Be 2
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'refuses session 0 even when a user name matches it, and logs off none of that user''s sessions' {
            Set-TestWtsSession -ConsoleSessionId 1 -Sessions @(
                (New-TestWtsSession -SessionId 0 -UserName 'bob' -DomainName 'CONTOSO' -WinStationName 'Services' -ProtocolType 0),
                (New-TestWtsSession -SessionId 2 -UserName 'bob' -DomainName 'CONTOSO' -ClientAddress '10.0.0.5')
            )
            # A worker started elsewhere (an analyst's console): session 0 is refused for what it is.
            Mock -CommandName Get-SpawnGuardCurrentSessionId -MockWith { 1 }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'bob')
            $LASTEXITCODE | Should -Be 3
            $document.results[0].sessionId | Should -Be 0
            $document.results[0].reason | Should -Be 'worker-session'
            $document.results[1].sessionId | Should -Be 2
            $document.results[1].reason | Should -Be 'request-refused'
            @($document.errors).Length | Should -Be 1
            $document.errors[0].code | Should -Be 'worker-session'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'refuses the session the worker itself runs in' {
            Mock -CommandName Get-SpawnGuardCurrentSessionId -MockWith { 3 }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'CONTOSO\bob')
            $LASTEXITCODE | Should -Be 3
            $document.ok | Should -BeFalse
            ($document.results | Where-Object -FilterScript { $_.sessionId -eq 3 }).reason | Should -Be 'worker-session'
            ($document.results | Where-Object -FilterScript { $_.sessionId -eq 2 }).status | Should -Be 'skipped'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }
    }

    Context 'WTSLogoffSession errors' {
        It 'reports access denied (Win32 error 5) as failed with exit code 4' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { 5 }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol')
            $LASTEXITCODE | Should -Be 4
            $document.ok | Should -BeFalse
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'access-denied'
            $document.results[0].message | Should -Match '\(5\)$'
        }

        It 'reports a session that ended inside WTSLogoffSession (error <Code>) as already done' -TestCases @(@{ Code = 7022 }, @{ Code = 7007 }) {
            Set-TestValue -Name 'LogoffError' -Value $Code
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { Get-TestValue -Name 'LogoffError' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].reason | Should -Be 'session-gone'
        }

        It 'reports any other Win32 error as a failure worth retrying' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -MockWith { 1460 }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'carol')
            $LASTEXITCODE | Should -Be 1
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'logoff-failed'
            $document.results[0].message | Should -Match '^WTSLogoffSession failed: .*\(1460\)$'
        }

        It 'keeps going after a logoff call that throws, and reports that session as failed' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -ParameterFilter { $PesterBoundParameters['SessionId'] -eq 2 } -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'denied') }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames 'bob')
            $LASTEXITCODE | Should -Be 4
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'access-denied'
            $document.results[1].status | Should -Be 'done'
        }
    }

    Context 'invalid requests' {
        It 'answers <Case> with exit code 2, an invalid-request error and no logoff' -TestCases @(
            @{ Case = 'a remote address that is not an IP'; Body = $null; Arguments = @{ UserNames = 'bob'; RemoteIp = '10.0.0.300' } },
            @{ Case = 'a name with a second backslash'; Body = $null; Arguments = @{ UserNames = 'CONTOSO\bob\x' } },
            @{ Case = 'a name with a second @'; Body = $null; Arguments = @{ UserNames = 'bob@x@contoso.com' } },
            @{ Case = 'only commas'; Body = $null; Arguments = @{ UserNames = ' , ' } },
            @{ Case = 'no user at all'; Body = $null; Arguments = @{ RdpOnly = $true } },
            @{ Case = 'both -Request and -UserNames'; Arguments = @{ UserNames = 'bob' }; Body = @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }) } },
            @{ Case = 'a JSON name holding a path separator'; Arguments = @{}; Body = @{ incidentId = 'INC-1'; users = @(@{ name = '..\bob' }) } },
            @{ Case = 'a JSON name holding an @'; Arguments = @{}; Body = @{ incidentId = 'INC-1'; users = @(@{ name = 'bob@contoso.com' }) } },
            @{ Case = '17 users'; Arguments = @{}; Body = @{ incidentId = 'INC-1'; users = @(1..17 | ForEach-Object -Process { @{ name = 'user' + $_ } }) } },
            @{ Case = 'a user that is not an object'; Arguments = @{}; Body = @{ incidentId = 'INC-1'; users = @('bob') } },
            @{ Case = 'no incident id'; Arguments = @{}; Body = @{ users = @(@{ name = 'bob' }) } },
            @{ Case = 'listOnly that is not a boolean'; Arguments = @{}; Body = @{ incidentId = 'INC-1'; users = @(@{ name = 'bob' }); listOnly = 'yes' } }
        ) {
            # The request is encoded here: the helpers are not loaded while Pester discovers the cases.
            if ($null -ne $Body) { $Arguments['Request'] = ConvertTo-TestRequest -Body $Body }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @Arguments)
            $LASTEXITCODE | Should -Be 2
            Assert-TerminateSessionResult -Document $document
            $document.ok | Should -BeFalse
            $document.errors[0].code | Should -Be 'invalid-request'
            @($document.results).Length | Should -Be 0
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Invoke-SpawnGuardWtsLogoff -Times 0 -Exactly
        }

        It 'accepts 16 users, the most a request may name' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; users = @(1..15 | ForEach-Object -Process { @{ name = 'user' + $_ } }) + @(@{ name = 'carol' }) }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].sessionId | Should -Be 4
        }
    }
}

Describe 'TerminateSession.ps1 on a real Windows host' {
    It 'enumerates the real sessions through the WTS API, the services session 0 included' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: WTSEnumerateSessions P/Invoke into wtsapi32.dll' }
        $real = Get-SpawnGuardWtsSession
        @($real.Sessions | Where-Object -FilterScript { $_.SessionId -eq 0 }).Length | Should -Be 1
        foreach ($session in $real.Sessions) { $session.State | Should -BeIn (0..9) }
    }

    It 'lists (never logs off) the sessions of the user running the test' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the WTS API and a logon session of the current user' }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -UserNames ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name) -ListOnly)
        $LASTEXITCODE | Should -Be 0
        Assert-TerminateSessionResult -Document $document
        @($document.results | Where-Object -FilterScript { $_.reason -ne 'list-only' }).Length | Should -Be 0
    }
}
