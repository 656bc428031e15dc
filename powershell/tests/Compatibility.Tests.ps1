<#
.SYNOPSIS
    Pester 5 tests of the differences between PowerShell 7 (where the tests run) and Windows
    PowerShell 5.1 (production) that the module handles in code: ConvertFrom-Json dates,
    ConvertTo-Json arrays and depth, $null passed to a .NET string parameter, and the C# 5
    compiler that Add-Type uses on 5.1.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
}

Describe 'ConvertFrom-Json dates' {
    It 'leaves an ISO-8601 string a string, where plain ConvertFrom-Json on PowerShell 7 makes it a DateTime' {
        $json = '{"startTime":"2024-05-01T10:00:00Z"}'
        $ours = ConvertFrom-SpawnGuardJson -Text $json
        $ours.startTime | Should -BeOfType [string]
        $ours.startTime | Should -Be '2024-05-01T10:00:00Z'
        $plain = ConvertFrom-Json -InputObject $json
        if ($PSVersionTable.PSVersion.Major -ge 6) {
            # The difference the wrapper exists for: 7 converts, 5.1 does not.
            $plain.startTime | Should -BeOfType [datetime]
        } else {
            $plain.startTime | Should -BeOfType [string]
        }
    }

    It 'keeps a request start time a string all the way into the target' {
        $request = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-TestRequest -Body @{ targets = @(@{ pid = 42; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-05-01T10:00:00.123Z' }) })
        $targets = ConvertFrom-SpawnGuardTargetRequest -Request $request
        $targets[0].startTime | Should -Be '2024-05-01T10:00:00.123Z'
    }
}

Describe 'ConvertTo-Json arrays and depth' {
    It 'writes a one-element list as a JSON array, although PowerShell unrolls one that a function returns' {
        # What goes wrong elsewhere: a list of one returned through the pipeline arrives as its element.
        $unrolled = & { return @(42) }
        (ConvertTo-Json -InputObject $unrolled -Depth 4 -Compress) | Should -Be '42'
        (ConvertTo-Json -InputObject @(42) -Depth 4 -Compress) | Should -Be '[42]'
        $result = New-SpawnGuardResult -Script 'Test.ps1'
        Add-SpawnGuardResultItem -Result $result -Item ([ordered]@{ pid = 42 })
        @(Write-SpawnGuardResult -Result $result -ExitCode 0)[0] | Should -Match '"results":\[\{"pid":42\}\]'
    }

    It 'truncates objects nested deeper than -Depth (silently on 5.1, whose default is 2), which the module''s document does not' {
        $deep = [ordered]@{ a = [ordered]@{ b = [ordered]@{ c = [ordered]@{ d = [ordered]@{ e = [ordered]@{ leaf = 'kept' } } } } } }
        $truncated = ConvertTo-Json -InputObject $deep -Depth 4 -Compress -WarningAction SilentlyContinue
        $truncated | Should -Not -Match 'kept'
        $result = New-SpawnGuardResult -Script 'Test.ps1'
        Add-SpawnGuardResultItem -Result $result -Item $deep
        @(Write-SpawnGuardResult -Result $result -ExitCode 0)[0] | Should -Match '"e":\{"leaf":"kept"\}'
    }
}

Describe '$null passed to a .NET string parameter' {
    BeforeAll {
        $script:Folder = Join-Path -Path $TestDrive -ChildPath 'replace'
        $null = New-Item -ItemType Directory -Force -Path $script:Folder
        Set-TestFileSystemRoot -Root $script:Folder
    }

    BeforeEach {
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
    }

    It 'arrives as an empty string, unlike [NullString]::Value' {
        # Path.GetFileName returns null for null and "" for "": PowerShell hands it "".
        $null -eq [System.IO.Path]::GetFileName($null) | Should -BeFalse
        $null -eq [System.IO.Path]::GetFileName([System.Management.Automation.Language.NullString]::Value) | Should -BeTrue
    }

    It 'makes File.Replace throw when $null is given as "no backup"' {
        $source = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\direct.tmp' -Content 'new'
        $destination = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\direct.json' -Content 'old'
        { [System.IO.File]::Replace($source, $destination, $null) } | Should -Throw
        [System.IO.File]::ReadAllText($destination) | Should -Be 'old'
    }

    It 'does not stop Update-SpawnGuardFileFrom, which replaces a file twice in a row without a backup' {
        $destination = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\manifest.json' -Content 'version 0'
        foreach ($version in @(1, 2)) {
            $null = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\manifest.json.tmp' -Content ('version ' + $version)
            Update-SpawnGuardFileFrom -Source 'C:\ProgramData\SpawnGuard\manifest.json.tmp' -Destination 'C:\ProgramData\SpawnGuard\manifest.json'
            [System.IO.File]::ReadAllText($destination) | Should -Be ('version ' + $version)
            Test-Path -LiteralPath (ConvertTo-TestNativePath -LiteralPath 'C:\ProgramData\SpawnGuard\manifest.json.tmp') | Should -BeFalse
        }
        # No backup file was left next to it.
        @(Get-ChildItem -LiteralPath (Split-Path -Path $destination -Parent) -Filter 'manifest*' | ForEach-Object -Process { $_.Name }) | Should -Be @('manifest.json')
    }
}

Describe 'The WTS API wrapper and the C# 5 compiler of Windows PowerShell 5.1' {
    BeforeAll {
        $script:WtsSource = & (Get-Module -Name 'SpawnGuard.Safety') { $script:WtsSource }
    }

    It 'compiles under this PowerShell and exposes Enumerate, Logoff and ActiveConsoleSessionId' {
        & (Get-Module -Name 'SpawnGuard.Safety') { Initialize-SpawnGuardWtsApi }
        $type = 'SpawnGuard.Wts' -as [type]
        $type | Should -Not -BeNullOrEmpty
        $names = @($type.GetMethods([System.Reflection.BindingFlags]'Public, Static') | ForEach-Object -Process { $_.Name })
        $names | Should -Contain 'Enumerate'
        $names | Should -Contain 'Logoff'
        $names | Should -Contain 'ActiveConsoleSessionId'
        $type.GetMethod('Logoff').ReturnType | Should -Be ([int])
        ('SpawnGuard.WtsSessionInfo' -as [type]).GetField('ClientAddress').FieldType | Should -Be ([string])
        # A second call does not compile it again (Add-Type would fail on the existing type).
        { & (Get-Module -Name 'SpawnGuard.Safety') { Initialize-SpawnGuardWtsApi } } | Should -Not -Throw
    }

    It 'uses no C# 6 or later syntax' {
        $script:WtsSource | Should -Not -BeNullOrEmpty
        $script:WtsSource | Should -Not -Match '\$"'
        $script:WtsSource | Should -Not -Match '\?\.'
        $script:WtsSource | Should -Not -Match '\?\?'
        $script:WtsSource | Should -Not -Match 'out\s+var\s'
        $script:WtsSource | Should -Not -Match '\bnameof\s*\('
        $script:WtsSource | Should -Not -Match '=>'
        $script:WtsSource | Should -Not -Match '\busing\s+static\b'
    }

    It 'compiles without errors as C# 5 (the language of the Windows PowerShell 5.1 compiler)' {
        if ($null -eq ('Microsoft.CodeAnalysis.CSharp.CSharpParseOptions' -as [type])) {
            Set-ItResult -Skipped -Because 'needs Roslyn (PowerShell 6+); Windows PowerShell 5.1 compiled the source with C# 5 in the test above'
        }
        # The Roslyn compiler Add-Type uses here, told to accept C# 5 only, against the loaded assemblies.
        $options = New-Object -TypeName Microsoft.CodeAnalysis.CSharp.CSharpParseOptions -ArgumentList ([Microsoft.CodeAnalysis.CSharp.LanguageVersion]::CSharp5)
        $references = New-Object -TypeName 'System.Collections.Generic.List[Microsoft.CodeAnalysis.MetadataReference]'
        foreach ($assembly in [System.AppDomain]::CurrentDomain.GetAssemblies()) {
            if (-not $assembly.IsDynamic -and -not [string]::IsNullOrEmpty($assembly.Location)) {
                $references.Add([Microsoft.CodeAnalysis.MetadataReference]::CreateFromFile($assembly.Location))
            }
        }
        $compilationOptions = New-Object -TypeName Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions -ArgumentList ([Microsoft.CodeAnalysis.OutputKind]::DynamicallyLinkedLibrary)
        $errorsOf = {
            param([string]$Source)
            $tree = [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree]::ParseText($Source, $options)
            $compilation = [Microsoft.CodeAnalysis.CSharp.CSharpCompilation]::Create('WtsCheck', [Microsoft.CodeAnalysis.SyntaxTree[]]@($tree), $references, $compilationOptions)
            return @($compilation.GetDiagnostics() | Where-Object -FilterScript { $_.Severity -eq [Microsoft.CodeAnalysis.DiagnosticSeverity]::Error } | ForEach-Object -Process { $_.ToString() })
        }
        & $errorsOf $script:WtsSource | Should -BeNullOrEmpty
        # The check does see C# 6 and 7: the same compiler refuses them (CS8026, feature not available in C# 5).
        $modern = & $errorsOf 'public class A { public string B(int c) { return $"{c}"; } public int D => 1; public string E(object o) { int x; int.TryParse("1", out var y); return o?.ToString(); } }'
        @($modern | Where-Object -FilterScript { $_ -match 'CS8026' }).Length | Should -Be 4
    }
}
