<#
.SYNOPSIS
    Pester 5 tests of the quarantine store (SpawnGuard.Safety/Quarantine.ps1) and the file facts
    (SpawnGuard.Safety/Files.ps1), run under pwsh on real files: Windows paths are mapped into
    TestDrive at the seam (ConvertTo-SpawnGuardNativePath), so hashing, moving, the manifests and
    File.Replace really run. Authenticode and the ACL calls (Windows only) are mocked.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:SavedSystemRoot = $env:SystemRoot
    $script:SavedProgramData = $env:ProgramData
    $env:SystemRoot = 'C:\Windows'
    $env:ProgramData = 'C:\ProgramData'
    $script:MicrosoftSubject = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'
    $script:WindowsSubject = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
    $env:ProgramData = $script:SavedProgramData
}

Describe 'The quarantine folder' {
    It 'defaults to spawnguard\quarantine under ProgramData' {
        Get-SpawnGuardQuarantineDirectory -QuarantineDirectory '' | Should -Be 'C:\ProgramData\spawnguard\quarantine'
    }

    It 'accepts a full local path and drops its trailing backslash' {
        Get-SpawnGuardQuarantineDirectory -QuarantineDirectory 'D:\Quarantine\' | Should -Be 'D:\Quarantine'
    }

    It 'refuses <Case> as an invalid request' -ForEach @(
        @{ Case = 'a relative path'; Directory = 'quarantine\here' },
        @{ Case = 'a path with ".."'; Directory = 'D:\Quarantine\..\Users\Public' },
        @{ Case = 'a remote path'; Directory = '\\server\share\quarantine' },
        @{ Case = 'a folder inside System32'; Directory = 'C:\Windows\System32\spool\quarantine' }
    ) {
        param($Directory)
        $caught = $null
        try { $null = Get-SpawnGuardQuarantineDirectory -QuarantineDirectory $Directory } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'invalid-request'
    }
}

