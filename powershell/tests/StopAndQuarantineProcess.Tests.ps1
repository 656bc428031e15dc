<#
.SYNOPSIS
    Pester 5 tests of StopAndQuarantineProcess.ps1 on files in TestDrive, with Win32_Process,
    Stop-Process, Authenticode and the ACL change mocked (Windows only).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety.psm1') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'StopAndQuarantineProcess.ps1'
}

BeforeEach {
    $script:Folder = Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n'))
    $null = New-Item -ItemType Directory -Path $script:Folder -Force
    $script:Image = Join-Path -Path $script:Folder -ChildPath 'evil.exe'
    Set-Content -LiteralPath $script:Image -Value 'not really a program' -Encoding ASCII
    $script:Quarantine = Join-Path -Path $script:Folder -ChildPath 'quarantine'
    $script:Processes = @(
        (New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'node.exe' -Path 'C:\Program Files\nodejs\node.exe'),
        (New-TestProcess -ProcessId $PID -ParentProcessId 900 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date)),
        (New-TestProcess -ProcessId 4321 -ParentProcessId 1 -Name 'evil.exe' -Path $script:Image)
    )
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-CimInstance -MockWith {
        $filter = [string]$PesterBoundParameters['Filter']
        if ($filter -match '^ProcessId = (\d+)$') {
            $wanted = [int64]$Matches[1]
            $script:Processes | Where-Object -FilterScript { $_.ProcessId -eq $wanted }
        } else {
            $script:Processes
        }
    }
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -MockWith { return }
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-Process -MockWith { return }
    # Restricting TestDrive to Administrators and SYSTEM would lock the test runner out.
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
        [pscustomobject]@{ Status = 'NotSigned'; SignerCertificate = $null }
    }
}

Describe 'StopAndQuarantineProcess.ps1' {
    It 'stops the process, moves its file to a content-addressed name and writes a manifest' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-7'; targets = @(@{ pid = 4321; imagePath = $script:Image }); quarantineDirectory = $script:Quarantine }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $item = $document.results[0]
        $item.status | Should -Be 'done'
        $item.quarantine.sha256Before | Should -Be $item.quarantine.sha256After
        $item.quarantine.quarantinePath | Should -Be (Join-Path -Path $script:Quarantine -ChildPath ($item.quarantine.sha256Before + '.quarantine'))
        Test-Path -LiteralPath $script:Image | Should -BeFalse
        Test-Path -LiteralPath $item.quarantine.quarantinePath | Should -BeTrue
        $manifest = Get-Content -LiteralPath $item.quarantine.manifestPath -Raw | ConvertFrom-Json
        $manifest.entries[0].originalPath | Should -Be $script:Image
        $manifest.entries[0].incidentId | Should -Be 'INC-7'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $item.quarantine.quarantinePath }
    }

    It 'is idempotent: a second run reports the file as already quarantined' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-7'; targets = @(@{ pid = 4321; imagePath = $script:Image }); quarantineDirectory = $script:Quarantine }
        $first = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $script:Processes = @($script:Processes | Where-Object -FilterScript { $_.ProcessId -ne 4321 })
        $second = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $second.results[0].status | Should -Be 'already-done'
        $second.results[0].quarantine.quarantinePath | Should -Be $first.results[0].quarantine.quarantinePath
    }

    It 'stops but never quarantines a file validly signed by Microsoft' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'Valid'; SignerCertificate = [pscustomobject]@{ Subject = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US' } }
        }
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-8'; targets = @(@{ pid = 4321 }); quarantineDirectory = $script:Quarantine }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'done'
        $document.results[0].reason | Should -Be 'trusted-signer'
        $document.results[0].quarantine | Should -BeNullOrEmpty
        Test-Path -LiteralPath $script:Image | Should -BeTrue
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -Times 1 -Exactly
    }

    It 'refuses to act on the PowerShell running the scripts' {
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-9'; targets = @(@{ pid = $PID }) }
        $null = & $script:Script -Request $request
        $LASTEXITCODE | Should -Be 3
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -Times 0 -Exactly
    }
}
