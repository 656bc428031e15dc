<#
.SYNOPSIS
    Pester 5 tests of GetFileEnrichment.ps1, run under pwsh: Windows paths are mapped into a test
    folder and the real .NET file calls hash and measure real files; only Authenticode (and, for
    the failure cases, a file that will not open) is mocked.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'GetFileEnrichment.ps1'
    $script:SavedSystemRoot = $env:SystemRoot
    $env:SystemRoot = 'C:\Windows'
    $script:MicrosoftWindows = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'


    function New-BinaryFile {


        <#


        .SYNOPSIS


            Writes bytes at a Windows path (under the test root) and returns the real path.


        #>


        [CmdletBinding()]


        param([Parameter(Mandatory = $true)][string]$WindowsPath, [Parameter(Mandatory = $true)][AllowEmptyCollection()][byte[]]$Bytes)
        $native = ConvertTo-TestNativePath -LiteralPath $WindowsPath
        $null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $native -Parent)
        [System.IO.File]::WriteAllBytes($native, $Bytes)
        return $native
    }

    function Assert-FileEnrichmentResult {

        <#

        .SYNOPSIS

            Checks a document against FileEnrichmentResultSchema (common/host-contract.ts).

        #>

        [CmdletBinding()]

        param([Parameter(Mandatory = $true)][psobject]$Document)
        @($Document.PSObject.Properties.Name) | Should -Be @('script', 'ok', 'hostname', 'startedAt', 'finishedAt', 'results', 'errors')
        $Document.script | Should -Be 'GetFileEnrichment.ps1'
        $Document.ok | Should -BeOfType [bool]
        , $Document.results | Should -BeOfType [object[]]
        , $Document.errors | Should -BeOfType [object[]]
        foreach ($item in $Document.results) {
            @($item.PSObject.Properties.Name) | Should -Be @('path', 'exists', 'sha256', 'sha1', 'size', 'signature', 'versionInfo', 'expectedLocation')
            $item.path | Should -BeOfType [string]
            $item.exists | Should -BeOfType [bool]
            if ($null -ne $item.sha256) { $item.sha256 | Should -MatchExactly '^[0-9a-f]{64}$' }
            if ($null -ne $item.sha1) { $item.sha1 | Should -MatchExactly '^[0-9a-f]{40}$' }
            if ($null -ne $item.size) { $item.size | Should -BeOfType [long] }
            if ($null -ne $item.signature) {
                @($item.signature.PSObject.Properties.Name) | Should -Be @('status', 'signer', 'isMicrosoft', 'isOsBinary')
                $item.signature.status | Should -BeIn @('valid', 'invalid', 'unsigned', 'unknown')
                if ($null -ne $item.signature.signer) { $item.signature.signer | Should -BeOfType [string] }
                $item.signature.isMicrosoft | Should -BeOfType [bool]
                $item.signature.isOsBinary | Should -BeOfType [bool]
            }
            if ($null -ne $item.versionInfo) {
                @($item.versionInfo.PSObject.Properties.Name) | Should -Be @('originalFilename', 'companyName', 'productName', 'fileVersion')
                foreach ($property in $item.versionInfo.PSObject.Properties) {
                    if ($null -ne $property.Value) { $property.Value | Should -BeOfType [string] }
                }
            }
            if ($null -ne $item.expectedLocation) { $item.expectedLocation | Should -BeOfType [bool] }
        }
    }
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
}

