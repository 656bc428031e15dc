<#
.SYNOPSIS
    Pester 5 tests of the SpawnGuard.Safety module as a whole (its manifest, its concern files, what
    it exports) and of the signature checks (Files.ps1) with the Authenticode seam mocked.

.DESCRIPTION
    The module's logic is tested per concern, under pwsh:
      Requests.Tests.ps1        requests, analyst input, dates
      Paths.Tests.ps1           Windows paths, the protected list, service accounts
      Processes.Tests.ps1       snapshots, parent chains, descendants, protection, identity
      ProcessActions.Tests.ps1  stopping instances and trees, target plans, refused requests
      Output.Tests.ps1          typed errors, exit codes, the JSON document
      Platform.Tests.ps1        the Windows seam on real files (and on Windows)
      Compatibility.Tests.ps1   PowerShell 7 vs 5.1 differences, the C# 5 WTS wrapper
      Sessions.Tests.ps1        WTS sessions and logoff
    The cases of the earlier version of this file live on there (the protected list in Paths,
    analyst input and requests in Requests, the identity check in Processes, stopping one
    instance in ProcessActions, exit codes and the document in Output).
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:ModuleFolder = Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety'
}

Describe 'The SpawnGuard.Safety module' {
    It 'is a valid manifest module that declares PowerShell 3.0 as its floor' {
        $manifest = Test-ModuleManifest -Path (Join-Path -Path $script:ModuleFolder -ChildPath 'SpawnGuard.Safety.psd1') -WarningAction SilentlyContinue
        $manifest.PowerShellVersion | Should -Be ([version]'3.0')
        $manifest.RootModule | Should -Be 'SpawnGuard.Safety.psm1'
    }

    It 'exports exactly the functions its concern files define, and nothing else' {
        $defined = New-Object -TypeName System.Collections.ArrayList
        foreach ($file in Get-ChildItem -LiteralPath $script:ModuleFolder -Filter '*.ps1') {
            $tokens = $null
            $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref]$tokens, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because $file.Name
            foreach ($function in $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)) {
                [void]$defined.Add($function.Name)
            }
        }
        $exported = @((Get-Module -Name 'SpawnGuard.Safety').ExportedFunctions.Keys)
        @($exported | Sort-Object) | Should -Be @($defined | Sort-Object)
        (Get-Module -Name 'SpawnGuard.Safety').ExportedVariables.Count | Should -Be 0
    }

    It 'loads every concern file that is in its folder' {
        $loader = Get-Content -LiteralPath (Join-Path -Path $script:ModuleFolder -ChildPath 'SpawnGuard.Safety.psm1') -Raw
        foreach ($file in Get-ChildItem -LiteralPath $script:ModuleFolder -Filter '*.ps1') {
            $loader | Should -Match ("'" + [regex]::Escape($file.BaseName) + "'") -Because $file.Name
        }
    }

    It 'stops on errors and shows no progress inside its functions, whatever the caller prefers' {
        & (Get-Module -Name 'SpawnGuard.Safety') { $ErrorActionPreference } | Should -Be 'Stop'
        & (Get-Module -Name 'SpawnGuard.Safety') { $ProgressPreference } | Should -Be 'SilentlyContinue'
    }
}

Describe 'Signatures' {
    It 'treats a valid Microsoft signature as trusted and an unsigned file as not' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'Valid'; SignerCertificate = [pscustomobject]@{ Subject = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US' }; SignerRootThumbprint = '3B1EFD3A66EA28B16697394703A72CA340A05BD5' }
        }
        $signature = Get-SpawnGuardSignature -LiteralPath 'C:\Windows\System32\cmd.exe'
        $signature.status | Should -Be 'valid'
        $signature.isMicrosoft | Should -BeTrue
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @() | Should -BeTrue

        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'NotSigned'; SignerCertificate = $null }
        }
        $unsigned = Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\evil.exe'
        $unsigned.status | Should -Be 'unsigned'
        $unsigned.signer | Should -BeNullOrEmpty
        Test-SpawnGuardTrustedSigner -Signature $unsigned -TrustedPublishers @('Contoso Ltd') | Should -BeFalse
    }

    It 'does not trust a Microsoft subject whose signature does not verify' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith {
            [pscustomobject]@{ Status = 'HashMismatch'; SignerCertificate = [pscustomobject]@{ Subject = 'CN=Microsoft Corporation, O=Microsoft Corporation, C=US' } }
        }
        $tampered = Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\WINWORD.EXE'
        $tampered.status | Should -Be 'invalid'
        $tampered.isMicrosoft | Should -BeFalse
        Test-SpawnGuardTrustedSigner -Signature $tampered -TrustedPublishers @('Microsoft Corporation') | Should -BeFalse
    }

    It 'reports the status as unknown when the signature cannot be read' {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { throw 'The file is locked.' }
        (Get-SpawnGuardSignature -LiteralPath 'C:\Users\Public\evil.exe').status | Should -Be 'unknown'
    }

    It 'trusts a configured publisher by its CN' {
        $signature = [pscustomobject]@{ status = 'valid'; signer = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; isMicrosoft = $false; isOsBinary = $false }
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @('contoso ltd') | Should -BeTrue
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @('CN=Contoso Ltd') | Should -BeTrue
        Test-SpawnGuardTrustedSigner -Signature $signature -TrustedPublishers @('Contoso') | Should -BeFalse
    }
}
