<#
.SYNOPSIS
    Pester 5 tests of RestoreQuarantinedFile.ps1: quarantine a file in TestDrive with the module,
    then restore it with the script (Windows only; the ACL change to Administrators and SYSTEM is mocked).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety.psm1') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'RestoreQuarantinedFile.ps1'
}

BeforeEach {
    Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
    $script:Folder = Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n'))
    $null = New-Item -ItemType Directory -Path $script:Folder -Force
    $script:Original = Join-Path -Path $script:Folder -ChildPath 'tool.exe'
    [System.IO.File]::WriteAllText($script:Original, 'a false positive')
    $script:Quarantine = Join-Path -Path $script:Folder -ChildPath 'quarantine'
    $script:Record = Move-SpawnGuardFileToQuarantine -LiteralPath $script:Original -Directory $script:Quarantine -IncidentId 'INC-3' -Signer ''
}

Describe 'RestoreQuarantinedFile.ps1' {
    It 'puts the file back, checks its hash, and keeps the manifest as restored' {
        Test-Path -LiteralPath $script:Original | Should -BeFalse
        $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-3'; sha256 = $script:Record.sha256Before; quarantineDirectory = $script:Quarantine }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'done'
        $document.results[0].restoredPath | Should -Be $script:Original
        Get-SpawnGuardFileHash -LiteralPath $script:Original | Should -Be $script:Record.sha256Before
        Test-Path -LiteralPath $script:Record.quarantinePath | Should -BeFalse
        Test-Path -LiteralPath (Get-SpawnGuardManifestPath -Directory $script:Quarantine -Hash $script:Record.sha256Before -Restored) | Should -BeTrue
    }

    It 'is idempotent: restoring again reports already done' {
        $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Record.sha256Before; quarantineDirectory = $script:Quarantine }
        $null = & $script:Script -Request $request
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].status | Should -Be 'already-done'
    }

    It 'leaves a different file at the original path alone unless told to overwrite' {
        [System.IO.File]::WriteAllText($script:Original, 'something else')
        $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Record.sha256Before; quarantineDirectory = $script:Quarantine }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $document.results[0].status | Should -Be 'skipped'
        $document.results[0].reason | Should -Be 'target-exists'
        Test-Path -LiteralPath $script:Record.quarantinePath | Should -BeTrue
    }

    It 'reports a hash that is not in quarantine as nothing to restore' {
        $request = ConvertTo-TestRequest -Body @{ sha256 = ('0' * 64); quarantineDirectory = $script:Quarantine }
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
        $LASTEXITCODE | Should -Be 0
        $document.results[0].reason | Should -Be 'not-quarantined'
    }
}
