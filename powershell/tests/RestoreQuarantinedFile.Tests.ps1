<#
.SYNOPSIS
    Pester 5 tests of RestoreQuarantinedFile.ps1, run end to end under pwsh on real files: a file
    is quarantined with the module (Windows paths mapped into TestDrive at the seam), then restored
    with the script. The ACL calls (Windows only) are mocked.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'RestoreQuarantinedFile.ps1'
    $script:SavedSystemRoot = $env:SystemRoot
    $script:SavedProgramData = $env:ProgramData
    $env:SystemRoot = 'C:\Windows'
    $env:ProgramData = 'C:\ProgramData'
    $script:Quarantine = 'D:\Quarantine'
    $script:Original = 'C:\Tools\tool.exe'
    $script:Content = 'a false positive'
    $script:Hash = Get-TestSha256 -Content $script:Content
    $script:Sddl = 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)'
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
    $env:ProgramData = $script:SavedProgramData
}

Describe 'RestoreQuarantinedFile.ps1' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        # The ACL calls are Windows-only; the SDDL recorded at quarantine time must come back on restore.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        # Owners are Windows-only: the store is Administrators' unless a test says otherwise.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { return }
        $script:OriginalNative = New-TestFile -WindowsPath $script:Original -Content $script:Content
        $script:Record = Move-SpawnGuardFileToQuarantine -LiteralPath $script:Original -Directory $script:Quarantine -IncidentId 'INC-3' -Signer ''
        $script:CopyNative = ConvertTo-TestNativePath -LiteralPath $script:Record.quarantinePath
        $script:ManifestNative = ConvertTo-TestNativePath -LiteralPath $script:Record.manifestPath
        $script:RestoredNative = ConvertTo-TestNativePath -LiteralPath ('D:\Quarantine\' + $script:Hash + '.restored.json')
    }

    Context 'restoring' {
        It 'puts the file back with its original hash and ACL, removes the quarantined copy and keeps the manifest as .restored.json' {
            Test-Path -LiteralPath $script:OriginalNative | Should -BeFalse
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-3'; sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 1
            $document.results[0].status | Should -Be 'done'
            $document.results[0].restoredPath | Should -Be $script:Original
            $document.results[0].sha256 | Should -Be $script:Hash
            $document.results[0].aclRestored | Should -BeTrue
            [System.IO.File]::ReadAllText($script:OriginalNative) | Should -Be $script:Content
            Test-Path -LiteralPath $script:CopyNative | Should -BeFalse
            Test-Path -LiteralPath $script:ManifestNative | Should -BeFalse
            $history = Get-Content -LiteralPath $script:RestoredNative -Raw | ConvertFrom-Json
            $history.entries[0].originalPath | Should -Be $script:Original
            $history.entries[0].incidentId | Should -Be 'INC-3'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -Times 1 -Exactly -ParameterFilter {
                $PesterBoundParameters['LiteralPath'] -eq 'C:\Tools\tool.exe' -and $PesterBoundParameters['Sddl'] -eq 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)'
            }
        }

        It 'lets a file whose ACL could not be read at quarantine time inherit from its folder again' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return $null }
            $null = New-TestFile -WindowsPath 'C:\Tools\second.exe' -Content $script:Content
            $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Tools\second.exe' -Directory $script:Quarantine -IncidentId 'INC-4'
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:Hash; QuarantineDirectory = $script:Quarantine; IncidentId = 'INC-4' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            # Nothing was recorded, so there is nothing to compare the ACL read back with.
            $document.results[0].PSObject.Properties['aclRestored'] | Should -Not -BeNullOrEmpty
            $document.results[0].aclRestored | Should -Be $null
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -Times 1 -Exactly -ParameterFilter {
                $PesterBoundParameters['LiteralPath'] -eq 'C:\Tools\second.exe' -and [string]::IsNullOrEmpty($PesterBoundParameters['Sddl'])
            }
        }

        It 'is idempotent: restoring again reports already done' {
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $null = & $script:Script -Request $request
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'already-done'
            $document.results[0].restoredPath | Should -Be $script:Original
            $document.results[0].aclRestored | Should -BeTrue
            [System.IO.File]::ReadAllText($script:OriginalNative) | Should -Be $script:Content
        }

        It 'reads the ACL back after the copy and reports aclRestored false when it is not the recorded one' {
            # Windows kept another DACL than the one put back (the mock reads back what the file has now).
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)' }
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].aclRestored | Should -BeFalse
            $document.results[0].message | Should -Match 'differs'
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq 'C:\Tools\tool.exe' }
        }

        It 'reports a file restored earlier but gone again from its path as no longer quarantined' {
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $null = & $script:Script -Request $request
            Remove-Item -LiteralPath $script:OriginalNative
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'not-quarantined'
            $document.results[0].restoredPath | Should -Be $script:Original
        }

        It 'counts an original path that already holds the same content as restored' {
            $null = New-TestFile -WindowsPath $script:Original -Content $script:Content
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:Hash; QuarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'already-done'
            Test-Path -LiteralPath $script:CopyNative | Should -BeFalse
            Test-Path -LiteralPath $script:RestoredNative | Should -BeTrue
        }

        It 'leaves a different file at the original path alone unless told to overwrite' {
            $null = New-TestFile -WindowsPath $script:Original -Content 'something else'
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'target-exists'
            $document.results[0].aclRestored | Should -Be $null
            [System.IO.File]::ReadAllText($script:OriginalNative) | Should -Be 'something else'
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
            Test-Path -LiteralPath $script:ManifestNative | Should -BeTrue
            Test-Path -LiteralPath $script:RestoredNative | Should -BeFalse

            $overwrite = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine; overwrite = $true }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $overwrite)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            [System.IO.File]::ReadAllText($script:OriginalNative) | Should -Be $script:Content
            Test-Path -LiteralPath $script:CopyNative | Should -BeFalse
        }

        It 'restores only the paths of the given incident, and removes the copy when the last one is restored' {
            $null = New-TestFile -WindowsPath 'C:\Users\bob\Downloads\tool.exe' -Content $script:Content
            $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\bob\Downloads\tool.exe' -Directory $script:Quarantine -IncidentId 'INC-4'
            $first = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ incidentId = 'INC-4'; sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }))
            $LASTEXITCODE | Should -Be 0
            @($first.results).Length | Should -Be 1
            $first.results[0].restoredPath | Should -Be 'C:\Users\bob\Downloads\tool.exe'
            $first.results[0].status | Should -Be 'done'
            Test-Path -LiteralPath $script:OriginalNative | Should -BeFalse
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
            $manifest = Get-Content -LiteralPath $script:ManifestNative -Raw | ConvertFrom-Json
            @(@($manifest.entries).incidentId) | Should -Be @('INC-3')

            $second = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ incidentId = 'INC-3'; sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }))
            $LASTEXITCODE | Should -Be 0
            $second.results[0].restoredPath | Should -Be $script:Original
            $second.results[0].status | Should -Be 'done'
            Test-Path -LiteralPath $script:CopyNative | Should -BeFalse
            Test-Path -LiteralPath $script:ManifestNative | Should -BeFalse
            # The history is rewritten in place (File.Replace) with both restores.
            $history = Get-Content -LiteralPath $script:RestoredNative -Raw | ConvertFrom-Json
            @(@($history.entries).incidentId) | Should -Be @('INC-4', 'INC-3')
        }

        It 'restores nothing for an incident that quarantined nothing with this hash' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ incidentId = 'INC-99'; sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }))
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'not-quarantined'
            Test-Path -LiteralPath $script:OriginalNative | Should -BeFalse
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
        }

        It 'reports a hash that is not in quarantine as nothing to restore' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ sha256 = ('0' * 64); quarantineDirectory = $script:Quarantine }))
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'skipped'
            $document.results[0].reason | Should -Be 'not-quarantined'
            $document.results[0].restoredPath | Should -BeNullOrEmpty
        }
    }

    Context 'a machine that stops halfway' {
        BeforeEach {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'move' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Copy-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'copy' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Update-SpawnGuardFileFrom -MockWith { Invoke-TestFileStep -Action 'replace' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Remove-SpawnGuardFile -MockWith { Invoke-TestFileStep -Action 'delete' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Write-SpawnGuardTextFile -MockWith { Invoke-TestFileStep -Action 'write' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { Invoke-TestFileStep -Action 'acl' -Bound $PesterBoundParameters }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { Invoke-TestFileStep -Action 'acl' -Bound $PesterBoundParameters }
            Set-TestValue -Name 'CrashAt' -Value 0
            Reset-TestCallCount
        }

        It 'leaves the file recoverable when a restore stops at any step, and a second run finishes it (the copy removed only after the file is back)' {
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            Reset-TestCallCount
            $clean = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $clean.results[0].status | Should -Be 'done'
            $steps = Get-TestStepCount
            $steps | Should -BeGreaterThan 3
            for ($crashAt = 1; $crashAt -le $steps; $crashAt++) {
                Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
                Set-TestValue -Name 'CrashAt' -Value 0
                $null = New-TestFile -WindowsPath $script:Original -Content $script:Content
                $null = Move-SpawnGuardFileToQuarantine -LiteralPath $script:Original -Directory $script:Quarantine -IncidentId 'INC-3'
                Reset-TestCallCount
                Set-TestValue -Name 'CrashAt' -Value $crashAt
                $null = @(& $script:Script -Request $request)
                Set-TestValue -Name 'CrashAt' -Value 0
                (Test-TestFileRecoverable -OriginalPath $script:Original -Directory $script:Quarantine -Hash $script:Hash) | Should -BeTrue -Because ('the restore stopped at step ' + $crashAt + ' of ' + $steps)
                $again = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
                @('done', 'already-done') | Should -Contain $again.results[0].status -Because ('the second run after a stop at step ' + $crashAt + ': ' + $again.results[0].message)
                Get-TestFileHash -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Original) | Should -Be $script:Hash -Because ('step ' + $crashAt)
                Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $script:Hash + '.quarantine')) | Should -BeFalse -Because ('step ' + $crashAt)
                Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $script:Hash + '.json')) | Should -BeFalse -Because ('step ' + $crashAt)
                Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Original + '.spawnguard-restore')) | Should -BeFalse -Because ('step ' + $crashAt)
            }
        }

        It 'never writes a quarantined copy from a path named in the manifest: the copy is rebuilt from the store and the hash' {
            $manifestNative = ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\' + $script:Hash + '.json')
            $text = [System.IO.File]::ReadAllText($manifestNative).Replace(($script:Hash + '.quarantine'), 'planted.quarantine')
            [System.IO.File]::WriteAllText($manifestNative, $text)
            $null = New-TestFile -WindowsPath ($script:Quarantine + '\planted.quarantine') -Content 'planted'
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $document.results[0].status | Should -Be 'done'
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath $script:Original)) | Should -Be $script:Content
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($script:Quarantine + '\planted.quarantine')) | Should -BeTrue
        }

        It 'never writes through a junction planted where the file was (reparse-point): nothing lands behind it and the copy stays' {
            $elsewhere = ConvertTo-TestNativePath -LiteralPath 'C:\Windows\System32'
            $null = New-Item -ItemType Directory -Force -Path $elsewhere
            Remove-Item -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\Tools') -Recurse -Force
            $null = New-TestLink -WindowsPath 'C:\Tools' -TargetWindowsPath 'C:\Windows\System32'
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-3'; sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'reparse-point'
            @(Get-ChildItem -LiteralPath $elsewhere -Force).Count | Should -Be 0
            [System.IO.File]::Exists($script:CopyNative) | Should -BeTrue
            [System.IO.File]::Exists($script:ManifestNative) | Should -BeTrue
        }

        It 'refuses a store owned by someone else, restoring nothing' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-21-1-2-3-1001' }
            $request = ConvertTo-TestRequest -Body @{ sha256 = $script:Hash; quarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request $request)
            $document.ok | Should -BeFalse
            $document.errors[0].code | Should -Be 'quarantine-untrusted'
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Original) | Should -BeFalse
        }
    }

    Context 'failures' {
        It 'refuses a quarantined copy that <Case> (exit code 1), restoring nothing' -ForEach @(
            @{ Case = 'no longer has its hash'; Tamper = 'change' },
            @{ Case = 'is missing'; Tamper = 'delete' }
        ) {
            param($Tamper)
            if ($Tamper -eq 'change') { [System.IO.File]::WriteAllText($script:CopyNative, 'tampered') } else { Remove-Item -LiteralPath $script:CopyNative }
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:Hash; QuarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 1
            $document.errors[0].code | Should -Be 'quarantine-corrupt'
            @($document.results).Length | Should -Be 0
            Test-Path -LiteralPath $script:OriginalNative | Should -BeFalse
            Test-Path -LiteralPath $script:ManifestNative | Should -BeTrue
        }

        It 'reports access-denied (exit code 4) when the copy back is refused, and keeps the quarantine as it was' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Copy-SpawnGuardFile -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access to the path is denied.') }
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:Hash; QuarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 4
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'access-denied'
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
            Test-Path -LiteralPath $script:ManifestNative | Should -BeTrue
            Test-Path -LiteralPath $script:RestoredNative | Should -BeFalse
        }

        It 'reports a restored copy whose hash differs as hash-mismatch and keeps the quarantined copy' {
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Copy-SpawnGuardFile -MockWith {
                [System.IO.File]::WriteAllText((ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Destination']), 'truncated')
            }
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $script:Hash; QuarantineDirectory = $script:Quarantine }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 1
            $document.results[0].status | Should -Be 'failed'
            $document.results[0].reason | Should -Be 'hash-mismatch'
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
            Test-Path -LiteralPath $script:ManifestNative | Should -BeTrue
        }
    }

    Context 'requests' {
        It 'accepts an upper-case hash from the analyst parameters and uses the default quarantine folder' {
            $null = New-TestFile -WindowsPath 'C:\Tools\default.exe' -Content 'in the default folder'
            $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Tools\default.exe' -Directory 'C:\ProgramData\spawnguard\quarantine'
            # Splatted: the parser the static checks use cannot read a parameter name with digits (-Sha256).
            $arguments = @{ Sha256 = $record.sha256Before.ToUpperInvariant() }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @arguments)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].status | Should -Be 'done'
            $document.results[0].sha256 | Should -Be $record.sha256Before
            [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath 'C:\Tools\default.exe')) | Should -Be 'in the default folder'
        }

        It 'refuses <Case> with exit code 2' -ForEach @(
            @{ Case = 'a hash that is not 64 hex digits'; Arguments = @{ Sha256 = 'abc123' } },
            @{ Case = 'both -Request and -Sha256'; Arguments = @{ Sha256 = ('a' * 64); Request = 'eyJzaGEyNTYiOiIwIn0=' } },
            @{ Case = 'neither -Request nor -Sha256'; Arguments = @{ IncidentId = 'INC-3' } },
            @{ Case = 'a quarantine folder inside System32'; Arguments = @{ Sha256 = ('a' * 64); QuarantineDirectory = 'C:\Windows\System32\q' } }
        ) {
            param($Arguments)
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @Arguments)
            $LASTEXITCODE | Should -Be 2
            $document.errors[0].code | Should -Be 'invalid-request'
            Test-Path -LiteralPath $script:CopyNative | Should -BeTrue
        }
    }
}