Describe 'Quarantining a file on disk' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        # Restricting a test folder to Administrators and SYSTEM is Windows-only (and would lock the runner out).
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        # Owners are Windows-only: the store is Administrators' unless a test says otherwise.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)' }
        $script:Quarantine = 'C:\ProgramData\spawnguard\quarantine'
        $script:Content = 'MZ evil payload'
        $script:Hash = Get-TestSha256 -Content $script:Content
        $script:EvilNative = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content $script:Content
    }

    It 'moves the file to its SHA-256 name with the .quarantine extension, hashes it before and after, and writes a manifest with path, hash, signer and incident' {
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1' -Signer 'CN=Evil Ltd'
        $record.sha256Before | Should -Be $script:Hash
        $record.sha256After | Should -Be $script:Hash
        $record.quarantinePath | Should -Be ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.quarantine')
        $record.manifestPath | Should -Be ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.json')
        $record.signer | Should -Be 'CN=Evil Ltd'
        Test-Path -LiteralPath $script:EvilNative | Should -BeFalse
        [System.IO.File]::ReadAllText((ConvertTo-TestNativePath -LiteralPath $record.quarantinePath)) | Should -Be $script:Content

        $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $record.manifestPath) -Raw | ConvertFrom-Json
        $manifest.sha256 | Should -Be $script:Hash
        $manifest.quarantinePath | Should -Be $record.quarantinePath
        $manifest.size | Should -Be $script:Content.Length
        @($manifest.entries).Length | Should -Be 1
        $manifest.entries[0].originalPath | Should -Be 'C:\Users\Public\evil.exe'
        $manifest.entries[0].incidentId | Should -Be 'INC-1'
        $manifest.entries[0].signer | Should -Be 'CN=Evil Ltd'
        $manifest.entries[0].sha256Before | Should -Be $script:Hash
        $manifest.entries[0].sha256After | Should -Be $script:Hash
        $manifest.entries[0].originalSddl | Should -Be 'D:(A;;FA;;;BA)(A;;0x1200a9;;;BU)'
        # The folder, the quarantined copy and the manifest are each reduced to Administrators and SYSTEM.
        foreach ($path in @($script:Quarantine, $record.quarantinePath, $record.manifestPath)) {
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $path }
        }
    }

    It 'keeps one copy of the same content quarantined from a second path, and rewrites the manifest (File.Replace) with both paths' {
        $first = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1'
        $secondNative = New-TestFile -WindowsPath 'C:\Users\alice\AppData\Local\Temp\copy.exe' -Content $script:Content
        $second = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\alice\AppData\Local\Temp\copy.exe' -Directory $script:Quarantine -IncidentId 'INC-2'
        $second.quarantinePath | Should -Be $first.quarantinePath
        Test-Path -LiteralPath $secondNative | Should -BeFalse
        $folder = ConvertTo-TestNativePath -LiteralPath $script:Quarantine
        $names = [string[]]@(Get-ChildItem -LiteralPath $folder -Name)
        [System.Array]::Sort($names)
        $names | Should -Be @(($script:Hash + '.json'), ($script:Hash + '.quarantine'))
        $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath $second.manifestPath) -Raw | ConvertFrom-Json
        @(@($manifest.entries).originalPath) | Should -Be @('C:\Users\Public\evil.exe', 'C:\Users\alice\AppData\Local\Temp\copy.exe')
        @(@($manifest.entries).incidentId) | Should -Be @('INC-1', 'INC-2')
    }

    It 'leaves a second copy of the same content at its path when its entry cannot be written to the manifest' {
        $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1'
        $secondNative = New-TestFile -WindowsPath 'C:\Users\alice\AppData\Local\Temp\copy.exe' -Content $script:Content
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Update-SpawnGuardFileFrom -MockWith { throw (New-Object -TypeName System.IO.IOException -ArgumentList 'There is not enough space on the disk.') }
        { Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\alice\AppData\Local\Temp\copy.exe' -Directory $script:Quarantine -IncidentId 'INC-2' } | Should -Throw -ExceptionType ([System.IO.IOException])
        # Not deleted: the manifest does not know this path, so no restore could put the file back.
        Test-Path -LiteralPath $secondNative | Should -BeTrue
        $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.json')) -Raw | ConvertFrom-Json
        @(@($manifest.entries).originalPath) | Should -Be @('C:\Users\Public\evil.exe')
    }

    It 'refuses to add to a quarantined copy whose hash no longer matches its name, and leaves the file in place' {
        $null = New-TestFile -WindowsPath ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.quarantine') -Content 'tampered'
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1' } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'quarantine-corrupt'
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
    }

    It 'retries the move while the image of a process that just exited is still locked' {
        Reset-TestCallCount
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith {
            if ($PesterBoundParameters['Destination'].EndsWith('.quarantine') -and (Add-TestCallCount -Name 'move') -lt 3) { throw (New-Object -TypeName System.IO.IOException -ArgumentList 'The process cannot access the file because it is being used by another process.') }
            [System.IO.File]::Move((ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Source']), (ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Destination']))
        }
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1'
        $record.sha256After | Should -Be $script:Hash
        Test-Path -LiteralPath $script:EvilNative | Should -BeFalse
        # Three moves of the image (the manifest's own move from its temporary file is not counted).
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -Times 3 -Exactly -ParameterFilter { $PesterBoundParameters['Destination'].EndsWith('.quarantine') }
    }

    It 'gives up after four failed moves, leaving the original in place and no half-moved copy' {
        # A move across volumes is copy + delete: here the copy lands and the delete fails every time.
        # (Only the image's move: the manifest, written before it, moves in from its temporary file.)
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith {
            [System.IO.File]::Copy((ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Source']), (ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Destination']), $true)
            throw (New-Object -TypeName System.IO.IOException -ArgumentList 'The file is in use.')
        } -ParameterFilter { $PesterBoundParameters['Destination'].EndsWith('.quarantine') }
        { Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1' } | Should -Throw -ExceptionType ([System.IO.IOException])
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.quarantine')) | Should -BeFalse
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.json')) | Should -BeFalse
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -Times 4 -Exactly -ParameterFilter { $PesterBoundParameters['Destination'].EndsWith('.quarantine') }
    }

    It 'reports a file that changed while it was moved as hash-mismatch, with both hashes in the manifest' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Move-SpawnGuardFile -MockWith {
            $destination = ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Destination']
            [System.IO.File]::Move((ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['Source']), $destination)
            if ($destination.EndsWith('.quarantine')) { [System.IO.File]::AppendAllText($destination, ' and more') }
        }
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1' } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'hash-mismatch'
        $manifest = Get-Content -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('C:\ProgramData\spawnguard\quarantine\' + $script:Hash + '.json')) -Raw | ConvertFrom-Json
        $manifest.entries[0].sha256Before | Should -Be $script:Hash
        $manifest.entries[0].sha256After | Should -Be (Get-TestSha256 -Content ($script:Content + ' and more'))
    }

    It 'does nothing under -WhatIf' {
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -WhatIf
        $record | Should -BeNullOrEmpty
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath $script:Quarantine) | Should -BeFalse
    }
}

