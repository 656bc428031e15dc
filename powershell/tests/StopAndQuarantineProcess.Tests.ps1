<#
.SYNOPSIS
    Pester 5 tests of StopAndQuarantineProcess.ps1, run end to end under pwsh on real files: Windows
    paths are mapped into TestDrive at the seam, so hashing, the move, the manifests and File.Replace
    really run. Win32_Process, Stop-Process, Authenticode and the ACL calls (the Windows seam) are mocked.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'StopAndQuarantineProcess.ps1'
    $script:RestoreScript = Join-Path -Path $script:Root -ChildPath 'RestoreQuarantinedFile.ps1'
    $script:SavedSystemRoot = $env:SystemRoot
    $script:SavedProgramData = $env:ProgramData
    $env:SystemRoot = 'C:\Windows'
    $env:ProgramData = 'C:\ProgramData'
    $script:EvilStart = Get-Date -Date '2024-05-01T10:00:00Z'
    $script:EvilContent = 'MZ evil payload'
    $script:EvilHash = Get-TestSha256 -Content $script:EvilContent
    $script:Quarantine = 'D:\Quarantine'
    $script:MicrosoftSubject = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'
    $script:ContosoSubject = 'CN=Contoso Ltd, O=Contoso Ltd, L=Seattle, S=Washington, C=US'
    # The machine as the script sees it: this PowerShell under the host worker (node.exe), evil.exe
    # with a child, Word (signed by Microsoft), a Contoso tool, a second node.exe (the worker's own
    # image), another PowerShell, and a System32 file whose signature cannot be read.
    $script:Processes = @(
        (New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'node.exe' -Path 'C:\Program Files\nodejs\node.exe'),
        (New-TestProcess -ProcessId $PID -ParentProcessId 900 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date)),
        (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:EvilStart),
        (New-TestProcess -ProcessId 4400 -ParentProcessId 4321 -Name 'dropper.exe' -Path 'C:\Users\Public\dropper.exe' -Created $script:EvilStart.AddSeconds(1)),
        (New-TestProcess -ProcessId 4500 -ParentProcessId 1 -Name 'copy.exe' -Path 'C:\Users\alice\AppData\Local\Temp\copy.exe'),
        (New-TestProcess -ProcessId 5000 -ParentProcessId 1 -Name 'WINWORD.EXE' -Path 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE'),
        (New-TestProcess -ProcessId 5100 -ParentProcessId 1 -Name 'agent.exe' -Path 'C:\Program Files\Contoso\agent.exe'),
        (New-TestProcess -ProcessId 5200 -ParentProcessId 1 -Name 'node.exe' -Path 'C:\Program Files\nodejs\node.exe'),
        (New-TestProcess -ProcessId 5300 -ParentProcessId 1 -Name 'oddity.exe' -Path 'C:\Windows\System32\oddity.exe'),
        (New-TestProcess -ProcessId 5310 -ParentProcessId 1 -Name 'oddity.exe' -Path 'C:\Users\Public\oddity.exe'),
        (New-TestProcess -ProcessId 5400 -ParentProcessId 1 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe')
    )
    $script:Files = @(
        'C:\Users\Public\evil.exe', 'C:\Users\Public\dropper.exe', 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE',
        'C:\Program Files\Contoso\agent.exe', 'C:\Program Files\nodejs\node.exe', 'C:\Windows\System32\oddity.exe',
        'C:\Users\Public\oddity.exe', 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe'
    )
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
    $env:ProgramData = $script:SavedProgramData
}

