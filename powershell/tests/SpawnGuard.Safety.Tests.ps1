<#
.SYNOPSIS
    Pester 5 tests of SpawnGuard.Safety.psm1 (Windows only: Invoke-Pester -Path powershell\tests).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety.psm1') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
}

Describe 'The protected list' {
    It 'protects lsass.exe in System32 but not an impostor of the same name elsewhere' {
        Test-SpawnGuardCriticalProcess -Name 'lsass.exe' -Path 'C:\Windows\System32\lsass.exe' | Should -BeTrue
        Test-SpawnGuardCriticalProcess -Name 'lsass.exe' -Path 'C:\Users\Public\lsass.exe' | Should -BeFalse
    }

    It 'protects PID 0 and 4 whatever they are called' {
        Test-SpawnGuardCriticalProcess -ProcessId 4 -Name 'anything.exe' -Path 'C:\x\anything.exe' | Should -BeTrue
        Test-SpawnGuardCriticalProcess -ProcessId 0 -Name 'Idle' -Path '' | Should -BeTrue
    }

    It 'refuses a critical name whose path cannot be read (an impostor cannot be proven)' {
        Test-SpawnGuardCriticalProcess -Name 'csrss' -Path '' | Should -BeTrue
    }

    It 'knows the PowerShell hosts by name and by path' {
        Test-SpawnGuardPowerShellHost -Name 'powershell' -Path '' | Should -BeTrue
        Test-SpawnGuardPowerShellHost -Name '' -Path 'C:\Program Files\PowerShell\7\pwsh.exe' | Should -BeTrue
        Test-SpawnGuardPowerShellHost -Name 'cmd.exe' -Path '' | Should -BeFalse
    }

    It 'recognizes service accounts and machine accounts' {
        Test-SpawnGuardServiceAccount -Name 'SYSTEM' -Domain 'NT AUTHORITY' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'DWM-1' -Domain 'Window Manager' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'SRV01$' -Domain 'CONTOSO' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'bob' -Domain 'CONTOSO' | Should -BeFalse
    }

    It 'treats only a service-hosted svchost.exe as a shared host' {
        $services = New-TestProcess -ProcessId 700 -ParentProcessId 600 -Name 'services.exe' -Path 'C:\Windows\System32\services.exe'
        $hosted = New-TestProcess -ProcessId 800 -ParentProcessId 700 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe'
        $word = New-TestProcess -ProcessId 900 -ParentProcessId 1 -Name 'WINWORD.EXE' -Path 'C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE'
        $hollowed = New-TestProcess -ProcessId 901 -ParentProcessId 900 -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' -Created (Get-Date)
        $snapshot = @((ConvertTo-SpawnGuardProcessRecord -Process $services), (ConvertTo-SpawnGuardProcessRecord -Process $hosted), (ConvertTo-SpawnGuardProcessRecord -Process $word), (ConvertTo-SpawnGuardProcessRecord -Process $hollowed))
        Test-SpawnGuardServiceHostedSvchost -Process $snapshot[1] -Snapshot $snapshot | Should -BeTrue
        Test-SpawnGuardServiceHostedSvchost -Process $snapshot[3] -Snapshot $snapshot | Should -BeFalse
    }

    It 'refuses the genuine explorer.exe but not an impostor of it' {
        $explorer = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 2100 -ParentProcessId 2000 -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe')
        $impostor = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 2200 -ParentProcessId 2100 -Name 'explorer.exe' -Path 'C:\Users\Public\explorer.exe')
        $snapshot = @($explorer, $impostor)
        Get-SpawnGuardProtectionReason -Process $explorer -WorkerProcessIds @() -Snapshot $snapshot | Should -Be 'shared-host'
        Get-SpawnGuardProtectionReason -Process $impostor -WorkerProcessIds @() -Snapshot $snapshot | Should -BeNullOrEmpty
    }
}

Describe 'Analyst input' {
    It 'parses decimal PIDs, hex PIDs and paths, keeping a comma that is part of a path' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234,0x4D2,C:\a,1\evil.exe')
        $targets.Length | Should -Be 3
        $targets[0].pid | Should -Be 1234
        $targets[1].pid | Should -Be 1234
        $targets[2].imagePath | Should -Be 'C:\a,1\evil.exe'
        $targets[2].byPath | Should -BeTrue
    }

    It 'rejects a bare program name (never resolved against PATH)' {
        { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('evil.exe') } | Should -Throw
    }

    It 'splits paths only where a new path starts' {
        $paths = Split-SpawnGuardPathList -Text @('C:\a,b\x.exe,D:\y.dll')
        $paths.Length | Should -Be 2
        $paths[0] | Should -Be 'C:\a,b\x.exe'
    }
}