Describe 'Quarantine manifests and records' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        # Owners are Windows-only: the store is Administrators' unless a test says otherwise.
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return $null }
        $script:Quarantine = 'D:\Quarantine'
    }

    It 'writes a manifest as UTF-8 without a BOM, keeps a single entry a list, and rewrites it in place without leaving a temporary file' {
        $path = 'D:\Quarantine\' + ('a' * 64) + '.json'
        $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath $script:Quarantine)
        $entries = New-Object -TypeName System.Collections.ArrayList
        [void]$entries.Add([ordered]@{ originalPath = ('C:\Users\Public\' + [char]0x00E4 + '.exe'); incidentId = 'INC-1' })
        Save-SpawnGuardQuarantineManifest -LiteralPath $path -Manifest ([pscustomobject]@{ sha256 = ('a' * 64); quarantinePath = 'D:\Quarantine\x.quarantine'; size = 3; entries = $entries })
        $bytes = [System.IO.File]::ReadAllBytes((ConvertTo-TestNativePath -LiteralPath $path))
        $bytes[0] | Should -Be ([byte][char]'{')
        $read = Read-SpawnGuardQuarantineManifest -LiteralPath $path
        @($read.entries).Length | Should -Be 1
        $read.entries[0].originalPath | Should -Be ('C:\Users\Public\' + [char]0x00E4 + '.exe')

        [void]$read.entries.Add([ordered]@{ originalPath = 'C:\Temp\b.exe'; incidentId = 'INC-2' })
        Save-SpawnGuardQuarantineManifest -LiteralPath $path -Manifest $read
        $again = Read-SpawnGuardQuarantineManifest -LiteralPath $path
        @(@($again.entries).incidentId) | Should -Be @('INC-1', 'INC-2')
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ($path + '.tmp')) | Should -BeFalse
    }

    It 'reads no manifest where there is none' {
        Read-SpawnGuardQuarantineManifest -LiteralPath 'D:\Quarantine\missing.json' | Should -BeNullOrEmpty
    }

    It 'finds the record of a path quarantined earlier, whatever the path''s casing' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\Evil.exe' -Content 'payload'
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\Evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1' -Signer ''
        $found = Find-SpawnGuardQuarantineRecord -Directory $script:Quarantine -OriginalPath 'c:\users\public\EVIL.EXE'
        $found.quarantinePath | Should -Be $record.quarantinePath
        $found.manifestPath | Should -Be $record.manifestPath
        $found.sha256Before | Should -Be (Get-TestSha256 -Content 'payload')
        $found.originalPath | Should -Be 'C:\Users\Public\Evil.exe'
        Find-SpawnGuardQuarantineRecord -Directory $script:Quarantine -OriginalPath 'C:\Users\Public\other.exe' | Should -BeNullOrEmpty
    }

    It 'skips an unreadable manifest and a manifest whose quarantined copy is gone, and finds nothing without a folder' {
        Find-SpawnGuardQuarantineRecord -Directory 'D:\Nowhere' -OriginalPath 'C:\Users\Public\evil.exe' | Should -BeNullOrEmpty
        $null = New-TestFile -WindowsPath ('D:\Quarantine\' + ('b' * 64) + '.json') -Content '{ not json'
        $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'payload'
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $script:Quarantine -IncidentId 'INC-1'
        Find-SpawnGuardQuarantineRecord -Directory $script:Quarantine -OriginalPath 'C:\Users\Public\evil.exe' | Should -Not -BeNullOrEmpty
        Remove-Item -LiteralPath (ConvertTo-TestNativePath -LiteralPath $record.quarantinePath)
        Find-SpawnGuardQuarantineRecord -Directory $script:Quarantine -OriginalPath 'C:\Users\Public\evil.exe' | Should -BeNullOrEmpty
    }
}

Describe 'File hashes' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
    }

    It 'computes the lower-case SHA-256 and SHA-1 of a file, even with wildcard characters in its name' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\invoice[1].exe' -Content 'abc'
        Get-SpawnGuardFileHash -LiteralPath 'C:\Users\Public\invoice[1].exe' | Should -Be 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
        Get-SpawnGuardFileHash -LiteralPath 'C:\Users\Public\invoice[1].exe' -Algorithm SHA1 | Should -Be 'a9993e364706816aba3e25717850c26c9cd0d89d'
    }
}