Describe 'StopAndQuarantineProcess.ps1' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        foreach ($file in $script:Files) {
            $content = 'MZ ' + $file
            if ($file -eq 'C:\Users\Public\evil.exe') { $content = $script:EvilContent }
            $null = New-TestFile -WindowsPath $file -Content $content
        }
        Set-TestProcessTable -Processes $script:Processes
        Set-TestAuthenticodeSignature -Signatures @{
            'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE' = (New-TestSignature -Status 'Valid' -Subject $script:MicrosoftSubject)
            'C:\Program Files\Contoso\agent.exe'                         = (New-TestSignature -Status 'Valid' -Subject $script:ContosoSubject)
            'C:\Windows\System32\oddity.exe'                             = 'throw'
            'C:\Users\Public\oddity.exe'                                 = 'throw'
        }
        # Mock bodies run in the module's scope: they reach the test's machine through the helpers.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardWin32Process -MockWith { Get-TestWin32Process -ProcessId $PesterBoundParameters['ProcessId'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { Stop-TestVerifiedProcess -ProcessId $PesterBoundParameters['ProcessId'] -ExpectedImagePath $PesterBoundParameters['ExpectedImagePath'] -ExpectedStartTime $PesterBoundParameters['ExpectedStartTime'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Test-SpawnGuardProcessRunning -MockWith { Test-TestProcessRunning -ProcessId $PesterBoundParameters['ProcessId'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        # Restricting a test folder to Administrators and SYSTEM is Windows-only (and would lock the runner out).
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        # Owners are Windows-only: the store is Administrators' unless a test says otherwise.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { return }
    }

    Context 'a foreign file' {
        It 'stops the target and its child, moves the file to its SHA-256 name and writes the manifest' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-05-01T10:00:00Z' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            $item = $document.results[0]
            $item.status | Should -Be 'done'
            $item.reason | Should -BeNullOrEmpty
            @($item.terminatedPids) | Should -Be @(4321, 4400)
            $item.quarantine.sha256Before | Should -Be $script:EvilHash
            $item.quarantine.sha256After | Should -Be $script:EvilHash
            $item.quarantine.quarantinePath | Should -Be ('D:\Quarantine\' + $script:EvilHash + '.quarantine')
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeFalse
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath $item.quarantine.quarantinePath)) | Should -Be $script:EvilContent
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $item.quarantine.manifestPath) -Raw | ConvertFrom-Json
            $manifest.entries[0].originalPath | Should -Be 'C:\Users\Public\evil.exe'
            $manifest.entries[0].incidentId | Should -Be 'INC-1'
            $manifest.entries[0].sha256Before | Should -Be $script:EvilHash
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq ('D:\Quarantine\' + $script:EvilHash + '.quarantine') }
        }

        It 'quarantines a file whose signature is invalid and records its signer' {
            Set-TestAuthenticodeSignature -Signatures @{ 'C:\Users\Public\evil.exe' = (New-TestSignature -Status 'HashMismatch' -Subject $script:MicrosoftSubject) }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            @($document.results[0].terminatedPids) | Should -Be @(4321)
            $document.results[0].quarantine.signer | Should -Be $script:MicrosoftSubject
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $document.results[0].quarantine.manifestPath) -Raw | ConvertFrom-Json
            $manifest.entries[0].signer | Should -Be $script:MicrosoftSubject
        }

        It 'still quarantines the file of a target that has already exited when it has the alert''s SHA-256' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\gone.exe' -Content 'MZ gone'
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 7777; imagePath = 'C:\Users\Public\gone.exe'; sha256 = (Get-TestSha256 -Content 'MZ gone').ToUpperInvariant() }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            @($document.results[0].terminatedPids).Length | Should -Be 0
            $document.results[0].quarantine.sha256Before | Should -Be (Get-TestSha256 -Content 'MZ gone')
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\gone.exe') | Should -BeFalse
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }

        It 'is idempotent: a second run reports the file as already quarantined' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); quarantineDirectory = $script:Quarantine }
            $first = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $second = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $second.results[0].status | Should -Be 'already-done'
            $second.results[0].reason | Should -Be 'already-quarantined'
            $second.results[0].quarantine.quarantinePath | Should -Be $first.results[0].quarantine.quarantinePath
            $second.results[0].quarantine.sha256Before | Should -Be $script:EvilHash
            # 4321 and 4400 by the first run, nothing by the second.
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 2 -Exactly
        }

        It 'keeps the same content quarantined from two paths in one copy, and both come back on restore' {
            $null = New-TestFile -WindowsPath 'C:\Users\alice\AppData\Local\Temp\copy.exe' -Content $script:EvilContent
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }, @{ pid = 4500; imagePath = 'C:\Users\alice\AppData\Local\Temp\copy.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            @(@($document.results).status) | Should -Be @('done', 'done')
            $document.results[1].quarantine.quarantinePath | Should -Be $document.results[0].quarantine.quarantinePath
            # The second entry is written by replacing the existing manifest (File.Replace).
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $document.results[0].quarantine.manifestPath) -Raw | ConvertFrom-Json
            @(@($manifest.entries).originalPath) | Should -Be @('C:\Users\Public\evil.exe', 'C:\Users\alice\AppData\Local\Temp\copy.exe')

            $restore = ConvertFrom-TestOutput -Output @(& $script:RestoreScript -Request (ConvertTo-TestRequest -Body @{ sha256 = $script:EvilHash; quarantineDirectory = $script:Quarantine }))
            $LASTEXITCODE | Should -Be 0
            @(@($restore.results).status) | Should -Be @('done', 'done')
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe')) | Should -Be $script:EvilContent
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Users\alice\AppData\Local\Temp\copy.exe')) | Should -Be $script:EvilContent
        }

        It 'quarantines the same file dropped again at the same path, and the manifest records both times' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $null = & $script:Script -Request $request
            # The attacker drops the same file again and starts it again.
            $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content $script:EvilContent
            Add-TestProcess -Process (New-TestProcess -ProcessId 6000 -ParentProcessId 1 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe')
            $again = ConvertTo-TestRequest -Body @{ incidentId = 'INC-2'; targets = @(@{ pid = 6000; imagePath = 'C:\Users\Public\evil.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $again)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            @($document.results[0].terminatedPids) | Should -Be @(6000)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeFalse
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $document.results[0].quarantine.manifestPath) -Raw | ConvertFrom-Json
            @(@($manifest.entries).incidentId) | Should -Be @('INC-1', 'INC-2')

            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:EvilHash; QuarantineDirectory = $script:Quarantine; IncidentId = 'INC-2' }
            $restore = ConvertFrom-TestOutput -Output @(& $script:RestoreScript @arguments)
            $LASTEXITCODE | Should -Be 0
            $restore.results[0].status | Should -Be 'done'
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe')) | Should -Be $script:EvilContent
        }

        It 'stops the target but reports quarantine-corrupt when the quarantined copy of this content was tampered with' {
            $null = New-TestFile -WindowsPath ('D:\Quarantine\' + $script:EvilHash + '.quarantine') -Content 'tampered'
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 1
            $document.ok | Should -BeFalse
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'quarantine-corrupt'
            @($document.results[0].terminatedPids) | Should -Be @(4321, 4400)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'reports access-denied (exit code 4) when the file cannot be moved, and leaves it in place' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access to the path is denied.') }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 4
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'access-denied'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'does not quarantine a file whose process could not be stopped' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -MockWith { throw (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList 5) }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 4
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'access-denied'
            $document.results[0].message | Should -Match 'not quarantined'
            $document.results[0].quarantine | Should -BeNullOrEmpty
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'leaves a PID that now belongs to another process entirely alone' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-04-30T10:00:00Z' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'pid-reused'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }

        It 'reports a file that is neither at its path nor in quarantine, and refuses a target without any known path' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 7777; imagePath = 'C:\Users\Public\vanished.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            @(@($document.results).status) | Should -Be @('already-done')
            @(@($document.results).reason) | Should -Be @('file-not-found')
            # The PID-reuse guard is not optional: a target without its image path is an invalid request.
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 7777; imagePath = 'C:\Users\Public\vanished.exe' }, @{ pid = 7778 }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 2
            $document.errors[0].code | Should -Be 'invalid-request'
            @($document.results).Length | Should -Be 0
        }
    }

    Context 'a machine that stops halfway, and the right file' {
        BeforeEach {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'move' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Copy-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'copy' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Update-SpawnGuardFileFrom -MockWith { Invoke-TestFileStep -Action 'replace' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Remove-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'delete' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Write-SpawnGuardTextFile -MockWith { Invoke-TestFileStep -Action 'write' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { Invoke-TestFileStep -Action 'acl' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { Invoke-TestFileStep -Action 'owner' -Bound $PesterBoundParameters }
            Set-TestValue -Name 'CrashAt' -Value 0
            Reset-TestCallCount
        }

        It 'leaves the file recoverable when it stops at any step of <Case>, and a second run completes the quarantine' -ForEach @(
            @{ Case = 'a first quarantine'; SecondCopy = $false },
            @{ Case = 'a second copy of content already quarantined'; SecondCopy = $true }
        ) {
            param($SecondCopy)
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-9'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; sha256 = $script:EvilHash }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            # A run that does not stop, to count its steps.
            if ($SecondCopy) {
                $null = New-TestFile -WindowsPath 'C:\Users\alice\first.exe' -Content $script:EvilContent
                $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\alice\first.exe' -Directory $script:Quarantine -IncidentId 'INC-0'
            }
            Reset-TestCallCount
            $clean = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $clean.results[0].status | Should -Be 'done'
            $steps = Get-TestStepCount
            $steps | Should -BeGreaterThan 3
            for ($crashAt = 1; $crashAt -le $steps; $crashAt++) {
                Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
                $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content $script:EvilContent
                Set-TestProcessTable -Processes $script:Processes
                Set-TestValue -Name 'CrashAt' -Value 0
                if ($SecondCopy) {
                    $null = New-TestFile -WindowsPath 'C:\Users\alice\first.exe' -Content $script:EvilContent
                    $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\alice\first.exe' -Directory $script:Quarantine -IncidentId 'INC-0'
                }
                Reset-TestCallCount
                Set-TestValue -Name 'CrashAt' -Value $crashAt
                $null = @(& $script:Script -Request $request)
                Set-TestValue -Name 'CrashAt' -Value 0
                (Test-TestFileRecoverable -OriginalPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -Hash $script:EvilHash) | Should -BeTrue -Because ('the run stopped at step ' + $crashAt + ' of ' + $steps)
                $again = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
                @('done', 'already-done') | Should -Contain $again.results[0].status -Because ('the second run after a stop at step ' + $crashAt + ': ' + $again.results[0].message)
                Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeFalse -Because ('step ' + $crashAt)
                $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $script:EvilHash + '.json')) -Raw | ConvertFrom-Json
                $mine = @(@($manifest.entries) | Where-Object { $_.originalPath -eq 'C:\Users\Public\evil.exe' })
                $mine.Length | Should -Be 1 -Because ('step ' + $crashAt)
                $mine[0].state | Should -Be 'quarantined' -Because ('step ' + $crashAt)
                $mine[0].sha256After | Should -Be $script:EvilHash -Because ('step ' + $crashAt)
                if ($SecondCopy) { @($manifest.entries).Length | Should -Be 2 }
            }
        }

        It 'quarantines the file of an exited process only when it still has the alert''s SHA-256 (<Case>)' -ForEach @(
            @{ Case = 'another file now at the path'; Sha = 'aa'; Reason = 'file-changed' },
            @{ Case = 'no SHA-256 given'; Sha = $null; Reason = 'file-unverified' }
        ) {
            param($Sha, $Reason)
            $null = New-TestFile -WindowsPath 'C:\Users\Public\gone.exe' -Content 'MZ a different file'
            $target = @{ pid = 7777; imagePath = 'C:\Users\Public\gone.exe' }
            if ($null -ne $Sha) { $target['sha256'] = $Sha * 32 }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @($target); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].reason | Should -Be $Reason
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\gone.exe')) | Should -Be 'MZ a different file'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Quarantine) | Should -BeFalse
        }

        It 'stops a running process but leaves its file when the file at the path is not the one the alert saw' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe'; sha256 = ('b' * 64) }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -Be 'file-changed'
            @($document.results[0].terminatedPids) | Should -Be @(4321)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'stops a process running from a share by PID but never opens its file (remote-path): no existence test, hash or signature check' {
            $share = '\\fileserver\tools\evil.exe'
            Set-TestProcessTable -Processes @($script:Processes + @(New-TestProcess -ProcessId 6100 -ParentProcessId 1 -Name 'evil.exe' -Path $share -Created $script:EvilStart))
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith {
                if ($PesterBoundParameters['LiteralPath'].StartsWith('\\')) { throw 'a remote path reached the file system' }
                ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath']
            }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 6100; imagePath = $share; startTime = '2024-05-01T10:00:00Z' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -Be 'remote-path'
            @($document.results[0].terminatedPids) | Should -Be @(6100)
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $share }
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'].StartsWith('\\') }
        }

        It 'stops the process but never follows <Case>: nothing is hashed through it, moved or written' -ForEach @(
            @{ Case = 'a symbolic link at the image path'; Link = 'C:\Users\Public\evil.exe'; LinkTarget = 'C:\Program Files\Contoso\agent.exe'; Found = 'C:\Users\Public\evil.exe' },
            @{ Case = 'a junction in a folder above it'; Link = 'C:\Users\Public'; LinkTarget = 'C:\Program Files\Contoso'; Found = 'C:\Users\Public' }
        ) {
            param($Link, $LinkTarget, $Found)
            $linkNative = ConvertTo-TestNativePath -LiteralPath $Link
            Remove-Item -LiteralPath $linkNative -Recurse -Force
            if ($Link -eq 'C:\Users\Public') {
                # The folder now leads elsewhere: the path the alert named still resolves, to another file.
                $null = New-TestFile -WindowsPath 'C:\Program Files\Contoso\evil.exe' -Content $script:EvilContent
            }
            $null = New-TestLink -WindowsPath $Link -TargetWindowsPath $LinkTarget
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); includeDescendants = $false; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -Be 'reparse-point'
            $document.results[0].message | Should -Match 'junction or symbolic link'
            @($document.results[0].terminatedPids) | Should -Be @(4321)
            (Get-Item -LiteralPath $linkNative -Force).LinkType | Should -Be 'SymbolicLink'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Quarantine) | Should -BeFalse
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 0 -Exactly
            Find-SpawnGuardReparsePoint -LiteralPath 'C:\Users\Public\evil.exe' | Should -Be $Found
        }

        It 'refuses the move itself when the path goes through a link (reparse-point), leaving both the link and its target' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\decoy\evil.exe' -Content $script:EvilContent
            $null = New-TestLink -WindowsPath 'C:\Users\Public\linked' -TargetWindowsPath 'C:\Users\Public\decoy'
            $caught = $null
            try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\linked\evil.exe' -Directory $script:Quarantine } catch { $caught = $_ }
            $caught | Should -Not -BeNullOrEmpty
            Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'reparse-point'
            $caught.Exception.Message | Should -BeLike '*junction or link*'
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\decoy\evil.exe')) | Should -Be $script:EvilContent
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Quarantine) | Should -BeFalse
        }

        It 'never quarantines a file under the Windows folder, written as <Case>, whatever its signature' -ForEach @(
            @{ Case = 'a path with ".."'; Path = 'C:\Users\..\Windows\Temp\evil.exe' },
            @{ Case = 'trailing dots and spaces'; Path = 'C:\Windows. \Temp\evil.exe' },
            @{ Case = 'a short name'; Path = 'C:\WINDOW~1\Temp\evil.exe' }
        ) {
            param($Path)
            $null = New-TestFile -WindowsPath 'C:\Windows\Temp\evil.exe' -Content 'MZ under windows'
            $null = New-TestFile -WindowsPath $Path -Content 'MZ under windows'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardLongPath -MockWith { return $PesterBoundParameters['LiteralPath'].Replace('WINDOW~1', 'Windows') }
            Set-TestProcessTable -Processes @($script:Processes + @(New-TestProcess -ProcessId 6200 -ParentProcessId 1 -Name 'evil.exe' -Path $Path -Created $script:EvilStart))
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 6200; imagePath = $Path; startTime = '2024-05-01T10:00:00Z' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $document.results[0].reason | Should -Be 'windows-directory'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $Path) | Should -BeTrue
        }
    }

    Context 'a file that must never be quarantined' {
        It 'stops Word, validly signed by Microsoft, but leaves WINWORD.EXE in place' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-2'; targets = @(@{ pid = 5000; imagePath = 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -Be 'trusted-signer'
            @($document.results[0].terminatedPids) | Should -Be @(5000)
            $document.results[0].quarantine | Should -BeNullOrEmpty
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE') | Should -BeTrue
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Quarantine) | Should -BeFalse
        }

        It 'stops a tool of a trusted publisher (named by CN) but does not quarantine it' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '5100=C:\Program Files\Contoso\agent.exe' -TrustedPublishers 'Contoso Ltd' -QuarantineDirectory $script:Quarantine -IncidentId 'INC-3')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].reason | Should -Be 'trusted-signer'
            @($document.results[0].terminatedPids) | Should -Be @(5100)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Program Files\Contoso\agent.exe') | Should -BeTrue
        }

        It 'quarantines the same Contoso tool when Contoso is not a trusted publisher' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '5100=C:\Program Files\Contoso\agent.exe' -QuarantineDirectory $script:Quarantine -IncidentId 'INC-3')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].quarantine.signer | Should -Be $script:ContosoSubject
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Program Files\Contoso\agent.exe') | Should -BeFalse
        }

        It 'stops another instance of the worker''s own image but never quarantines node.exe' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-4'; targets = @(@{ pid = 5200; imagePath = 'C:\Program Files\nodejs\node.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].reason | Should -Be 'worker-image'
            @($document.results[0].terminatedPids) | Should -Be @(5200)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Program Files\nodejs\node.exe') | Should -BeTrue
        }

        It 'refuses a PowerShell target (exit code 3): nothing stopped, powershell.exe left in place' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-5'; targets = @(@{ pid = 5400; imagePath = 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' }, @{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 3
            ($document.results | Where-Object -FilterScript { $_.pid -eq 5400 }).reason | Should -Be 'powershell-host'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe') | Should -BeTrue
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'leaves a System32 file (under the Windows folder) and a file whose signature cannot be read anywhere in place' {
            # Was: the unreadable signature outside System32 was quarantined. An unknown signature
            # now blocks quarantine everywhere (issue 13).
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-6'; targets = @(@{ pid = 5300; imagePath = 'C:\Windows\System32\oddity.exe' }, @{ pid = 5310; imagePath = 'C:\Users\Public\oddity.exe' }); quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].reason | Should -Be 'windows-directory'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Windows\System32\oddity.exe') | Should -BeTrue
            $document.results[1].status | Should -Be 'done'
            $document.results[1].reason | Should -Be 'signature-unknown'
            $document.results[1].quarantine | Should -BeNullOrEmpty
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\oddity.exe') | Should -BeTrue
            @(@($document.results).terminatedPids) | Should -Be @(5300, 5310)
        }

        It 'never quarantines the PowerShell image, whatever its signature' {
            . $script:Script
            Set-TestAuthenticodeSignature -Signatures @{}
            Get-QuarantineBlock -ImagePath 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -TrustedPublishers @() -WorkerProcesses @() | Should -Be 'powershell-host'
            Get-QuarantineBlock -ImagePath 'C:\Users\Public\pwsh.exe' -TrustedPublishers @() -WorkerProcesses @() | Should -Be 'powershell-host'
            Get-QuarantineBlockMessage -Block 'powershell-host' | Should -Match 'never quarantined'
        }
    }

    Context 'requests' {
        It 'takes the analyst parameters: a PID without its children, into the default quarantine folder' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers '0x10E1=C:\Users\Public\evil.exe' -NoDescendants -IncidentId 'INC-9')
            $LASTEXITCODE | Should -Be 0
            @($document.results[0].terminatedPids) | Should -Be @(4321)
            $document.results[0].quarantine.quarantinePath | Should -Be ('C:\ProgramData\spawnguard\quarantine\' + $script:EvilHash + '.quarantine')
            $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $document.results[0].quarantine.manifestPath) -Raw | ConvertFrom-Json
            $manifest.entries[0].incidentId | Should -Be 'INC-9'
            Test-TestProcessRunning -ProcessId 4400 | Should -BeTrue
        }

        It 'stops every process of an image given by path and quarantines the image' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIdentifiers 'C:\Users\Public\evil.exe' -QuarantineDirectory $script:Quarantine)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            @($document.results[0].terminatedPids) | Should -Be @(4321, 4400)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('D:\Quarantine\' + $script:EvilHash + '.quarantine')) | Should -BeTrue
        }

        It 'refuses <Case> as a quarantine folder with exit code 2, stopping nothing' -ForEach @(
            @{ Case = 'a relative path'; Directory = 'quarantine' },
            @{ Case = 'a path with ".."'; Directory = 'D:\Quarantine\..\Windows' },
            @{ Case = 'a folder inside System32'; Directory = 'C:\Windows\System32\Tasks' }
        ) {
            param($Directory)
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }); quarantineDirectory = $Directory }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 2
            $document.errors[0].code | Should -Be 'invalid-request'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\evil.exe') | Should -BeTrue
        }

        It 'refuses a request that mixes -Request with analyst parameters, or gives neither' {
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 4321; imagePath = 'C:\Users\Public\evil.exe' }) }
            $mixed = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request -ProcessIdentifiers '4321')
            $LASTEXITCODE | Should -Be 2
            $mixed.errors[0].code | Should -Be 'invalid-request'
            $none = ConvertFrom-TestOutput -Output @(& $script:Script -IncidentId 'INC-1')
            $LASTEXITCODE | Should -Be 2
            $none.errors[0].code | Should -Be 'invalid-request'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-SpawnGuardVerifiedProcess -Times 0 -Exactly
        }
    }
}