Describe 'Requests' {
    It 'decodes base64 of UTF-8 JSON and keeps a one-element array an array' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-TestRequest -Body @{ incidentId = 'INC-1'; targets = @(@{ pid = 42 }) })
        $targets = ConvertFrom-SpawnGuardTargetRequest -Request $decoded
        $targets.Length | Should -Be 1
        $targets[0].pid | Should -Be 42
    }

    It 'refuses text that is not base64, as an invalid request' {
        $caught = $null
        try {
            $null = ConvertFrom-SpawnGuardRequest -Request 'not base64!'
        } catch {
            $caught = $_
        }
        Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'invalid-request'
    }

    It 'refuses a start time that is not a time' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-TestRequest -Body @{ targets = @(@{ pid = 42; startTime = 'yesterday-ish' }) })
        { ConvertFrom-SpawnGuardTargetRequest -Request $decoded } | Should -Throw
    }
}

Describe 'The identity check' {
    BeforeAll {
        $script:Started = Get-Date -Date '2024-05-01T10:00:00Z'
        $script:Record = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' -Created $script:Started)
    }

    It 'accepts the same image started at the same time' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'c:\users\public\EVIL.exe' -ExpectedStartTime '2024-05-01T10:00:00.500Z' | Should -BeNullOrEmpty
    }

    It 'reports a PID now running another image as reused' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath 'C:\Temp\other.exe' -ExpectedStartTime '' | Should -Be 'pid-reused'
    }

    It 'reports the same image started at another time as reused' {
        Test-SpawnGuardProcessIdentity -Process $script:Record -ExpectedImagePath '' -ExpectedStartTime '2024-05-01T09:00:00Z' | Should -Be 'pid-reused'
    }
}

Describe 'Stopping one process instance' {
    BeforeEach {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -MockWith { return }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-Process -MockWith { return }
    }

    It 'does not stop a PID that now belongs to another process' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-CimInstance -MockWith {
            New-TestProcess -ProcessId 42 -Name 'notepad.exe' -Path 'C:\Windows\System32\notepad.exe' -Created (Get-Date)
        }
        $seen = ConvertTo-SpawnGuardProcessRecord -Process (New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe')
        Stop-SpawnGuardProcessInstance -Process $seen | Should -Be 'already-done'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -Times 0 -Exactly
    }

    It 'stops the instance it saw and waits for it to exit' {
        $script:Evil = New-TestProcess -ProcessId 42 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe'
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-CimInstance -MockWith { $script:Evil }
        Stop-SpawnGuardProcessInstance -Process (ConvertTo-SpawnGuardProcessRecord -Process $script:Evil) | Should -Be 'done'
        Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Stop-Process -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Id'] -eq 42 }
    }
}

Describe 'Signatures' {
    It 'treats a valid Microsoft signature as trusted and an unsigned file as not' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'Valid'; SignerCertificate = [pscustomobject]@{ Subject = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US' } }
        }
        $signature = Get-SpawnGuardSignature -LiteralPath 'C:\Windows\System32\cmd.exe'
        $signature.isMicrosoft | Should -BeTrue
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @() | Should -BeTrue

        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'NotSigned'; SignerCertificate = $null }
        }
        $unsigned = Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\evil.exe'
        $unsigned.status | Should -Be 'unsigned'
        Test-SpawnGuardTrustedSigner -Signature $unsigned -TrustedPublishers @('Contoso Ltd') | Should -BeFalse
    }

    It 'trusts a configured publisher by its CN' {
        $signature = [pscustomobject]@{ status = 'valid'; signer = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; isMicrosoft = $false; isOsBinary = $false }
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @('contoso ltd') | Should -BeTrue
    }
}

Describe 'Exit codes and the result document' {
    It 'maps item statuses and errors to the runner exit codes' {
        $result = New-SpawnGuardResult -Script 'Test.ps1'
        Get-SpawnGuardExitCode -Result $result | Should -Be 0
        Add-SpawnGuardResultItem -Result $result -Item ([ordered]@{ status = 'skipped'; reason = 'protected-process' })
        Get-SpawnGuardExitCode -Result $result | Should -Be 3
        $partial = New-SpawnGuardResult -Script 'Test.ps1'
        Add-SpawnGuardError -Result $partial -Code 'wmi-subscription-unavailable' -Message 'x'
        Get-SpawnGuardExitCode -Result $partial | Should -Be 0
        Add-SpawnGuardError -Result $partial -Code 'invalid-request' -Message 'x'
        Get-SpawnGuardExitCode -Result $partial | Should -Be 2
    }

    It 'prints one JSON document whose one-element results stay a list' {
        $result = New-SpawnGuardResult -Script 'Test.ps1'
        Add-SpawnGuardResultItem -Result $result -Item ([ordered]@{ pid = 1; terminatedPids = [object[]]@(1) })
        $document = ConvertFrom-TestOutput -Output @(Write-SpawnGuardResult -Result $result -ExitCode 0)
        $document.ok | Should -BeTrue
        $document.results -is [System.Array] | Should -BeTrue
        @($document.results).Length | Should -Be 1
        $document.results[0].terminatedPids -is [System.Array] | Should -BeTrue
    }
}