Describe 'The quarantine store belongs to Administrators and SYSTEM' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return $null }
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Set-TestValue -Name 'Owner' -Value 'S-1-5-32-544'
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return (Get-TestValue -Name 'Owner') }
        $script:EvilNative = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'MZ store test'
    }

    It 'sets Administrators as the owner of the new store and of each quarantined file, not only their ACL' {
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory 'D:\Quarantine' -IncidentId 'INC-1'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq 'D:\Quarantine' }
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $record.quarantinePath }
    }

    It 'refuses a store owned by someone else, and leaves the file in place' {
        $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath 'D:\Quarantine')
        Set-TestValue -Name 'Owner' -Value 'S-1-5-21-1004336348-1177238915-682003330-1001'
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory 'D:\Quarantine' -IncidentId 'INC-1' } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'quarantine-untrusted'
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        @(Get-ChildItem -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'D:\Quarantine')).Length | Should -Be 0
    }

    It 'refuses a store reached through <Case> (never follows it), and leaves the file in place' -ForEach @(
        @{ Case = 'a link as the store itself'; Link = 'D:\Quarantine' },
        @{ Case = 'a link as a folder above the store'; Link = 'D:\Data' }
    ) {
        param($Link)
        $elsewhere = Join-Path -Path $TestDrive -ChildPath ('elsewhere-' + [System.Guid]::NewGuid().ToString('n'))
        $null = New-Item -ItemType Directory -Force -Path $elsewhere
        $linkNative = ConvertTo-TestNativePath -LiteralPath $Link
        $null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $linkNative -Parent)
        $null = New-Item -ItemType SymbolicLink -Path $linkNative -Target $elsewhere
        $directory = 'D:\Quarantine'
        if ($Link -eq 'D:\Data') { $directory = 'D:\Data\Quarantine' }
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory $directory -IncidentId 'INC-1' } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'quarantine-untrusted'
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        @(Get-ChildItem -LiteralPath $elsewhere -Recurse).Length | Should -Be 0
    }
}