Describe 'GetFileEnrichment.ps1' {
    BeforeEach {
        # A fresh Windows file system per test, under Pester's TestDrive.
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('N')))
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { [pscustomobject]@{ Status = 'NotSigned'; SignerCertificate = $null; IsOSBinary = $false } }
    }

    Context 'facts about a real file' {
        It 'hashes the file (SHA-256 and SHA-1 as .NET computes them independently) and reports its size' {
            # Binary content: NUL, high bytes and no text encoding to hide behind.
            $bytes = [byte[]](@(0x4D, 0x5A, 0x00, 0xFF, 0x90) + (1..250))
            $native = New-BinaryFile -WindowsPath 'C:\Users\Public\evil.exe' -Bytes $bytes
            $output = @(& $script:Script -Paths 'C:\Users\Public\evil.exe')
            $document = ConvertFrom-TestOutput -Output $output
            $LASTEXITCODE | Should -Be 0
            Assert-FileEnrichmentResult -Document $document
            $document.ok | Should -BeTrue
            $facts = $document.results[0]
            $facts.path | Should -Be 'C:\Users\Public\evil.exe'
            $facts.exists | Should -BeTrue
            $facts.size | Should -Be 255
            $facts.sha256 | Should -BeExactly (Get-TestFileHash -LiteralPath $native -Algorithm 'SHA256')
            $facts.sha1 | Should -BeExactly (Get-TestFileHash -LiteralPath $native -Algorithm 'SHA1')
            $facts.expectedLocation | Should -BeNullOrEmpty
            $output[0] | Should -Match '"expectedLocation":null'
            @($document.errors).Length | Should -Be 0
        }

        It 'reports the known digests of "abc" for a file holding those three bytes' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\abc.bin' -Content 'abc'
            $facts = (ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\abc.bin')).results[0]
            $facts.size | Should -Be 3
            $facts.sha256 | Should -BeExactly 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
            $facts.sha1 | Should -BeExactly 'a9993e364706816aba3e25717850c26c9cd0d89d'
            $facts.sha256 | Should -BeExactly (Get-TestSha256 -Content 'abc')
        }

        It 'hashes an empty file' {
            $null = New-BinaryFile -WindowsPath 'C:\Temp\empty.dll' -Bytes ([byte[]]@())
            $facts = (ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Temp\empty.dll')).results[0]
            $facts.exists | Should -BeTrue
            $facts.size | Should -Be 0
            $facts.sha256 | Should -BeExactly 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
        }

        It 'reports every version field of a file without a version resource as null' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\notes.txt' -Content 'not a PE image'
            $output = @(& $script:Script -Paths 'C:\Users\Public\notes.txt')
            $facts = (ConvertFrom-TestOutput -Output $output).results[0]
            $facts.versionInfo | Should -Not -BeNullOrEmpty
            $output[0] | Should -Match '"versionInfo":\{"originalFilename":null,"companyName":null,"productName":null,"fileVersion":null\}'
        }

        It 'reads the version resource of a real Microsoft assembly' {
            $source = [System.Management.Automation.PSObject].Assembly.Location
            $null = New-BinaryFile -WindowsPath 'C:\Program Files\PowerShell\7\System.Management.Automation.dll' -Bytes ([System.IO.File]::ReadAllBytes($source))
            $facts = (ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Program Files\PowerShell\7\System.Management.Automation.dll')).results[0]
            $facts.versionInfo.originalFilename | Should -Be 'System.Management.Automation.dll'
            $facts.versionInfo.companyName | Should -Be 'Microsoft Corporation'
            $facts.versionInfo.fileVersion | Should -Match '^\d+\.\d+\.\d+'
            $facts.size | Should -Be (New-Object -TypeName System.IO.FileInfo -ArgumentList $source).Length
        }

        It 'handles the \\?\C:\ prefix and reports the path as it was given' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'abc'
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ paths = @('\\?\C:\Users\Public\evil.exe') }))
            $LASTEXITCODE | Should -Be 0
            $document.results[0].path | Should -Be '\\?\C:\Users\Public\evil.exe'
            $document.results[0].exists | Should -BeTrue
            $document.results[0].sha256 | Should -BeExactly (Get-TestSha256 -Content 'abc')
        }

        It 'never opens a file on a share or behind a device path, and says so (as SYSTEM that would authenticate the machine account to the server)' -TestCases @(
            @{ Path = '\\fileserver\tools\psexec.exe' },
            @{ Path = '\\attacker@SSL\DavWWWRoot\tools\psexec.exe' },
            @{ Path = '\\?\UNC\fileserver\tools\psexec.exe' },
            @{ Path = '\\.\GLOBALROOT\Device\Mup\fileserver\tools\psexec.exe' }
        ) {
            param($Path)
            $null = New-TestFile -WindowsPath '\\fileserver\tools\psexec.exe' -Content 'remote tool'
            $output = @(& $script:Script -Paths $Path)
            $LASTEXITCODE | Should -Be 0
            $document = ConvertFrom-TestOutput -Output $output
            $document.results[0].exists | Should -BeFalse
            $document.results[0].sha256 | Should -BeNullOrEmpty
            $document.results[0].signature | Should -BeNullOrEmpty
            @($document.errors | Where-Object -FilterScript { $_.code -eq 'remote-path-unavailable' }).Count | Should -Be 1
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -Times 0 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 0 -Exactly
        }

        It 'splits analyst input at commas followed by a drive letter only, so a comma in a file name stays' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\invoice,final.exe' -Content 'one'
            $null = New-TestFile -WindowsPath 'D:\drop\two.exe' -Content 'two'
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\invoice,final.exe, D:\drop\two.exe')
            @($document.results | ForEach-Object -Process { $_.path }) | Should -Be @('C:\Users\Public\invoice,final.exe', 'D:\drop\two.exe')
            $document.results[0].sha256 | Should -BeExactly (Get-TestSha256 -Content 'one')
            $document.results[1].sha256 | Should -BeExactly (Get-TestSha256 -Content 'two')
        }

        It 'reports a missing file as not existing, every fact null, and still succeeds' {
            $output = @(& $script:Script -Paths 'C:\Users\Public\gone.exe')
            $document = ConvertFrom-TestOutput -Output $output
            $LASTEXITCODE | Should -Be 0
            Assert-FileEnrichmentResult -Document $document
            $document.ok | Should -BeTrue
            $output[0] | Should -Match '\{"path":"C:\\\\Users\\\\Public\\\\gone.exe","exists":false,"sha256":null,"sha1":null,"size":null,"signature":null,"versionInfo":null,"expectedLocation":null\}'
            @($document.errors).Length | Should -Be 0
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 0 -Exactly
        }

        It 'does not take a folder for a file' {
            $null = New-Item -ItemType Directory -Force -Path (ConvertTo-TestNativePath -LiteralPath 'C:\Users\Public\folder.exe')
            $facts = (ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\folder.exe')).results[0]
            $facts.exists | Should -BeFalse
        }
    }

    Context 'expected location of system names' {
        It 'says whether <Path> is where that name belongs: <Expected>' -TestCases @(
            @{ Path = 'C:\Windows\System32\svchost.exe'; Expected = $true },
            @{ Path = 'C:\Windows\SysWOW64\rundll32.exe'; Expected = $true },
            @{ Path = 'C:\Windows\explorer.exe'; Expected = $true },
            @{ Path = 'C:\Users\Public\svchost.exe'; Expected = $false },
            @{ Path = 'C:\Windows\Temp\lsass.exe'; Expected = $false },
            @{ Path = 'C:\ProgramData\explorer.exe'; Expected = $false }
        ) {
            $null = New-TestFile -WindowsPath $Path -Content 'MZ'
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths $Path)
            $LASTEXITCODE | Should -Be 0
            $document.results[0].expectedLocation | Should -Be $Expected
            $document.results[0].expectedLocation | Should -BeOfType [bool]
        }

        It 'judges the location of a system name even when the file is gone' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\lsass.exe')
            $document.results[0].exists | Should -BeFalse
            $document.results[0].expectedLocation | Should -BeFalse
        }
    }

    Context 'signatures' {
        It 'maps Authenticode <Status> signed by <Signer> to <Expected>, isMicrosoft <IsMicrosoft>' -TestCases @(
            @{ Status = 'Valid'; Signer = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'; IsOsBinary = $true; Expected = 'valid'; IsMicrosoft = $true },
            @{ Status = 'Valid'; Signer = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'; IsOsBinary = $false; Expected = 'valid'; IsMicrosoft = $true },
            @{ Status = 'Valid'; Signer = 'CN=Contoso Ltd, O=Contoso Ltd, C=US'; IsOsBinary = $false; Expected = 'valid'; IsMicrosoft = $false },
            @{ Status = 'Valid'; Signer = 'CN=Microsoftt Windows Update'; IsOsBinary = $false; Expected = 'valid'; IsMicrosoft = $false },
            @{ Status = 'HashMismatch'; Signer = 'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'; IsOsBinary = $false; Expected = 'invalid'; IsMicrosoft = $false },
            @{ Status = 'NotTrusted'; Signer = 'CN=Evil Self Signed'; IsOsBinary = $false; Expected = 'invalid'; IsMicrosoft = $false },
            @{ Status = 'Incompatible'; Signer = 'CN=Contoso Ltd'; IsOsBinary = $false; Expected = 'invalid'; IsMicrosoft = $false },
            @{ Status = 'NotSigned'; Signer = $null; IsOsBinary = $false; Expected = 'unsigned'; IsMicrosoft = $false },
            @{ Status = 'NotSupportedFileFormat'; Signer = $null; IsOsBinary = $false; Expected = 'unsigned'; IsMicrosoft = $false },
            @{ Status = 'UnknownError'; Signer = $null; IsOsBinary = $false; Expected = 'unknown'; IsMicrosoft = $false }
        ) {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\notepad.exe' -Content 'MZ'
            $certificate = $null
            if ($null -ne $Signer) { $certificate = [pscustomobject]@{ Subject = $Signer } }
            # The seam adds the root of the signer's chain; a Microsoft signer chains to Microsoft Root Certificate Authority 2011.
            $root = $null
            if ($Signer -match '^CN=Microsoft (Windows|Corporation),') { $root = '8F43288AD272F3103B6FB1428485EA3014C0BCFE' }
            $signature = [pscustomobject]@{ Status = $Status; SignerCertificate = $certificate; IsOSBinary = $IsOsBinary; SignerRootThumbprint = $root }
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith ({ $signature }.GetNewClosure())
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Windows\System32\notepad.exe')
            $LASTEXITCODE | Should -Be 0
            Assert-FileEnrichmentResult -Document $document
            $result = $document.results[0].signature
            $result.status | Should -Be $Expected
            $result.signer | Should -Be $Signer
            $result.isMicrosoft | Should -Be $IsMicrosoft
            $result.isOsBinary | Should -Be $IsOsBinary
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq 'C:\Windows\System32\notepad.exe' }
        }

        It 'reports the signature as unknown, not as a failure, when Authenticode cannot be read' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'MZ'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith { throw 'The catalog database is busy.' }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\evil.exe')
            $LASTEXITCODE | Should -Be 0
            $document.results[0].signature.status | Should -Be 'unknown'
            $document.results[0].signature.signer | Should -BeNullOrEmpty
            $document.results[0].sha256 | Should -BeExactly (Get-TestSha256 -Content 'MZ')
        }

        It 'derives isOsBinary where Windows PowerShell has no IsOSBinary (before 5.1): <Path> gives <Expected>' -TestCases @(
            @{ Path = 'C:\Windows\System32\cmd.exe'; Expected = $true },
            @{ Path = 'C:\Users\Public\cmd.exe'; Expected = $false }
        ) {
            $null = New-TestFile -WindowsPath $Path -Content 'MZ'
            $subject = $script:MicrosoftWindows
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardAuthenticodeSignature -MockWith ({ [pscustomobject]@{ Status = 'Valid'; SignerCertificate = [pscustomobject]@{ Subject = $subject }; SignerRootThumbprint = '8F43288AD272F3103B6FB1428485EA3014C0BCFE' } }.GetNewClosure())
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths $Path)
            $document.results[0].signature.isMicrosoft | Should -BeTrue
            $document.results[0].signature.isOsBinary | Should -Be $Expected
        }
    }

    Context 'facts that cannot be read' {
        It 'notes an unreadable file as hash-unavailable, keeps the other facts and still succeeds' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\locked.exe' -Content 'locked'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Open-SpawnGuardFileForRead -MockWith { throw (New-Object -TypeName System.IO.IOException -ArgumentList 'The process cannot access the file because it is being used by another process.') }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\locked.exe')
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            $facts = $document.results[0]
            $facts.exists | Should -BeTrue
            $facts.size | Should -Be 6
            $facts.sha256 | Should -BeNullOrEmpty
            $facts.sha1 | Should -BeNullOrEmpty
            $facts.signature.status | Should -Be 'unsigned'
            $document.errors[0].code | Should -Be 'hash-unavailable'
            $document.errors[0].message | Should -Match '^C:\\Users\\Public\\locked\.exe: The process cannot access the file'
        }

        It 'notes an unreadable version resource as version-info-unavailable and still succeeds' {
            $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'MZ'
            # The script itself reads the version resource (not the module), so this mock lives in the test's scope.
            Mock -CommandName Get-SpawnGuardVersionInfo -MockWith { throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList 'Access to the path is denied.') }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths 'C:\Users\Public\evil.exe')
            $LASTEXITCODE | Should -Be 0
            $document.ok | Should -BeTrue
            $document.results[0].versionInfo | Should -BeNullOrEmpty
            $document.results[0].sha256 | Should -BeExactly (Get-TestSha256 -Content 'MZ')
            $document.errors[0].code | Should -Be 'version-info-unavailable'
        }

        It 'answers <Case> with a <Code> note, no file access, and exit code 0' -TestCases @(
            @{ Case = 'a relative path'; Path = 'evil.exe'; Code = 'path-unavailable' },
            @{ Case = 'a drive-relative path'; Path = 'C:evil.exe'; Code = 'path-unavailable' },
            @{ Case = 'a device path'; Path = '\\.\PhysicalDrive0'; Code = 'remote-path-unavailable' },
            @{ Case = 'an NT object path'; Path = '\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy1\evil.exe'; Code = 'remote-path-unavailable' },
            @{ Case = 'a wildcard'; Path = 'C:\Users\Public\*.exe'; Code = 'path-unavailable' }
        ) {
            $output = @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ paths = @($Path, 'C:\Users\Public\other.exe') }))
            $document = ConvertFrom-TestOutput -Output $output
            $LASTEXITCODE | Should -Be 0
            Assert-FileEnrichmentResult -Document $document
            $document.ok | Should -BeTrue
            @($document.results).Length | Should -Be 2
            $document.results[0].path | Should -Be $Path
            $document.results[0].exists | Should -BeFalse
            $document.results[0].expectedLocation | Should -BeNullOrEmpty
            @($document.errors).Length | Should -Be 1
            $document.errors[0].code | Should -Be $Code
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['LiteralPath'] -eq $Path }
        }
    }

    Context 'invalid requests' {
        It 'answers <Case> with exit code 2 and an invalid-request error' -TestCases @(
            @{ Case = 'no path at all'; Body = $null; Arguments = @{} },
            @{ Case = 'only blanks'; Body = $null; Arguments = @{ Paths = '   ' } },
            @{ Case = 'both -Request and -Paths'; Body = @{ paths = @('C:\a.exe') }; Arguments = @{ Paths = 'C:\a.exe' } },
            @{ Case = 'an empty list'; Body = @{ paths = @() }; Arguments = @{} },
            @{ Case = '65 paths'; Body = @{ paths = @(1..65 | ForEach-Object -Process { 'C:\f' + $_ + '.exe' }) }; Arguments = @{} },
            @{ Case = 'a path that is not text'; Body = @{ paths = @(42) }; Arguments = @{} },
            @{ Case = 'an empty path'; Body = @{ paths = @('') }; Arguments = @{} },
            @{ Case = 'paths that are not a list'; Body = @{ paths = 'C:\a.exe' }; Arguments = @{} }
        ) {
            # The request is encoded here: the helpers are not loaded while Pester discovers the cases.
            if ($null -ne $Body) { $Arguments['Request'] = ConvertTo-TestRequest -Body $Body }
            $document = ConvertFrom-TestOutput -Output @(& $script:Script @Arguments)
            $LASTEXITCODE | Should -Be 2
            Assert-FileEnrichmentResult -Document $document
            $document.ok | Should -BeFalse
            $document.errors[0].code | Should -Be 'invalid-request'
            @($document.results).Length | Should -Be 0
        }

        It 'accepts 64 paths, the most a request may name' {
            $document = ConvertFrom-TestOutput -Output @(& $script:Script -Request (ConvertTo-TestRequest -Body @{ paths = @(1..64 | ForEach-Object -Process { 'C:\f' + $_ + '.exe' }) }))
            $LASTEXITCODE | Should -Be 0
            @($document.results).Length | Should -Be 64
        }
    }
}

Describe 'GetFileEnrichment.ps1 on a real Windows host' {
    It 'reports cmd.exe in System32 as validly signed by Microsoft, an OS binary, where it belongs' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: Authenticode (catalog-signed cmd.exe) and the real System32' }
        $path = [System.Environment]::SystemDirectory + '\cmd.exe'
        $document = ConvertFrom-TestOutput -Output @(& $script:Script -Paths $path)
        $LASTEXITCODE | Should -Be 0
        $facts = $document.results[0]
        $facts.exists | Should -BeTrue
        $facts.signature.status | Should -Be 'valid'
        $facts.signature.isMicrosoft | Should -BeTrue
        $facts.signature.isOsBinary | Should -BeTrue
        $facts.versionInfo.originalFilename | Should -Be 'Cmd.Exe'
        $facts.expectedLocation | Should -BeTrue
        $facts.sha256 | Should -BeExactly (Get-TestFileHash -LiteralPath $path -Algorithm 'SHA256')
    }
}
