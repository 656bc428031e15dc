<#
.SYNOPSIS
    Pester 5 tests of GetProcessTree.ps1, run under pwsh: the Windows seam (Win32_Process and
    its GetOwner method) is mocked, the script's request parsing, tree walk and output run.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'GetProcessTree.ps1'

    function New-OwnedProcess {

        <#

        .SYNOPSIS

            A fake Win32_Process whose GetOwner answer (the TestOwner note) the owner mock returns.

        #>

        [CmdletBinding()]

        param([Parameter(Mandatory = $true)][psobject]$Process, [AllowNull()][psobject]$Owner)
        $Process | Add-Member -MemberType NoteProperty -Name 'TestOwner' -Value $Owner
        return $Process
    }

    $bob = [pscustomobject]@{ User = 'bob'; Domain = 'CONTOSO' }
    # A Word macro chain: winlogon > explorer > WINWORD > cmd > powershell. old.exe names WINWORD's
    # PID as its parent but started before it: its real parent exited and the PID was reused.
    $script:Processes = @(
        (New-OwnedProcess -Owner ([pscustomobject]@{ User = 'SYSTEM'; Domain = 'NT AUTHORITY' }) -Process (New-TestProcess -ProcessId 300 -ParentProcessId 200 -Name 'winlogon.exe' -Path 'C:\Windows\System32\winlogon.exe' -Created (Get-Date -Date '2024-05-01T07:00:00Z') -SessionId 1)),
        (New-OwnedProcess -Owner $bob -Process (New-TestProcess -ProcessId 400 -ParentProcessId 300 -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe' -Created (Get-Date -Date '2024-05-01T08:00:00Z') -SessionId 1)),
        (New-OwnedProcess -Owner $bob -Process (New-TestProcess -ProcessId 500 -ParentProcessId 400 -Name 'WINWORD.EXE' -Path 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE' -CommandLine '"WINWORD.EXE" /n "C:\Users\bob\Downloads\invoice.docm"' -Created (Get-Date -Date '2024-05-01T09:00:00Z') -SessionId 1)),
        (New-OwnedProcess -Owner $bob -Process (New-TestProcess -ProcessId 600 -ParentProcessId 500 -Name 'cmd.exe' -Path 'C:\Windows\System32\cmd.exe' -Created (Get-Date -Date '2024-05-01T09:01:00Z') -SessionId 1)),
        (New-OwnedProcess -Owner $bob -Process (New-TestProcess -ProcessId 700 -ParentProcessId 600 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date -Date '2024-05-01T09:02:00Z') -SessionId 1)),
        (New-OwnedProcess -Owner $bob -Process (New-TestProcess -ProcessId 800 -ParentProcessId 500 -Name 'old.exe' -Path 'C:\Users\bob\old.exe' -Created (Get-Date -Date '2024-05-01T07:30:00Z') -SessionId 1)),
        # A protected process: no path, no command line, an owner GetOwner cannot read.
        (New-OwnedProcess -Owner $null -Process (New-TestProcess -ProcessId 900 -ParentProcessId 4 -Name 'Registry' -SessionId 0)),
        # A local account (GetOwner gives no domain) and a WMI-style DMTF creation date (UTC+2).
        (New-OwnedProcess -Owner ([pscustomobject]@{ User = 'kiosk'; Domain = '' }) -Process ([pscustomobject]@{ ProcessId = 1000; ParentProcessId = 1; Name = 'kiosk.exe'; ExecutablePath = 'C:\Kiosk\kiosk.exe'; CommandLine = 'kiosk.exe'; CreationDate = '20240501100000.000000+120'; SessionId = 2 }))
    )


    function Assert-ProcessTreeResult {


        <#


        .SYNOPSIS


            Checks a document against ProcessTreeResultSchema (common/host-contract.ts).


        #>


        [CmdletBinding()]


        param([Parameter(Mandatory = $true)][psobject]$Document)
        @($Document.PSObject.Properties.Name) | Should -Be @('script', 'ok', 'hostname', 'startedAt', 'finishedAt', 'results', 'errors')
        $Document.script | Should -Be 'GetProcessTree.ps1'
        $Document.ok | Should -BeOfType [bool]
        , $Document.results | Should -BeOfType [object[]]
        , $Document.errors | Should -BeOfType [object[]]
        foreach ($item in $Document.results) {
            @($item.PSObject.Properties.Name) | Should -Be @('pid', 'found', 'name', 'path', 'commandLine', 'creationTime', 'owner', 'sessionId', 'parentPid', 'parentChain', 'descendants')
            $item.pid | Should -BeOfType [long]
            $item.found | Should -BeOfType [bool]
            foreach ($name in @('name', 'path', 'commandLine', 'owner')) {
                if ($null -ne $item.$name) { $item.$name | Should -BeOfType [string] }
            }
            if ($null -ne $item.creationTime) { $item.creationTime | Should -Match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$' }
            if ($null -ne $item.sessionId) { $item.sessionId | Should -BeOfType [long] }
            if ($null -ne $item.parentPid) { $item.parentPid | Should -BeOfType [long] }
            , $item.parentChain | Should -BeOfType [object[]]
            , $item.descendants | Should -BeOfType [object[]]
            foreach ($ancestor in $item.parentChain) {
                @($ancestor.PSObject.Properties.Name) | Should -Be @('pid', 'name', 'path')
                $ancestor.pid | Should -BeOfType [long]
            }
            foreach ($descendant in $item.descendants) {
                @($descendant.PSObject.Properties.Name) | Should -Be @('pid', 'parentPid', 'name', 'path')
                $descendant.pid | Should -BeOfType [long]
                $descendant.parentPid | Should -BeOfType [long]
            }
        }
    }
}

Describe 'GetProcessTree.ps1' {
    BeforeEach {
        Set-TestProcessTable -Processes $script:Processes
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
        # The script itself asks for the owner (not the module), so this mock lives in the test's scope.
        Mock -CommandName Get-SpawnGuardProcessOwner -MockWith {
            $note = $PesterBoundParameters['Instance'].PSObject.Properties['TestOwner']
            if ($null -eq $note) { return $null }
            return $note.Value
        }
    }

    Context 'describing processes' {
        It 'reports a running process with its owner, ISO creation time, session, parent chain and descendants' {
            $request = ConvertTo-TestRequest -Body @{ processIds = @(500) }
            $output = @(& $script:Script -Request $request)
            $document = ConvertFrom-TestOutput -Output $output
            $LASTEXITCODE | Should -Be 0
            Assert-ProcessTreeResult -Document $document
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 1
            $word = $document.results[0]
            $word.pid | Should -Be 500
            $word.found | Should -BeTrue
            $word.name | Should -Be 'WINWORD.EXE'
            $word.path | Should -Be 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE'
            $word.commandLine | Should -Be '"WINWORD.EXE" /n "C:\Users\bob\Downloads\invoice.docm"'
            $word.creationTime | Should -Be '2024-05-01T09:00:00.0000000Z'
            $word.owner | Should -Be 'CONTOSO\bob'
            $word.sessionId | Should -Be 1
            $word.parentPid | Should -Be 400
            @($word.parentChain | ForEach-Object -Process { $_.pid }) | Should -Be @(400, 300)
            $word.parentChain[0].name | Should -Be 'explorer.exe'
            $word.parentChain[0].path | Should -Be 'C:\Windows\explorer.exe'
            @($word.descendants | ForEach-Object -Process { $_.pid }) | Should -Be @(600, 700)
            $word.descendants[1].parentPid | Should -Be 600
            $word.descendants[1].name | Should -Be 'powershell.exe'
        }

        It 'reports a PID that is not running as found = false with every fact null and empty lists' {
            $output = @(& $script:Script -ProcessIds '9999')
            $document = ConvertFrom-TestOutput -Output $output
            $LASTEXITCODE | Should -Be 0
            Assert-ProcessTreeResult -Document $document
            $gone = $document.results[0]
            $gone.pid | Should -Be 9999
            $gone.found | Should -BeFalse
            foreach ($name in @('name', 'path', 'commandLine', 'creationTime', 'owner', 'sessionId', 'parentPid')) { $gone.$name | Should -BeNullOrEmpty }
            $output[0] | Should -Match '"parentChain":\[\],"descendants":\[\]'
        }

        It 'answers several PIDs in the order asked, found and not found mixed' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '700,9999', '300')
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.pid }) | Should -Be @(700, 9999, 300)
            @($document.results | ForEach-Object -Process { $_.found }) | Should -Be @($true, $false, $true)
            @($document.results[0].parentChain | ForEach-Object -Process { $_.pid }) | Should -Be @(600, 500, 400, 300)
            $document.results[2].owner | Should -Be 'NT AUTHORITY\SYSTEM'
            # winlogon's parent (200) has exited: the chain ends there.
            @($document.results[2].parentChain).Length | Should -Be 0
        }

        It 'ends the parent chain at a parent started after its child (a reused PID), and keeps such orphans out of the descendants' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '800,500')
            $orphan = $document.results[0]
            $orphan.found | Should -BeTrue
            $orphan.parentPid | Should -Be 500
            @($orphan.parentChain).Length | Should -Be 0
            @($document.results[1].descendants | ForEach-Object -Process { $_.pid }) | Should -Not -Contain 800
        }

        It 'reports an owner it cannot read, an empty path and an empty command line as null' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '900')
            $LASTEXITCODE | Should -Be 0
            $registry = $document.results[0]
            $registry.found | Should -BeTrue
            $registry.name | Should -Be 'Registry'
            $registry.owner | Should -BeNullOrEmpty
            $registry.path | Should -BeNullOrEmpty
            $registry.commandLine | Should -BeNullOrEmpty
            $registry.sessionId | Should -Be 0
        }

        It 'reports the owner of a local account without a domain, and converts a WMI DMTF creation date to UTC' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '1000')
            $document.results[0].owner | Should -Be 'kiosk'
            $document.results[0].creationTime | Should -Be '2024-05-01T08:00:00.0000000Z'
        }

        It 'takes hexadecimal PIDs as an analyst types them' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '0x1F4, 0x2bc')
            $LASTEXITCODE | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.pid }) | Should -Be @(500, 700)
            $document.results[0].found | Should -BeTrue
        }

        It 'reports the largest PID Windows can hand out without overflowing' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ processIds = @(4294967295) }))
            $LASTEXITCODE | Should -Be 0
            $document.results[0].pid | Should -Be 4294967295
            $document.results[0].found | Should -BeFalse
        }

        It 'accepts 64 PIDs, the most a request may name' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds ((1001..1064) -join ','))
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 64
        }
    }

    Context 'failures' {
        It 'answers <Case> with exit code 2 and an invalid-request error' -TestCases @(
            @{ Case = 'a path instead of a PID'; Body = $null; Arguments = @{ ProcessIds = 'C:\Windows\System32\cmd.exe' } },
            @{ Case = 'text that is no PID'; Body = $null; Arguments = @{ ProcessIds = 'winword' } },
            @{ Case = '65 PIDs'; Body = $null; Arguments = @{ ProcessIds = ((1..65) -join ',') } },
            @{ Case = 'no PID at all'; Body = $null; Arguments = @{} },
            @{ Case = 'both -Request and -ProcessIds'; Body = @{ processIds = @(500) }; Arguments = @{ ProcessIds = '500' } },
            @{ Case = '65 PIDs in a request'; Body = @{ processIds = @(1..65) }; Arguments = @{} },
            @{ Case = 'an empty list of PIDs'; Body = @{ processIds = @() }; Arguments = @{} },
            @{ Case = 'a negative PID'; Body = @{ processIds = @(-1) }; Arguments = @{} },
            @{ Case = 'a PID as text'; Body = @{ processIds = @('500') }; Arguments = @{} },
            @{ Case = 'a fractional PID'; Body = @{ processIds = @(1.5) }; Arguments = @{} },
            @{ Case = 'a PID above 32 bits'; Body = @{ processIds = @(4294967296) }; Arguments = @{} }
        ) {
            # The request is encoded here: the helpers are not loaded while Pester discovers the cases.
            if ($null -ne $Body) { $Arguments['Request'] = ConvertTo-TestRequest -Body $Body }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @Arguments)
            $LASTEXITCODE | Should -Be 2
            Assert-ProcessTreeResult -Document $document
            $document.ok | Should -BeFalse
            $document.errors[0].code | Should -Be 'invalid-request'
            @($document.results).Length | Should -Be 0
        }

        It 'answers a Win32_Process query that is denied with exit code 4' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access denied') }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '500')
            $LASTEXITCODE | Should -Be 4
            $document.errors[0].code | Should -Be 'access-denied'
            @($document.results).Length | Should -Be 0
        }

        It 'answers a WMI failure with exit code 1 (worth retrying)' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { throw 'The RPC server is unavailable.' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '500')
            $LASTEXITCODE | Should -Be 1
            $document.errors[0].code | Should -Be 'failure'
            $document.errors[0].message | Should -Be 'The RPC server is unavailable.'
        }
    }
}

Describe 'GetProcessTree.ps1 on a real Windows host' {
    It 'describes the PowerShell process running the test, its owner read through CIM' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: Win32_Process through CIM and its GetOwner method' }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds ([string]$PID))
        $LASTEXITCODE | Should -Be 0
        Assert-ProcessTreeResult -Document $document
        $document.results[0].found | Should -BeTrue
        $document.results[0].owner | Should -Be ([System.Security.Principal.WindowsIdentity]::GetCurrent().Name)
        $document.results[0].path | Should -Be ([System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName)
    }
}