Describe 'The right file is quarantined' {
    BeforeEach {
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('n')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardRestrictedAcl -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Set-SpawnGuardAdministratorsOwner -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardOwnerSid -MockWith { return 'S-1-5-32-544' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAccessSddl -MockWith { return 'D:(A;;FA;;;BA)' }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -MockWith { return }
        Set-TestAuthenticodeSignature -Signatures @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
        $script:Content = 'MZ right file'
        $script:Hash = Get-TestSha256 -Content $script:Content
        $script:EvilNative = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content $script:Content
    }

    It 'leaves a file whose SHA-256 is not the expected one in place (file-changed), writing nothing to the store' {
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory 'D:\Quarantine' -IncidentId 'INC-1' -ExpectedHash ('0' * 64) } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'file-changed'
        Test-Path -LiteralPath $script:EvilNative | Should -BeTrue
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'D:\Quarantine') | Should -BeFalse
    }

    It 'moves a copy back when the moved bytes turn out <Case>, and keeps no manifest' -ForEach @(
        @{ Case = 'signed by Microsoft'; Signature = 'microsoft'; Code = 'trusted-signer' },
        @{ Case = 'unreadable'; Signature = 'throw'; Code = 'signature-unknown' }
    ) {
        param($Signature, $Code)
        $value = $Signature
        if ($Signature -eq 'microsoft') { $value = New-TestSignature -Status 'Valid' -Subject 'CN=Microsoft Corporation, O=Microsoft Corporation, C=US' }
        # The file at the path looked unsigned; what landed in the store is what counts.
        Set-TestAuthenticodeSignature -Signatures @{ ('D:\Quarantine\' + $script:Hash + '.quarantine') = $value }
        $caught = $null
        try { $null = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory 'D:\Quarantine' -IncidentId 'INC-1' } catch { $caught = $_ }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be $Code
        [System.IO.File]::ReadAllText($script:EvilNative) | Should -Be $script:Content
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('D:\Quarantine\' + $script:Hash + '.quarantine')) | Should -BeFalse
        Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath ('D:\Quarantine\' + $script:Hash + '.json')) | Should -BeFalse
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Restore-SpawnGuardAccessSddl -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq 'C:\Users\Public\evil.exe' -and $PesterBoundParameters['Sddl'] -eq 'D:(A;;FA;;;BA)' }
    }

    It 'rebuilds the quarantined copy''s path from the store and the hash, never from the manifest' {
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath 'C:\Users\Public\evil.exe' -Directory 'D:\Quarantine' -IncidentId 'INC-1'
        $manifestNative = ConvertTo-TestNativePath -LiteralPath $record.manifestPath
        $text = [System.IO.File]::ReadAllText($manifestNative).Replace(($script:Hash + '.quarantine'), 'elsewhere.quarantine')
        [System.IO.File]::WriteAllText($manifestNative, $text)
        $null = New-TestFile -WindowsPath 'D:\Quarantine\elsewhere.quarantine' -Content 'other'
        $found = Find-SpawnGuardQuarantineRecord -Directory 'D:\Quarantine' -OriginalPath 'C:\Users\Public\evil.exe'
        $found.quarantinePath | Should -Be ('D:\Quarantine\' + $script:Hash + '.quarantine')
    }
}

Describe 'Authenticode signatures' {
    BeforeEach {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { Get-TestAuthenticodeSignature -LiteralPath $PesterBoundParameters['LiteralPath'] }
    }

    It 'maps Authenticode status <Status> to <Expected>' -ForEach @(
        @{ Status = 'Valid'; Subject = 'CN=Contoso Ltd'; Expected = 'valid' },
        @{ Status = 'NotSigned'; Subject = ''; Expected = 'unsigned' },
        @{ Status = 'NotSupportedFileFormat'; Subject = ''; Expected = 'unsigned' },
        @{ Status = 'HashMismatch'; Subject = 'CN=Contoso Ltd'; Expected = 'invalid' },
        @{ Status = 'NotTrusted'; Subject = 'CN=Contoso Ltd'; Expected = 'invalid' },
        @{ Status = 'Incompatible'; Subject = 'CN=Contoso Ltd'; Expected = 'invalid' },
        @{ Status = 'UnknownError'; Subject = ''; Expected = 'unknown' }
    ) {
        param($Status, $Subject, $Expected)
        Set-TestAuthenticodeSignature -Signatures @{} -Default (New-TestSignature -Status $Status -Subject $Subject)
        $signature = Get-SpawnGuardSignature -LiteralPath 'C:\Tools\tool.exe'
        $signature.status | Should -Be $Expected
        $signature.isMicrosoft | Should -BeFalse
        if ($Subject.Length -gt 0) { $signature.signer | Should -Be $Subject } else { $signature.signer | Should -BeNullOrEmpty }
    }

    It 'recognises a valid Microsoft signature, but not an invalid one' {
        Set-TestAuthenticodeSignature -Signatures @{
            'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE' = (New-TestSignature -Status 'Valid' -Subject $script:MicrosoftSubject)
            'C:\Users\Public\fake.exe'                                   = (New-TestSignature -Status 'HashMismatch' -Subject $script:MicrosoftSubject)
        }
        (Get-SpawnGuardSignature -LiteralPath 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE').isMicrosoft | Should -BeTrue
        $fake = Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\fake.exe'
        $fake.status | Should -Be 'invalid'
        $fake.isMicrosoft | Should -BeFalse
    }

    It 'reports a signature that cannot be read as unknown' {
        Set-TestAuthenticodeSignature -Signatures @{ 'C:\Users\Public\locked.exe' = 'throw' }
        $signature = Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\locked.exe'
        $signature.status | Should -Be 'unknown'
        $signature.signer | Should -BeNullOrEmpty
        $signature.isOsBinary | Should -BeFalse
    }

    It 'takes IsOSBinary from the signature when PowerShell reports it' {
        Set-TestAuthenticodeSignature -Signatures @{} -Default (New-TestSignature -Status 'Valid' -Subject $script:WindowsSubject -IsOSBinary)
        (Get-SpawnGuardSignature -LiteralPath 'C:\Windows\System32\notepad.exe').isOsBinary | Should -BeTrue
    }

    It 'derives IsOSBinary from a Microsoft Windows signature in System32 where PowerShell does not report it (before 5.1)' {
        Set-TestAuthenticodeSignature -Signatures @{} -Default (New-TestSignature -Status 'Valid' -Subject $script:WindowsSubject -NoIsOSBinary)
        (Get-SpawnGuardSignature -LiteralPath 'C:\Windows\System32\notepad.exe').isOsBinary | Should -BeTrue
        (Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\notepad.exe').isOsBinary | Should -BeFalse
    }

    It 'recognises Microsoft by the root of the signer''s chain, not by the subject: a "Microsoft Corporation" certificate from another root is not Microsoft' {
        Set-TestAuthenticodeSignature -Signatures @{
            'C:\Users\Public\lookalike.exe' = (New-TestSignature -Status 'Valid' -Subject $script:MicrosoftSubject -RootThumbprint 'D4DE20D05E66FC53FE1A50882C78DB2852CAE474')
            'C:\Users\Public\noroot.exe'    = (New-TestSignature -Status 'Valid' -Subject $script:MicrosoftSubject -RootThumbprint 'none')
            'C:\Program Files\Vendor\odd.exe' = (New-TestSignature -Status 'Valid' -Subject 'CN=Odd Name Ltd' -RootThumbprint '3b1efd3a66ea28b16697394703a72ca340a05bd5')
        }
        (Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\lookalike.exe').isMicrosoft | Should -BeFalse
        (Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\noroot.exe').isMicrosoft | Should -BeFalse
        Test-SpawnGuardTrustedSigner -Signature (Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\lookalike.exe') | Should -BeFalse
        # Microsoft Root Certificate Authority 2010, whatever the leaf calls itself.
        (Get-SpawnGuardSignature -LiteralPath 'C:\Program Files\Vendor\odd.exe').isMicrosoft | Should -BeTrue
    }

    It 'tells a Microsoft signer subject from look-alikes' {
        Test-SpawnGuardMicrosoftSigner -Signer $script:MicrosoftSubject | Should -BeTrue
        Test-SpawnGuardMicrosoftSigner -Signer 'Microsoft Windows Publisher' | Should -BeTrue
        Test-SpawnGuardMicrosoftSigner -Signer 'CN=Microsoftware Tools Inc' | Should -BeFalse
        Test-SpawnGuardMicrosoftSigner -Signer 'CN=Not Microsoft Corporation' | Should -BeFalse
        Test-SpawnGuardMicrosoftSigner -Signer '' | Should -BeFalse
    }

    It 'trusts <Case>' -ForEach @(
        @{ Case = 'a valid Microsoft signature without any configured publisher'; Status = 'Valid'; Subject = 'CN=Microsoft Corporation, O=Microsoft Corporation, C=US'; Publishers = @(); Expected = $true },
        @{ Case = 'a publisher listed by its full subject'; Status = 'Valid'; Subject = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; Publishers = @('cn=contoso ltd, o=contoso ltd, c=us'); Expected = $true },
        @{ Case = 'a publisher listed by its CN'; Status = 'Valid'; Subject = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; Publishers = @(' Contoso Ltd '); Expected = $true },
        @{ Case = 'a publisher listed as CN=...'; Status = 'Valid'; Subject = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; Publishers = @('CN=Contoso Ltd'); Expected = $true },
        @{ Case = 'a publisher whose quoted CN holds a comma'; Status = 'Valid'; Subject = 'CN="Contoso, Inc.", O=Contoso, C=US'; Publishers = @('Contoso, Inc.'); Expected = $true },
        @{ Case = 'nothing from a listed publisher whose signature is invalid'; Status = 'HashMismatch'; Subject = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; Publishers = @('Contoso Ltd'); Expected = $false },
        @{ Case = 'nothing from a valid but unlisted publisher'; Status = 'Valid'; Subject = 'CN=Fabrikam, O=Fabrikam, C=US'; Publishers = @('Contoso Ltd'); Expected = $false },
        @{ Case = 'nothing unsigned'; Status = 'NotSigned'; Subject = ''; Publishers = @('Contoso Ltd'); Expected = $false }
    ) {
        param($Status, $Subject, $Publishers, $Expected)
        Set-TestAuthenticodeSignature -Signatures @{} -Default (New-TestSignature -Status $Status -Subject $Subject)
        $signature = Get-SpawnGuardSignature -LiteralPath 'C:\Program Files\Vendor\tool.exe'
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers ([string[]]$Publishers) | Should -Be $Expected
    }
}

Describe 'Quarantine ACLs on a real Windows host' -Tag 'Windows' {
    It 'restricts the quarantined copy to Administrators and SYSTEM with inheritance off, and a restore puts the original ACL back' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: real NTFS ACLs (Set-SpawnGuardRestrictedAcl, Get/Restore-SpawnGuardAccessSddl) on real paths' }
        $folder = Join-Path -Path $TestDrive -ChildPath 'acl'
        $null = New-Item -ItemType Directory -Force -Path $folder
        $original = Join-Path -Path $folder -ChildPath 'tool.exe'
        [System.IO.File]::WriteAllText($original, 'MZ acl test')
        $sddlBefore = Get-SpawnGuardAccessSddl -LiteralPath $original
        $record = Move-SpawnGuardFileToQuarantine -LiteralPath $original -Directory (Join-Path -Path $folder -ChildPath 'quarantine') -IncidentId 'INC-ACL'
        # Protected (no inherited entries): the DACL starts with D:P; its only trustees are BA and SY.
        $sddl = Get-SpawnGuardAccessSddl -LiteralPath $record.quarantinePath
        $sddl | Should -Match '^D:P'
        $trustees = New-Object -TypeName System.Collections.Generic.SortedSet[string]
        foreach ($match in [regex]::Matches($sddl, ';([A-Z]{2}|S-[0-9-]+)\)')) { [void]$trustees.Add($match.Groups[1].Value) }
        @($trustees) | Should -Be @('BA', 'SY')
        $hash = Copy-SpawnGuardQuarantinedFile -QuarantinePath $record.quarantinePath -Destination $original -Sddl $sddlBefore
        $hash | Should -Be $record.sha256Before
        Get-SpawnGuardAccessSddl -LiteralPath $original | Should -Be $sddlBefore
    }
}
