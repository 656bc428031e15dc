<#
.SYNOPSIS
    Pester 5 tests of the read-only scripts: GetProcessTree.ps1, GetFileEnrichment.ps1 and
    FetchPersistenceEntries.ps1 (Windows only).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety.psm1') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
}

Describe 'GetProcessTree.ps1' {
    BeforeAll {
        $script:Script = Join-Path -Path $script:Root -ChildPath 'GetProcessTree.ps1'
        $word = New-TestProcess -ProcessId 500 -ParentProcessId 400 -Name 'WINWORD.EXE' -Path 'C:\Office\WINWORD.EXE' -Created (Get-Date -Date '2024-05-01T09:00:00Z')
        $word.PSObject.TypeNames.Insert(0, 'Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Process')
        $script:Processes = @(
            (New-TestProcess -ProcessId 400 -ParentProcessId 1 -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe'),
            $word,
            (New-TestProcess -ProcessId 600 -ParentProcessId 500 -Name 'cmd.exe' -Path 'C:\Windows\System32\cmd.exe' -Created (Get-Date -Date '2024-05-01T09:01:00Z')),
            (New-TestProcess -ProcessId 700 -ParentProcessId 600 -Name 'powershell.exe' -Path 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' -Created (Get-Date -Date '2024-05-01T09:02:00Z')),
            # PID 500 reused: this "child" started before its parent, so it is not part of the tree.
            (New-TestProcess -ProcessId 800 -ParentProcessId 500 -Name 'old.exe' -Path 'C:\old.exe' -Created (Get-Date -Date '2024-05-01T07:00:00Z'))
        )
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-CimInstance -MockWith { $script:Processes }
        Mock -CommandName Invoke-CimMethod -MockWith { [pscustomobject]@{ ReturnValue = 0; Domain = 'CONTOSO'; User = 'bob' } }
    }

    It 'reports the parent chain, the descendants, the owner and the creation time in ISO-8601' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ProcessIds '500,9999')
        $LASTEXITCODE | Should -Be 0
        $found = $document.results[0]
        $found.found | Should -BeTrue
        $found.owner | Should -Be 'CONTOSO\bob'
        $found.creationTime | Should -Be '2024-05-01T09:00:00.0000000Z'
        @($found.parentChain).Length | Should -Be 1
        $found.parentChain[0].name | Should -Be 'explorer.exe'
        @($found.descendants).Length | Should -Be 2
        $document.results[1].found | Should -BeFalse
    }
}

Describe 'GetFileEnrichment.ps1' {
    BeforeAll {
        $script:Script = Join-Path -Path $script:Root -ChildPath 'GetFileEnrichment.ps1'
        $script:File = Join-Path -Path $TestDrive -ChildPath 'svchost.exe'
        [System.IO.File]::WriteAllText($script:File, 'abc')
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'NotSigned'; SignerCertificate = $null }
        }
    }

    It 'hashes the file, reports it unsigned and a system name out of place' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths $script:File)
        $LASTEXITCODE | Should -Be 0
        $facts = $document.results[0]
        $facts.exists | Should -BeTrue
        $facts.sha256 | Should -Be 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
        $facts.sha1 | Should -Be 'a9993e364706816aba3e25717850c26c9cd0d89d'
        $facts.size | Should -Be 3
        $facts.signature.status | Should -Be 'unsigned'
        $facts.expectedLocation | Should -BeFalse
    }

    It 'reports a missing file as not existing, without failing' {
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths (Join-Path -Path $TestDrive -ChildPath 'gone.exe'))
        $LASTEXITCODE | Should -Be 0
        $document.results[0].exists | Should -BeFalse
    }
}

Describe 'FetchPersistenceEntries.ps1' {
    BeforeAll {
        $script:Script = Join-Path -Path $script:Root -ChildPath 'FetchPersistenceEntries.ps1'
    }

    It 'falls back to the Schedule.Service COM object where Get-ScheduledTask is missing, and flags the offending task' {
        $action = [pscustomobject]@{ Type = 0; Path = 'C:\Users\Public\evil.exe'; Arguments = '-q' }
        $definition = [pscustomobject]@{ Principal = [pscustomobject]@{ UserId = 'SYSTEM' }; Actions = @($action) }
        $task = [pscustomobject]@{ Name = 'Updater'; Path = '\Updater'; Definition = $definition }
        $folder = New-Object -TypeName psobject
        $folder | Add-Member -MemberType ScriptMethod -Name 'GetFolders' -Value { @() }
        $folder | Add-Member -MemberType ScriptMethod -Name 'GetTasks' -Value ({ @($task) }.GetNewClosure())
        $service = New-Object -TypeName psobject
        $service | Add-Member -MemberType ScriptMethod -Name 'Connect' -Value { return }
        $service | Add-Member -MemberType ScriptMethod -Name 'GetFolder' -Value ({ $folder }.GetNewClosure())
        Mock -CommandName Get-Command -ParameterFilter { $PesterBoundParameters['Name'] -eq 'Get-ScheduledTask' } -MockWith { return }
        Mock -CommandName New-Object -ParameterFilter { $PesterBoundParameters['ComObject'] -eq 'Schedule.Service' } -MockWith ({ $service }.GetNewClosure())

        $document = ConvertFrom-TestOutput -Output @(& $script:Script -ReferencePaths 'C:\Users\Public\evil.exe')
        $LASTEXITCODE | Should -Be 0
        $flagged = @($document.results | Where-Object -FilterScript { $_.kind -eq 'scheduled-task' -and $_.referencesTarget })
        $flagged.Length | Should -Be 1
        $flagged[0].name | Should -Be 'Updater'
        $flagged[0].imagePath | Should -Be 'C:\Users\Public\evil.exe'
        $flagged[0].matchedPath | Should -Be 'C:\Users\Public\evil.exe'
    }
}
