<#
.SYNOPSIS
    Pester 5 tests of Windows paths as text (SpawnGuard.Safety/Paths.ps1) and of the protected
    process and account checks built on them (Protection.ps1). Pure logic, run under pwsh.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:SavedSystemRoot = $env:SystemRoot
    $env:SystemRoot = 'C:\Windows'
}

AfterAll {
    $env:SystemRoot = $script:SavedSystemRoot
}

Describe 'Test-SpawnGuardAbsolutePath' {
    It 'accepts full local paths, \\?\ local paths and UNC paths' {
        foreach ($path in @('C:\Users\Public\evil.exe', 'd:\x', '\\?\C:\Users\Public\evil.exe', '\\server\share\evil.exe', 'C:\a,1\x [1].exe')) {
            Test-SpawnGuardAbsolutePath -Path $path | Should -BeTrue -Because $path
        }
    }

    It 'rejects relative paths, bare names, device paths, wildcards and NUL characters' {
        foreach ($path in @('evil.exe', 'tools\evil.exe', 'C:evil.exe', '\Windows\evil.exe', '\\.\PhysicalDrive0', '\\?\UNC\server\share\x', '\\server', 'C:\x\*.exe', 'C:\x\a?.exe', 'C:\x\a|b', ('C:\x\a' + [char]0 + '.exe'), '', $null)) {
            Test-SpawnGuardAbsolutePath -Path $path | Should -BeFalse -Because ([string]$path)
        }
    }

    It 'rejects a path longer than 32,767 characters' {
        Test-SpawnGuardAbsolutePath -Path ('C:\' + ('a' * 32765)) | Should -BeFalse
        Test-SpawnGuardAbsolutePath -Path ('C:\' + ('a' * 32764)) | Should -BeTrue
    }
}

Describe 'Normalizing paths and names' {
    It 'lower-cases, turns slashes into backslashes and drops the \\?\ and \??\ prefixes' {
        ConvertTo-SpawnGuardNormalizedPath -Path ' C:/Users/Public/EVIL.exe ' | Should -Be 'c:\users\public\evil.exe'
        ConvertTo-SpawnGuardNormalizedPath -Path '\\?\C:\Windows\System32\LSASS.EXE' | Should -Be 'c:\windows\system32\lsass.exe'
        ConvertTo-SpawnGuardNormalizedPath -Path '\??\C:\Windows\x.sys' | Should -Be 'c:\windows\x.sys'
        ConvertTo-SpawnGuardNormalizedPath -Path $null | Should -Be ''
    }

    It 'gives the lower-cased file name of a path' {
        Get-SpawnGuardBaseName -Path 'C:\Users\Public\Evil.EXE' | Should -Be 'evil.exe'
        Get-SpawnGuardBaseName -Path 'evil.exe' | Should -Be 'evil.exe'
        Get-SpawnGuardBaseName -Path '' | Should -Be ''
    }

    It 'adds .exe to a process name where it is missing, except for the kernel pseudo-processes' {
        ConvertTo-SpawnGuardImageName -Name 'LSASS' | Should -Be 'lsass.exe'
        ConvertTo-SpawnGuardImageName -Name 'winword.EXE' | Should -Be 'winword.exe'
        ConvertTo-SpawnGuardImageName -Name 'System' | Should -Be 'system'
        ConvertTo-SpawnGuardImageName -Name 'Registry' | Should -Be 'registry'
        ConvertTo-SpawnGuardImageName -Name 'Memory Compression' | Should -Be 'memory compression'
        ConvertTo-SpawnGuardImageName -Name '' | Should -Be ''
    }

    It 'takes the list name from the process name, else from the path' {
        Get-SpawnGuardProcessName -Name 'csrss' -Path 'C:\Users\Public\other.exe' | Should -Be 'csrss.exe'
        Get-SpawnGuardProcessName -Name '' -Path 'C:\Windows\System32\CSRSS.EXE' | Should -Be 'csrss.exe'
        Get-SpawnGuardProcessName -Name $null -Path $null | Should -Be ''
    }
}

Describe 'System locations' {
    It 'knows System32, SysWOW64 and WinSxS (also through \\?\ and mixed case), and nothing else' {
        Test-SpawnGuardSystemPath -Path 'C:\Windows\System32\lsass.exe' | Should -BeTrue
        Test-SpawnGuardSystemPath -Path '\\?\C:\WINDOWS\SysWOW64\cmd.exe' | Should -BeTrue
        Test-SpawnGuardSystemPath -Path 'c:\windows\winsxs\amd64_x\svchost.exe' | Should -BeTrue
        Test-SpawnGuardSystemPath -Path 'C:\Windows\System32Evil\lsass.exe' | Should -BeFalse
        Test-SpawnGuardSystemPath -Path 'C:\Windows\explorer.exe' | Should -BeFalse
        Test-SpawnGuardSystemPath -Path 'C:\Users\Public\System32\lsass.exe' | Should -BeFalse
        Test-SpawnGuardSystemPath -Path '' | Should -BeFalse
    }

    It 'follows the Windows folder of this machine when it is not C:\Windows' {
        $saved = $env:SystemRoot
        try {
            $env:SystemRoot = 'D:\WINNT'
            Test-SpawnGuardSystemPath -Path 'D:\WinNT\System32\lsass.exe' | Should -BeTrue
            Test-SpawnGuardSystemPath -Path 'D:\Other\System32\lsass.exe' | Should -BeFalse
        } finally {
            $env:SystemRoot = $saved
        }
    }

    It 'says whether a system binary runs from where it belongs, and nothing about other files' {
        Test-SpawnGuardExpectedLocation -Path 'C:\Windows\System32\svchost.exe' | Should -BeTrue
        Test-SpawnGuardExpectedLocation -Path 'C:\Users\Public\svchost.exe' | Should -BeFalse
        Test-SpawnGuardExpectedLocation -Path 'C:\Windows\explorer.exe' | Should -BeTrue
        Test-SpawnGuardExpectedLocation -Path 'C:\Temp\explorer.exe' | Should -BeFalse
        Test-SpawnGuardExpectedLocation -Path 'C:\Users\Public\evil.exe' | Should -BeNullOrEmpty
    }
}

Describe 'Joining and splitting Windows paths as text' {
    It 'joins with exactly one backslash, for a drive this machine lacks too' {
        Join-SpawnGuardPath -Path 'Q:\Quarantine\' -ChildPath '\abc.bin' | Should -Be 'Q:\Quarantine\abc.bin'
        Join-SpawnGuardPath -Path 'C:\' -ChildPath 'x' | Should -Be 'C:\x'
    }

    It 'gives the folder of a path, the drive root for a file in it, and nothing for a bare name' {
        Get-SpawnGuardParentPath -Path 'C:\a\b.exe' | Should -Be 'C:\a'
        Get-SpawnGuardParentPath -Path 'C:\b.exe' | Should -Be 'C:\'
        Get-SpawnGuardParentPath -Path 'C:\a\b\' | Should -Be 'C:\a'
        Get-SpawnGuardParentPath -Path '\\server\share\x.exe' | Should -Be '\\server\share'
        Get-SpawnGuardParentPath -Path 'b.exe' | Should -Be ''
        Get-SpawnGuardParentPath -Path '' | Should -Be ''
    }
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

    It 'protects the kernel pseudo-processes, which have no image path, and not an ordinary process' {
        Test-SpawnGuardCriticalProcess -ProcessId 120 -Name 'Registry' -Path 'C:\x\registry' | Should -BeTrue
        Test-SpawnGuardCriticalProcess -ProcessId 2400 -Name 'MemCompression' -Path '' | Should -BeTrue
        Test-SpawnGuardCriticalProcess -ProcessId 4321 -Name 'evil.exe' -Path 'C:\Users\Public\evil.exe' | Should -BeFalse
    }

    It 'knows the shared hosts in their genuine places only' {
        Test-SpawnGuardSharedHost -Name 'svchost.exe' -Path 'C:\Windows\System32\svchost.exe' | Should -BeTrue
        Test-SpawnGuardSharedHost -Name 'explorer.exe' -Path 'C:\Windows\explorer.exe' | Should -BeTrue
        Test-SpawnGuardSharedHost -Name 'WmiPrvSE' -Path '' | Should -BeTrue
        Test-SpawnGuardSharedHost -Name 'explorer.exe' -Path 'C:\Users\Public\explorer.exe' | Should -BeFalse
        Test-SpawnGuardSharedHost -Name 'evil.exe' -Path 'C:\Windows\System32\evil.exe' | Should -BeFalse
    }

    It 'knows the PowerShell hosts by name and by path' {
        Test-SpawnGuardPowerShellHost -Name 'powershell' -Path '' | Should -BeTrue
        Test-SpawnGuardPowerShellHost -Name '' -Path 'C:\Program Files\PowerShell\7\pwsh.exe' | Should -BeTrue
        Test-SpawnGuardPowerShellHost -Name 'powershell_ise.exe' -Path '' | Should -BeTrue
        Test-SpawnGuardPowerShellHost -Name 'cmd.exe' -Path '' | Should -BeFalse
    }

    It 'recognizes service accounts and machine accounts' {
        Test-SpawnGuardServiceAccount -Name 'SYSTEM' -Domain 'NT AUTHORITY' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'DWM-1' -Domain 'Window Manager' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'UMFD-0' -Domain 'Font Driver Host' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'SRV01$' -Domain 'CONTOSO' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name ' Network Service ' -Domain '' | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'S-1-5-18' -Domain $null | Should -BeTrue
        Test-SpawnGuardServiceAccount -Name 'bob' -Domain 'CONTOSO' | Should -BeFalse
        Test-SpawnGuardServiceAccount -Name 'systemadmin' -Domain '' | Should -BeFalse
    }
}

Describe 'Canonical paths (issue 13)' {
    BeforeAll {
        $script:SavedRoot = $env:SystemRoot
        $env:SystemRoot = 'C:\Windows'
    }
    AfterAll { $env:SystemRoot = $script:SavedRoot }

    It 'canonicalizes <Path> to <Expected>' -ForEach @(
        @{ Path = 'C:\Windows\System32\..\..\Users\x.exe'; Expected = 'c:\users\x.exe' },
        @{ Path = 'C:\Windows. \System32 .\cmd.exe'; Expected = 'c:\windows\system32\cmd.exe' },
        @{ Path = 'C:\Windows\System32\evil.exe::$DATA'; Expected = 'c:\windows\system32\evil.exe' },
        @{ Path = 'C:\Users\Public\host.txt:evil.exe'; Expected = 'c:\users\public\host.txt' },
        @{ Path = '\\?\C:\Windows\.\System32\..\explorer.exe'; Expected = 'c:\windows\explorer.exe' },
        @{ Path = 'C:\..\..\Windows\notepad.exe'; Expected = 'c:\windows\notepad.exe' }
    ) {
        param($Path, $Expected)
        ConvertTo-SpawnGuardCanonicalPath -Path $Path | Should -Be $Expected
    }

    It 'judges System32 after canonicalization: <Path> is <Expected>' -ForEach @(
        @{ Path = 'C:\Windows\System32\..\..\Users\Public\lsass.exe'; Expected = $false },
        @{ Path = 'C:\Windows\System32.\lsass.exe'; Expected = $true },
        @{ Path = 'C:\Windows\System32\lsass.exe::$DATA'; Expected = $true }
    ) {
        param($Path, $Expected)
        Test-SpawnGuardSystemPath -Path $Path | Should -Be $Expected
    }

    It 'puts <Path> under the Windows folder: <Expected>' -ForEach @(
        @{ Path = 'C:\Windows\Temp\a.exe'; Long = $null; Expected = $true },
        @{ Path = 'C:\Users\..\Windows\Temp\a.exe'; Long = $null; Expected = $true },
        @{ Path = 'C:\WINDOW~1\Temp\a.exe'; Long = 'C:\Windows\Temp\a.exe'; Expected = $true },
        @{ Path = 'C:\PROGRA~1\Vendor\a.exe'; Long = 'C:\Program Files\Vendor\a.exe'; Expected = $false },
        @{ Path = 'C:\PROGRA~1\Vendor\a.exe'; Long = 'C:\PROGRA~1\Vendor\a.exe'; Expected = $true },
        @{ Path = 'C:\PROGRA~1\Vendor\a.exe'; Long = 'throw'; Expected = $true },
        @{ Path = 'C:\WindowsApps\a.exe'; Long = $null; Expected = $false },
        @{ Path = 'C:\Users\Public\a.exe'; Long = $null; Expected = $false }
    ) {
        param($Path, $Long, $Expected)
        # Short names need the file system (Windows): the seam is mocked with what it would answer;
        # one that cannot be expanded counts as inside (fail closed).
        Set-TestValue -Name 'LongPath' -Value $Long
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Get-SpawnGuardLongPath -MockWith {
            $long = Get-TestValue -Name 'LongPath'
            if ($long -eq 'throw') { throw 'not found' }
            return $long
        }
        Test-SpawnGuardWindowsDirectoryFile -Path $Path | Should -Be $Expected
    }
}
