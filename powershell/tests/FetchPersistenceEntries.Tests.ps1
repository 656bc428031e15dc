<#
.SYNOPSIS
    Pester 5 tests of FetchPersistenceEntries.ps1 under a fake Windows: the registry, scheduled
    tasks, shortcuts and WMI consumers come from mocked seam functions (backed by the TestHelpers
    fake registry), Startup folders and System32 are real files mapped into a test folder, and the
    script's own logic runs unchanged.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
    $script:Script = Join-Path -Path $script:Root -ChildPath 'FetchPersistenceEntries.ps1'
    $script:ContractPath = Join-Path -Path (Split-Path -Path $script:Root -Parent) -ChildPath 'common/host-contract.ts'

    # The environment the script expands %SystemRoot%, %SystemDrive%, %PUBLIC% and ProgramData from.
    $script:SavedEnvironment = @{}
    $script:TestEnvironment = @{ SystemRoot = 'C:\Windows'; SystemDrive = 'C:'; ProgramData = 'C:\ProgramData'; PUBLIC = 'C:\Users\Public' }
    foreach ($name in $script:TestEnvironment.Keys) {
        $script:SavedEnvironment[$name] = [System.Environment]::GetEnvironmentVariable($name)
        [System.Environment]::SetEnvironmentVariable($name, $script:TestEnvironment[$name])
    }

    $script:Hklm = 'HKEY_LOCAL_MACHINE\SOFTWARE'
    $script:Bob = 'S-1-5-21-100-1001'
    $script:Run = 'Microsoft\Windows\CurrentVersion\Run'

    function Invoke-TestFetch {
        <#
        .SYNOPSIS
            Runs the script with these parameters; returns its exit code and parsed document.
        #>
        [CmdletBinding()]
        param([hashtable]$Parameters = @{})
        $output = @(& $script:Script @Parameters)
        $exitCode = $LASTEXITCODE
        return [pscustomobject]@{ ExitCode = $exitCode; Document = (ConvertFrom-TestOutput -Output $output) }
    }

    function Get-TestEntry {
        <#
        .SYNOPSIS
            The printed entries of one kind (and name, when given).
        #>
        [CmdletBinding()]
        param([Parameter(Mandatory = $true)][psobject]$Document, [Parameter(Mandatory = $true)][string]$Kind, [string]$Name)
        return @($Document.results | Where-Object -FilterScript { $_.kind -eq $Kind -and ([string]::IsNullOrEmpty($Name) -or $_.name -eq $Name) })
    }
    function New-TestTaskActionBlob {
        <#
        .SYNOPSIS
            A TaskCache Actions value (version 3) with one exec action, as the Task Scheduler writes it.
        #>
        [CmdletBinding()]
        [OutputType([byte[]])]
        param([Parameter(Mandatory = $true)][string]$Program, [AllowEmptyString()][string]$Arguments = '')
        $stream = New-Object -TypeName System.IO.MemoryStream
        $writer = New-Object -TypeName System.IO.BinaryWriter -ArgumentList $stream
        $writer.Write([uint16]3)
        foreach ($text in @('LocalSystem')) {
            $bytes = [System.Text.Encoding]::Unicode.GetBytes($text)
            $writer.Write([uint32]$bytes.Length)
            $writer.Write($bytes)
        }
        $writer.Write([uint16]0x6666)
        foreach ($text in @('', $Program, $Arguments, '')) {
            $bytes = [System.Text.Encoding]::Unicode.GetBytes($text)
            $writer.Write([uint32]$bytes.Length)
            $writer.Write($bytes)
        }
        $writer.Write([uint16]0)
        $writer.Flush()
        return , $stream.ToArray()
    }
}

AfterAll {
    foreach ($name in $script:SavedEnvironment.Keys) {
        [System.Environment]::SetEnvironmentVariable($name, $script:SavedEnvironment[$name])
    }
}

Describe 'FetchPersistenceEntries.ps1' {
    BeforeEach {
        # A fresh, empty fake machine per test.
        Set-TestFileSystemRoot -Root (Join-Path -Path $TestDrive -ChildPath ([guid]::NewGuid().ToString()))
        Set-TestRegistry -Keys @{}
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
        # The script calls these seams itself (not through a module function), so their mocks
        # live in this file's scope, where the script (run with &) resolves them; a -ModuleName
        # mock would only catch calls made from inside SpawnGuard.Safety. ConvertTo-SpawnGuardNativePath
        # is called by the module's file functions, so its mock is module-scoped.
        Mock -CommandName Get-SpawnGuardRegistrySubKeyName -MockWith { Get-TestRegistrySubKeyName -Path $PesterBoundParameters['Path'] }
        Mock -CommandName Get-SpawnGuardRegistryValueName -MockWith { Get-TestRegistryValueName -Path $PesterBoundParameters['Path'] }
        Mock -CommandName Get-SpawnGuardRegistryValue -MockWith { Get-TestRegistryValue -Path $PesterBoundParameters['Path'] -Name $PesterBoundParameters['Name'] }
        Mock -CommandName Test-SpawnGuardRegistryKey -MockWith { Test-TestRegistryKey -Path $PesterBoundParameters['Path'] }
        Mock -CommandName ConvertTo-SpawnGuardAccountName -MockWith {
            switch ($PesterBoundParameters['Sid']) {
                'S-1-5-21-100-1001' { 'CONTOSO\bob' }
                'S-1-5-18' { 'NT AUTHORITY\SYSTEM' }
                default { $PesterBoundParameters['Sid'] }
            }
        }
        # Get-ScheduledTask exists and lists no task; no WMI consumer; no shortcut resolves.
        Mock -CommandName Get-SpawnGuardScheduledTask -MockWith { return , @() }
        Mock -CommandName Get-SpawnGuardScheduledTaskFromService -MockWith { return , @() }
        Mock -CommandName Get-SpawnGuardSubscriptionInstance -MockWith { return , @() }
        Mock -CommandName Get-SpawnGuardShortcut -MockWith { return $null }
        # No BITS job; no hive file is loaded unless a test says so (and none is left loaded).
        Mock -CommandName Get-SpawnGuardBitsJob -MockWith { return , @() }
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
        Mock -CommandName Dismount-SpawnGuardUserHive -MockWith { return }
    }

    Context 'requests' {
        It 'reads the reference paths from -Request and flags the run key that starts the offending file' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run" = @{ 'Updater' = '"C:\Users\Public\evil.exe" /silent'; 'OneDrive' = '"C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background' }
            }
            $request = ConvertTo-TestRequest -Body @{ incidentId = 'INC-7'; referencePaths = @('C:\Users\Public\evil.exe') }
            $run = Invoke-TestFetch -Parameters @{ Request = $request }
            $run.ExitCode | Should -Be 0
            $run.Document.ok | Should -BeTrue
            @($run.Document.errors).Length | Should -Be 0
            $updater = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'Updater'
            $updater.Length | Should -Be 1
            $updater[0].location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
            $updater[0].command | Should -Be '"C:\Users\Public\evil.exe" /silent'
            $updater[0].imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $updater[0].referencesTarget | Should -BeTrue
            $updater[0].matchedPath | Should -Be 'C:\Users\Public\evil.exe'
            $oneDrive = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'OneDrive'
            $oneDrive[0].referencesTarget | Should -BeFalse
            $oneDrive[0].matchedPath | Should -BeNullOrEmpty
        }

        It 'lists every entry and flags none when no reference path is given' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = 'C:\Users\Public\evil.exe' } }
            $run = Invoke-TestFetch -Parameters @{ Request = (ConvertTo-TestRequest -Body @{ incidentId = 'INC-7' }) }
            $run.ExitCode | Should -Be 0
            $entries = Get-TestEntry -Document $run.Document -Kind 'run-key'
            $entries.Length | Should -Be 1
            $entries[0].referencesTarget | Should -BeFalse
            $entries[0].matchedPath | Should -BeNullOrEmpty
        }

        It 'refuses -Request together with -ReferencePaths with exit code 2 and collects nothing' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = 'C:\Users\Public\evil.exe' } }
            $request = ConvertTo-TestRequest -Body @{ referencePaths = @('C:\Users\Public\evil.exe') }
            $run = Invoke-TestFetch -Parameters @{ Request = $request; ReferencePaths = @('C:\Users\Public\evil.exe') }
            $run.ExitCode | Should -Be 2
            $run.Document.ok | Should -BeFalse
            $run.Document.errors[0].code | Should -Be 'invalid-request'
            @($run.Document.results).Length | Should -Be 0
        }

        It 'refuses a request with more than 64 reference paths, or with referencePaths that is not an array' {
            $paths = New-Object -TypeName System.Collections.ArrayList
            for ($i = 1; $i -le 65; $i++) { [void]$paths.Add('C:\Users\Public\evil' + $i + '.exe') }
            $paths = $paths.ToArray()
            foreach ($body in @(@{ referencePaths = $paths }, @{ referencePaths = 'C:\Users\Public\evil.exe' }, @{ referencePaths = @(7) })) {
                $run = Invoke-TestFetch -Parameters @{ Request = (ConvertTo-TestRequest -Body $body) }
                $run.ExitCode | Should -Be 2
                $run.Document.errors[0].code | Should -Be 'invalid-request'
                @($run.Document.results).Length | Should -Be 0
            }
        }

        It 'refuses a request that is not base64 JSON with exit code 2' {
            $run = Invoke-TestFetch -Parameters @{ Request = 'not base64!' }
            $run.ExitCode | Should -Be 2
            $run.Document.errors[0].code | Should -Be 'invalid-request'
        }

        It 'splits analyst -ReferencePaths only where a drive letter follows the comma' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run" = @{ 'CommaTool' = '"C:\a,1\x.exe" -run'; 'OtherDrive' = 'D:\y.exe'; 'NotThis' = 'C:\a.exe' }
            }
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\a,1\x.exe,D:\y.exe') }
            $run.ExitCode | Should -Be 0
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'CommaTool')[0].matchedPath | Should -Be 'C:\a,1\x.exe'
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'OtherDrive')[0].matchedPath | Should -Be 'D:\y.exe'
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'NotThis')[0].referencesTarget | Should -BeFalse
        }

        It 'refuses more than 64 analyst reference paths with exit code 2' {
            $paths = New-Object -TypeName System.Collections.ArrayList
            for ($i = 1; $i -le 65; $i++) { [void]$paths.Add('C:\Users\Public\evil' + $i + '.exe') }
            $text = $paths.ToArray() -join ','
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @($text) }
            $run.ExitCode | Should -Be 2
            $run.Document.errors[0].code | Should -Be 'invalid-request'
        }
    }

    Context 'run keys' {
        It 'lists Run, RunOnce and Policies\Explorer\Run of HKLM and of Wow6432Node, machine-wide (no user)' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run"                                                = @{ 'A' = 'C:\Tools\a.exe' }
                "$script:Hklm\Microsoft\Windows\CurrentVersion\RunOnce"                   = @{ 'B' = 'C:\Tools\b.exe' }
                "$script:Hklm\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run"     = @{ 'C' = 'C:\Tools\c.exe' }
                "$script:Hklm\Wow6432Node\$script:Run"                                    = @{ 'D' = 'C:\Tools\d.exe' }
            }
            $run = Invoke-TestFetch
            $entries = Get-TestEntry -Document $run.Document -Kind 'run-key'
            $entries.Length | Should -Be 4
            ($entries | Where-Object -FilterScript { $_.name -eq 'B' }).location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce'
            ($entries | Where-Object -FilterScript { $_.name -eq 'C' }).location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run'
            ($entries | Where-Object -FilterScript { $_.name -eq 'D' }).location | Should -Be 'HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run'
            @($entries | Where-Object -FilterScript { $null -ne $_.user }).Length | Should -Be 0
        }

        It 'lists the Run key of every loaded user hive with its account, skipping the _Classes hives' {
            Set-TestRegistry -Keys @{
                "HKEY_USERS\$script:Bob\Software\$script:Run"                 = @{ 'BobTool' = 'C:\Users\bob\AppData\Local\tool.exe' }
                "HKEY_USERS\$($script:Bob)_Classes\Software\$script:Run"      = @{ 'Ghost' = 'C:\ghost.exe' }
                "HKEY_USERS\S-1-5-21-100-2002\Software\$script:Run"           = @{ 'Orphan' = 'C:\orphan.exe' }
            }
            $run = Invoke-TestFetch
            $bob = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'BobTool'
            $bob[0].user | Should -Be 'CONTOSO\bob'
            $bob[0].location | Should -Be "HKU\$script:Bob\Software\Microsoft\Windows\CurrentVersion\Run"
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'Orphan')[0].user | Should -Be 'S-1-5-21-100-2002'
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'Ghost').Length | Should -Be 0
        }

        It 'lists the values of RunOnceEx subkeys, including their Depend DLLs' {
            $onceEx = "$script:Hklm\Microsoft\Windows\CurrentVersion\RunOnceEx"
            Set-TestRegistry -Keys @{
                "$onceEx\0001"        = @{ 'Line1' = 'C:\Setup\step1.exe' }
                "$onceEx\0001\Depend" = @{ '1' = 'C:\Users\Public\evil.dll' }
            }
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.dll') }
            $line = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'Line1'
            $line[0].location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx\0001'
            $depend = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name '1'
            $depend.Length | Should -Be 1
            $depend[0].location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnceEx\0001\Depend'
            $depend[0].referencesTarget | Should -BeTrue
        }

        It 'gives one entry per string of a multi-string value, names the default value, and ignores numbers, bytes and blanks' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run" = @{
                    'Multi' = [string[]]@('C:\Tools\one.exe', '', 'C:\Tools\two.exe')
                    ''      = 'C:\Tools\default.exe'
                    'Flags' = 1
                    'Blob'  = [byte[]]@(77, 90)
                    'Blank' = '   '
                }
            }
            $run = Invoke-TestFetch
            $entries = Get-TestEntry -Document $run.Document -Kind 'run-key'
            $entries.Length | Should -Be 3
            @($entries | Where-Object -FilterScript { $_.name -eq 'Multi' } | ForEach-Object -Process { $_.command }) | Should -Be @('C:\Tools\one.exe', 'C:\Tools\two.exe')
            ($entries | Where-Object -FilterScript { $_.name -eq '(Default)' }).command | Should -Be 'C:\Tools\default.exe'
        }
    }

    Context 'the image a command starts' {
        It 'takes the quoted part of a quoted command, spaces included' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Vendor' = '"C:\Program Files\Vendor App\agent.exe" --tray "C:\x y"' } }
            $entry = (Get-TestEntry -Document (Invoke-TestFetch).Document -Kind 'run-key')[0]
            $entry.imagePath | Should -Be 'C:\Program Files\Vendor App\agent.exe'
            $entry.command | Should -Be '"C:\Program Files\Vendor App\agent.exe" --tray "C:\x y"'
        }

        It 'resolves an unquoted path with spaces to the file that exists, as CreateProcess does, adding .exe where needed' {
            $null = New-TestFile -WindowsPath 'C:\Program Files\Vendor App\agent.exe'
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run" = @{
                    'WithExtension'    = 'C:\Program Files\Vendor App\agent.exe --tray'
                    'WithoutExtension' = 'C:\Program Files\Vendor App\agent --tray'
                    'Missing'          = 'C:\Program Files\Gone\gone.exe -x'
                }
            }
            $document = (Invoke-TestFetch).Document
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'WithExtension')[0].imagePath | Should -Be 'C:\Program Files\Vendor App\agent.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'WithoutExtension')[0].imagePath | Should -Be 'C:\Program Files\Vendor App\agent.exe'
            # Nothing exists: the first token, which is what Windows would try first.
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Missing')[0].imagePath | Should -Be 'C:\Program'
        }

        It 'finds bare program names in System32, then in the Windows folder, with or without .exe' {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\rundll32.exe'
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\notepad.exe'
            $null = New-TestFile -WindowsPath 'C:\Windows\explorer.exe'
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run" = @{
                    'Dll'      = 'rundll32.exe C:\Users\Public\evil.dll,Start'
                    'Notes'    = 'notepad /p C:\notes.txt'
                    'Shell'    = 'explorer.exe'
                    'Unknown'  = 'nosuchtool.exe -x'
                    'Expanded' = '%SystemRoot%\System32\notepad.exe /a'
                }
            }
            $document = (Invoke-TestFetch).Document
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Dll')[0].imagePath | Should -Be 'C:\Windows\System32\rundll32.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Notes')[0].imagePath | Should -Be 'C:\Windows\System32\notepad.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Shell')[0].imagePath | Should -Be 'C:\Windows\explorer.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Unknown')[0].imagePath | Should -Be 'nosuchtool.exe'
            $expanded = (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Expanded')[0]
            $expanded.imagePath | Should -Be 'C:\Windows\System32\notepad.exe'
            # The command is reported as stored, variables unexpanded.
            $expanded.command | Should -Be '%SystemRoot%\System32\notepad.exe /a'
        }

        It 'cuts a command longer than 8192 characters but still matches a reference beyond the cut' {
            $long = 'C:\Tools\runner.exe ' + ('A' * 9000) + ' C:\Users\Public\evil.ps1'
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Long' = $long } }
            $entry = (Get-TestEntry -Document (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.ps1') }).Document -Kind 'run-key')[0]
            $entry.command.Length | Should -Be (8192 + 3)
            $entry.command | Should -BeLike '*...'
            $entry.command.StartsWith('C:\Tools\runner.exe AAAA') | Should -BeTrue
            $entry.referencesTarget | Should -BeTrue
        }
    }

    Context 'reference matching' {
        It 'matches the image regardless of case and reports the reference path as given' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = 'c:\users\public\EVIL.exe' } }
            $entry = (Get-TestEntry -Document (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.EXE') }).Document -Kind 'run-key')[0]
            $entry.referencesTarget | Should -BeTrue
            $entry.matchedPath | Should -Be 'C:\Users\Public\evil.EXE'
        }

        It 'matches a reference that appears anywhere in the command line, not only as the image' {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\rundll32.exe'
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Dll' = 'rundll32.exe C:\Users\Public\evil.dll,Start' } }
            $entry = (Get-TestEntry -Document (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.dll') }).Document -Kind 'run-key')[0]
            $entry.imagePath | Should -Be 'C:\Windows\System32\rundll32.exe'
            $entry.referencesTarget | Should -BeTrue
            $entry.matchedPath | Should -Be 'C:\Users\Public\evil.dll'
        }

        It 'expands environment variables in the reference paths and in the command before comparing' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = '%PUBLIC%\evil.exe /q'; 'Other' = 'C:\Users\Public\good.exe' } }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('%PUBLIC%\good.exe', 'C:\Users\Public\evil.exe') }).Document
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Updater')[0].matchedPath | Should -Be 'C:\Users\Public\evil.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Other')[0].matchedPath | Should -Be '%PUBLIC%\good.exe'
        }
    }

    Context 'startup folders' {
        It 'lists the all-users Startup folder as quoted paths, ignoring desktop.ini' {
            $null = New-TestFile -WindowsPath 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\evil.bat' -Content '@C:\Users\Public\evil.exe'
            $null = New-TestFile -WindowsPath 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\desktop.ini' -Content '[.ShellClassInfo]'
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\evil.bat') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'startup-folder'
            $entries.Length | Should -Be 1
            $entries[0].name | Should -Be 'evil.bat'
            $entries[0].location | Should -Be 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp'
            $entries[0].command | Should -Be '"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\evil.bat"'
            $entries[0].imagePath | Should -Be 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\evil.bat'
            $entries[0].user | Should -BeNullOrEmpty
            $entries[0].referencesTarget | Should -BeTrue
        }

        It 'lists each profile''s Startup folder from ProfileList (%SystemDrive% expanded) and resolves shortcuts to their targets' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            Set-TestRegistry -Keys @{
                "$profiles\$script:Bob"      = @{ 'ProfileImagePath' = '%SystemDrive%\Users\bob' }
                "$profiles\S-1-5-21-100-1003" = @{ 'Flags' = 0 }
            }
            $startup = 'C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup'
            $null = New-TestFile -WindowsPath "$startup\Updater.lnk" -Content 'shortcut'
            $null = New-TestFile -WindowsPath "$startup\Advertised.lnk" -Content 'msi shortcut'
            Mock -CommandName Get-SpawnGuardShortcut -MockWith {
                if ($PesterBoundParameters['LiteralPath'] -like '*\Updater.lnk') { return [pscustomobject]@{ TargetPath = 'C:\Users\Public\evil.exe'; Arguments = '/silent' } }
                return [pscustomobject]@{ TargetPath = ''; Arguments = '' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $updater = Get-TestEntry -Document $document -Kind 'startup-folder' -Name 'Updater.lnk'
            $updater[0].location | Should -Be $startup
            $updater[0].user | Should -Be 'CONTOSO\bob'
            $updater[0].command | Should -Be '"C:\Users\Public\evil.exe" /silent'
            $updater[0].imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $updater[0].referencesTarget | Should -BeTrue
            # A shortcut without a target (an advertised MSI shortcut) is reported as the .lnk itself.
            $advertised = Get-TestEntry -Document $document -Kind 'startup-folder' -Name 'Advertised.lnk'
            $advertised[0].imagePath | Should -Be "$startup\Advertised.lnk"
            $advertised[0].referencesTarget | Should -BeFalse
            @($document.errors).Length | Should -Be 0
        }
    }

    Context 'services' {
        It 'reports every service''s ImagePath with NT prefixes and variables expanded, and its account as the user' {
            $services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'
            Set-TestRegistry -Keys @{
                "$services\EvilDrv"  = @{ 'ImagePath' = '\SystemRoot\System32\drivers\evil.sys' }
                "$services\Rootkit"  = @{ 'ImagePath' = '\??\C:\Users\Public\rk.sys' }
                "$services\Beep"     = @{ 'ImagePath' = 'system32\drivers\beep.sys' }
                "$services\Updater"  = @{ 'ImagePath' = '%SystemRoot%\Temp\upd.exe -service'; 'ObjectName' = 'LocalSystem' }
                "$services\NoImage"  = @{ 'Start' = 3 }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\rk.sys') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'service'
            $entries.Length | Should -Be 4
            (Get-TestEntry -Document $document -Kind 'service' -Name 'EvilDrv')[0].imagePath | Should -Be 'C:\Windows\System32\drivers\evil.sys'
            (Get-TestEntry -Document $document -Kind 'service' -Name 'Beep')[0].imagePath | Should -Be 'C:\Windows\system32\drivers\beep.sys'
            $rootkit = (Get-TestEntry -Document $document -Kind 'service' -Name 'Rootkit')[0]
            $rootkit.imagePath | Should -Be 'C:\Users\Public\rk.sys'
            $rootkit.referencesTarget | Should -BeTrue
            $rootkit.location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Services\Rootkit'
            $updater = (Get-TestEntry -Document $document -Kind 'service' -Name 'Updater')[0]
            $updater.imagePath | Should -Be 'C:\Windows\Temp\upd.exe'
            $updater.command | Should -Be '%SystemRoot%\Temp\upd.exe -service'
            $updater.user | Should -Be 'LocalSystem'
        }

        It 'reports the ServiceDll of a svchost service, under Parameters or directly under the service key' {
            $services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'
            Set-TestRegistry -Keys @{
                "$services\EvilSvc"            = @{ 'ImagePath' = '%SystemRoot%\system32\svchost.exe -k netsvcs'; 'ObjectName' = 'LocalSystem' }
                "$services\EvilSvc\Parameters" = @{ 'ServiceDll' = '%SystemRoot%\System32\evilsvc.dll' }
                "$services\OldSvc"             = @{ 'ImagePath' = '%SystemRoot%\system32\svchost.exe -k old'; 'ServiceDll' = 'C:\Legacy\old.dll' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Windows\System32\evilsvc.dll') }).Document
            $host1 = (Get-TestEntry -Document $document -Kind 'service' -Name 'EvilSvc')[0]
            $host1.imagePath | Should -Be 'C:\Windows\system32\svchost.exe'
            $host1.referencesTarget | Should -BeFalse
            $dll = (Get-TestEntry -Document $document -Kind 'service' -Name 'EvilSvc (ServiceDll)')[0]
            $dll.location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Services\EvilSvc\Parameters'
            $dll.command | Should -Be '%SystemRoot%\System32\evilsvc.dll'
            $dll.imagePath | Should -Be 'C:\Windows\System32\evilsvc.dll'
            $dll.user | Should -Be 'LocalSystem'
            $dll.referencesTarget | Should -BeTrue
            $old = (Get-TestEntry -Document $document -Kind 'service' -Name 'OldSvc (ServiceDll)')[0]
            $old.location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Services\OldSvc'
            $old.imagePath | Should -Be 'C:\Legacy\old.dll'
            $old.user | Should -BeNullOrEmpty
        }
    }

    Context 'scheduled tasks' {
        It 'reports exec actions from Get-ScheduledTask with their principal, the image taken from Execute only' {
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith {
                return , @(
                    [pscustomobject]@{
                        TaskPath = '\Microsoft\Windows\'; TaskName = 'Updater'
                        Principal = [pscustomobject]@{ UserId = 'SYSTEM' }
                        Actions = @([pscustomobject]@{ Execute = '"C:\Users\Public\evil.exe"'; Arguments = '-q C:\Windows\notepad.exe'; WorkingDirectory = $null })
                    },
                    [pscustomobject]@{
                        TaskPath = '\'; TaskName = 'NoArgs'; Principal = $null
                        Actions = @([pscustomobject]@{ Execute = 'C:\Tools\backup.exe' })
                    }
                )
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $updater = (Get-TestEntry -Document $document -Kind 'scheduled-task' -Name 'Updater')[0]
            $updater.location | Should -Be '\Microsoft\Windows\Updater'
            $updater.command | Should -Be '"C:\Users\Public\evil.exe" -q C:\Windows\notepad.exe'
            $updater.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $updater.user | Should -Be 'SYSTEM'
            $updater.referencesTarget | Should -BeTrue
            $noArgs = (Get-TestEntry -Document $document -Kind 'scheduled-task' -Name 'NoArgs')[0]
            $noArgs.location | Should -Be '\NoArgs'
            $noArgs.command | Should -Be 'C:\Tools\backup.exe'
            $noArgs.user | Should -BeNullOrEmpty
            Should -Invoke -CommandName Get-SpawnGuardScheduledTaskFromService -Times 0 -Exactly
        }

        It 'reports a COM handler action with the DLL registered for its CLSID as the image' {
            Set-TestRegistry -Keys @{
                'HKEY_LOCAL_MACHINE\SOFTWARE\Classes\CLSID\{0F87369F-A4E5-4CFC-BD3E-73E6154572DD}\InprocServer32' = @{ '' = '%SystemRoot%\System32\evilhandler.dll'; 'ThreadingModel' = 'Both' }
            }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith {
                return , @(
                    [pscustomobject]@{
                        TaskPath = '\'; TaskName = 'Handler'; Principal = [pscustomobject]@{ UserId = 'bob' }
                        Actions = @([pscustomobject]@{ ClassId = '{0F87369F-A4E5-4CFC-BD3E-73E6154572DD}'; Data = $null })
                    },
                    [pscustomobject]@{
                        TaskPath = '\'; TaskName = 'Unregistered'; Principal = [pscustomobject]@{ UserId = 'bob' }
                        Actions = @([pscustomobject]@{ ClassId = '{11111111-2222-3333-4444-555555555555}'; Data = $null })
                    }
                )
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Windows\System32\evilhandler.dll') }).Document
            $handler = (Get-TestEntry -Document $document -Kind 'scheduled-task' -Name 'Handler')[0]
            $handler.command | Should -Be 'COM handler {0F87369F-A4E5-4CFC-BD3E-73E6154572DD}'
            $handler.imagePath | Should -Be 'C:\Windows\System32\evilhandler.dll'
            $handler.user | Should -Be 'bob'
            $handler.referencesTarget | Should -BeTrue
            $unregistered = (Get-TestEntry -Document $document -Kind 'scheduled-task' -Name 'Unregistered')[0]
            $unregistered.imagePath | Should -BeNullOrEmpty
            $unregistered.referencesTarget | Should -BeFalse
        }

        It 'falls back to the Schedule.Service COM object where Get-ScheduledTask is missing, exec and COM-handler actions alike' {
            Set-TestRegistry -Keys @{
                'HKEY_LOCAL_MACHINE\SOFTWARE\Classes\CLSID\{0F87369F-A4E5-4CFC-BD3E-73E6154572DD}\InprocServer32' = @{ '' = 'C:\Users\Public\handler.dll' }
            }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith { return $null }
            Mock -CommandName Get-SpawnGuardScheduledTaskFromService -MockWith {
                return , @(
                    [pscustomobject]@{ Path = '\Updater'; Name = 'Updater'; UserId = 'S-1-5-18'; Actions = @(
                            [pscustomobject]@{ Type = 0; Path = 'C:\Users\Public\evil.exe'; Arguments = '-q'; ClassId = $null },
                            [pscustomobject]@{ Type = 6; Path = $null; Arguments = $null; ClassId = $null }
                        )
                    },
                    [pscustomobject]@{ Path = '\Vendor\Handler'; Name = 'Handler'; UserId = 'bob'; Actions = @(
                            [pscustomobject]@{ Type = 5; Path = $null; Arguments = $null; ClassId = '{0F87369F-A4E5-4CFC-BD3E-73E6154572DD}' }
                        )
                    }
                )
            }
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe', 'C:\Users\Public\handler.dll') }
            $run.ExitCode | Should -Be 0
            $tasks = Get-TestEntry -Document $run.Document -Kind 'scheduled-task'
            $tasks.Length | Should -Be 2
            $updater = ($tasks | Where-Object -FilterScript { $_.name -eq 'Updater' })
            $updater.location | Should -Be '\Updater'
            $updater.command | Should -Be 'C:\Users\Public\evil.exe -q'
            $updater.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $updater.user | Should -Be 'S-1-5-18'
            $updater.matchedPath | Should -Be 'C:\Users\Public\evil.exe'
            $handler = ($tasks | Where-Object -FilterScript { $_.name -eq 'Handler' })
            $handler.location | Should -Be '\Vendor\Handler'
            $handler.imagePath | Should -Be 'C:\Users\Public\handler.dll'
            $handler.matchedPath | Should -Be 'C:\Users\Public\handler.dll'
        }

        It 'notes scheduled-task-unavailable when the COM fallback fails too, and still reports the other sources with exit code 0' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = 'C:\Users\Public\evil.exe' } }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith { return $null }
            Mock -CommandName Get-SpawnGuardScheduledTaskFromService -MockWith { throw 'The Task Scheduler service is not running.' }
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }
            $run.ExitCode | Should -Be 0
            $run.Document.ok | Should -BeTrue
            @($run.Document.errors).Length | Should -Be 1
            $run.Document.errors[0].code | Should -Be 'scheduled-task-unavailable'
            $run.Document.errors[0].message | Should -Be 'The Task Scheduler service is not running.'
            (Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'Updater')[0].referencesTarget | Should -BeTrue
        }
    }

    Context 'Winlogon, Image File Execution Options and the other registry locations' {
        It 'splits Winlogon Userinit by comma, resolves a bare Shell, and reads user hives too' {
            $null = New-TestFile -WindowsPath 'C:\Windows\explorer.exe'
            Set-TestRegistry -Keys @{
                "$script:Hklm\Microsoft\Windows NT\CurrentVersion\Winlogon"                    = @{ 'Userinit' = 'C:\Windows\system32\userinit.exe,C:\Users\Public\evil.exe,'; 'Shell' = 'explorer.exe'; 'AutoAdminLogon' = '0' }
                "HKEY_USERS\$script:Bob\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon" = @{ 'Shell' = 'C:\Users\bob\shell.exe' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $userinit = Get-TestEntry -Document $document -Kind 'winlogon' -Name 'Userinit'
            @($userinit | ForEach-Object -Process { $_.command }) | Should -Be @('C:\Windows\system32\userinit.exe', 'C:\Users\Public\evil.exe')
            @($userinit | Where-Object -FilterScript { $_.referencesTarget } | ForEach-Object -Process { $_.command }) | Should -Be @('C:\Users\Public\evil.exe')
            $userinit[0].location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'
            $shells = Get-TestEntry -Document $document -Kind 'winlogon' -Name 'Shell'
            ($shells | Where-Object -FilterScript { $null -eq $_.user }).imagePath | Should -Be 'C:\Windows\explorer.exe'
            ($shells | Where-Object -FilterScript { $_.user -eq 'CONTOSO\bob' }).imagePath | Should -Be 'C:\Users\bob\shell.exe'
            (Get-TestEntry -Document $document -Kind 'winlogon' -Name 'AutoAdminLogon').Length | Should -Be 0
        }

        It 'reports Image File Execution Options debuggers and SilentProcessExit monitor processes, per program' {
            $nt = "$script:Hklm\Microsoft\Windows NT\CurrentVersion"
            Set-TestRegistry -Keys @{
                "$nt\Image File Execution Options\sethc.exe"                        = @{ 'Debugger' = 'C:\Windows\System32\cmd.exe' }
                "$nt\Image File Execution Options\notepad.exe"                      = @{ 'GlobalFlag' = 512 }
                "$script:Hklm\Wow6432Node\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\utilman.exe" = @{ 'Debugger' = '"C:\Users\Public\evil.exe"' }
                "$nt\SilentProcessExit\notepad.exe"                                 = @{ 'MonitorProcess' = 'C:\Users\Public\evil.exe -watch'; 'ReportingMode' = 1 }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'ifeo-debugger'
            $entries.Length | Should -Be 3
            $sethc = ($entries | Where-Object -FilterScript { $_.name -eq 'sethc.exe Debugger' })
            $sethc.imagePath | Should -Be 'C:\Windows\System32\cmd.exe'
            $sethc.location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe'
            ($entries | Where-Object -FilterScript { $_.name -eq 'utilman.exe Debugger' }).referencesTarget | Should -BeTrue
            $monitor = ($entries | Where-Object -FilterScript { $_.name -eq 'notepad.exe MonitorProcess' })
            $monitor.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $monitor.referencesTarget | Should -BeTrue
        }

        It 'reports AppInit_DLLs as one entry flagged by any DLL of its list, and skips an empty list' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\Microsoft\Windows NT\CurrentVersion\Windows"            = @{ 'AppInit_DLLs' = 'C:\Vendor\hook.dll C:\Users\Public\evil.dll'; 'LoadAppInit_DLLs' = 1 }
                "$script:Hklm\Wow6432Node\Microsoft\Windows NT\CurrentVersion\Windows" = @{ 'AppInit_DLLs' = '' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.dll') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'appinit-dlls'
            $entries.Length | Should -Be 1
            $entries[0].name | Should -Be 'AppInit_DLLs'
            $entries[0].imagePath | Should -Be 'C:\Vendor\hook.dll'
            $entries[0].referencesTarget | Should -BeTrue
        }

        It 'resolves "autocheck autochk *" in BootExecute to autochk.exe in System32, and lists other boot programs' {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\autochk.exe'
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\evilnative.exe'
            Set-TestRegistry -Keys @{
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager' = @{ 'BootExecute' = [string[]]@('autocheck autochk *', 'evilnative'); 'SetupExecute' = [string[]]@() }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Windows\System32\evilnative.exe') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'boot-execute' -Name 'BootExecute'
            $entries.Length | Should -Be 2
            $entries[0].location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Control\Session Manager'
            ($entries | Where-Object -FilterScript { $_.command -eq 'autocheck autochk *' }).imagePath | Should -Be 'C:\Windows\System32\autochk.exe'
            $native = ($entries | Where-Object -FilterScript { $_.command -eq 'evilnative' })
            $native.imagePath | Should -Be 'C:\Windows\System32\evilnative.exe'
            $native.referencesTarget | Should -BeTrue
        }

        It 'names Active Setup StubPath entries by their component label, or by the component key without one' {
            $components = "$script:Hklm\Microsoft\Active Setup\Installed Components"
            Set-TestRegistry -Keys @{
                "$components\{89820200-ECBD-11cf-8B85-00AA005B4340}" = @{ '' = 'Windows Desktop Update'; 'StubPath' = 'regsvr32.exe /s /n /i:U shell32.dll' }
                "$components\{EVIL-0001}"                           = @{ 'StubPath' = 'C:\Users\Public\evil.exe' }
                "$components\{NoStub}"                              = @{ '' = 'Nothing to run' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'active-setup'
            $entries.Length | Should -Be 2
            ($entries | Where-Object -FilterScript { $_.name -eq 'Windows Desktop Update' }).location | Should -Be 'HKLM\SOFTWARE\Microsoft\Active Setup\Installed Components\{89820200-ECBD-11cf-8B85-00AA005B4340}'
            ($entries | Where-Object -FilterScript { $_.name -eq '{EVIL-0001}' }).referencesTarget | Should -BeTrue
        }

        It 'reports cmd.exe AutoRun machine-wide and per user, and each user''s UserInitMprLogonScript' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\Microsoft\Command Processor"                       = @{ 'AutoRun' = 'C:\Users\Public\evil.cmd' }
                "HKEY_USERS\$script:Bob\Software\Microsoft\Command Processor"    = @{ 'AutoRun' = 'doskey /macrofile=C:\Users\bob\macros.txt' }
                "HKEY_USERS\$script:Bob\Environment"                             = @{ 'UserInitMprLogonScript' = 'C:\Users\Public\logon.bat'; 'TEMP' = '%USERPROFILE%\Temp' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.cmd', 'C:\Users\Public\logon.bat') }).Document
            $autoRun = Get-TestEntry -Document $document -Kind 'command-processor-autorun' -Name 'AutoRun'
            $autoRun.Length | Should -Be 2
            $machine = ($autoRun | Where-Object -FilterScript { $null -eq $_.user })
            $machine.location | Should -Be 'HKLM\SOFTWARE\Microsoft\Command Processor'
            $machine.referencesTarget | Should -BeTrue
            ($autoRun | Where-Object -FilterScript { $_.user -eq 'CONTOSO\bob' }).location | Should -Be "HKU\$script:Bob\Software\Microsoft\Command Processor"
            $logon = Get-TestEntry -Document $document -Kind 'logon-script'
            $logon.Length | Should -Be 1
            $logon[0].name | Should -Be 'UserInitMprLogonScript'
            $logon[0].user | Should -Be 'CONTOSO\bob'
            $logon[0].matchedPath | Should -Be 'C:\Users\Public\logon.bat'
        }
    }

    Context 'WMI event consumers' {
        It 'reports CommandLine consumers and ActiveScript consumers (script file, or inline script run by scrcons.exe)' {
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\scrcons.exe'
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq 'CommandLineEventConsumer' } -MockWith {
                return , @(
                    [pscustomobject]@{ Name = 'Beacon'; CommandLineTemplate = 'C:\Users\Public\evil.exe -beacon'; ExecutablePath = $null },
                    [pscustomobject]@{ Name = 'PathOnly'; CommandLineTemplate = $null; ExecutablePath = 'C:\Tools\only.exe' }
                )
            }
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq 'ActiveScriptEventConsumer' } -MockWith {
                return , @(
                    [pscustomobject]@{ Name = 'FileScript'; ScriptFileName = 'C:\Users\Public\evil.vbs'; ScriptText = $null },
                    [pscustomobject]@{ Name = 'Inline'; ScriptFileName = $null; ScriptText = 'CreateObject("WScript.Shell").Run "C:\Users\Public\evil.exe"' }
                )
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $entries = Get-TestEntry -Document $document -Kind 'wmi-subscription'
            $entries.Length | Should -Be 4
            $beacon = ($entries | Where-Object -FilterScript { $_.name -eq 'Beacon' })
            $beacon.location | Should -Be 'root\subscription:CommandLineEventConsumer'
            $beacon.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $beacon.referencesTarget | Should -BeTrue
            $pathOnly = ($entries | Where-Object -FilterScript { $_.name -eq 'PathOnly' })
            $pathOnly.command | Should -Be 'C:\Tools\only.exe'
            $pathOnly.imagePath | Should -Be 'C:\Tools\only.exe'
            $file = ($entries | Where-Object -FilterScript { $_.name -eq 'FileScript' })
            $file.location | Should -Be 'root\subscription:ActiveScriptEventConsumer'
            $file.imagePath | Should -Be 'C:\Users\Public\evil.vbs'
            $inline = ($entries | Where-Object -FilterScript { $_.name -eq 'Inline' })
            $inline.imagePath | Should -Be 'C:\Windows\System32\scrcons.exe'
            $inline.referencesTarget | Should -BeTrue
        }

        It 'notes wmi-subscription-unavailable when root\subscription cannot be read, and still exits 0 with the other entries' {
            Set-TestRegistry -Keys @{ "$script:Hklm\$script:Run" = @{ 'Updater' = 'C:\Users\Public\evil.exe' } }
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -MockWith { throw 'Invalid namespace' }
            $run = Invoke-TestFetch
            $run.ExitCode | Should -Be 0
            $run.Document.ok | Should -BeTrue
            @($run.Document.errors | ForEach-Object -Process { $_.code }) | Should -Be @('wmi-subscription-unavailable')
            (Get-TestEntry -Document $run.Document -Kind 'run-key').Length | Should -Be 1
        }
    }

    Context 'the locations of issue 13: LSA, AppCertDlls, Winlogon Notify, GPExtensions, print monitors, netsh, time providers' {
        It 'reports each LSA package, AppCertDll, Notify and GP extension DLL, print monitor, netsh helper and time provider with the DLL it loads' {
            $control = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control'
            $nt = "$script:Hklm\Microsoft\Windows NT\CurrentVersion"
            Set-TestRegistry -Keys @{
                "$control\Lsa"                                              = @{ 'Authentication Packages' = [string[]]@('msv1_0'); 'Notification Packages' = [string[]]@('scecli', 'evilpwfilter'); 'Security Packages' = [string[]]@('""'); 'LmCompatibilityLevel' = 5 }
                "$control\Lsa\OSConfig"                                     = @{ 'Security Packages' = [string[]]@('kerberos', 'C:\Users\Public\evil.dll') }
                "$control\Session Manager\AppCertDlls"                      = @{ 'Hook' = 'C:\Users\Public\evil.dll' }
                "$nt\Winlogon\Notify\EvilNotify"                            = @{ 'DllName' = 'evilnotify.dll'; 'Asynchronous' = 0 }
                "$nt\Winlogon\GPExtensions\{35378EAC-683F-11D2-A89A-00C04FBBCFA2}" = @{ '' = 'Registry'; 'DllName' = '%SystemRoot%\System32\gpprefcl.dll' }
                "$control\Print\Monitors\Local Port"                        = @{ 'Driver' = 'localspl.dll' }
                "$control\Print\Monitors\Evil Port"                         = @{ 'Driver' = 'C:\Users\Public\evil.dll' }
                "$script:Hklm\Microsoft\NetSh"                              = @{ 'ifmon' = 'ifmon.dll'; 'evil' = 'C:\Users\Public\evil.dll' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\W32Time\TimeProviders\NtpClient' = @{ 'DllName' = '%SystemRoot%\system32\w32time.dll'; 'Enabled' = 1 }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.dll', 'C:\Windows\System32\evilpwfilter.dll') }).Document
            @($document.errors).Length | Should -Be 0
            $lsa = Get-TestEntry -Document $document -Kind 'lsa-package'
            # The empty list ("") is no package.
            $lsa.Length | Should -Be 5
            $msv = $lsa | Where-Object -FilterScript { $_.command -eq 'msv1_0' }
            $msv.name | Should -Be 'Authentication Packages'
            $msv.location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Control\Lsa'
            $msv.imagePath | Should -Be 'C:\Windows\System32\msv1_0.dll'
            $msv.referencesTarget | Should -BeFalse
            $filter = $lsa | Where-Object -FilterScript { $_.command -eq 'evilpwfilter' }
            $filter.name | Should -Be 'Notification Packages'
            $filter.matchedPath | Should -Be 'C:\Windows\System32\evilpwfilter.dll'
            ($lsa | Where-Object -FilterScript { $_.location -eq 'HKLM\SYSTEM\CurrentControlSet\Control\Lsa\OSConfig' -and $_.referencesTarget }).imagePath | Should -Be 'C:\Users\Public\evil.dll'
            $appCert = Get-TestEntry -Document $document -Kind 'appcert-dlls'
            $appCert.Length | Should -Be 1
            $appCert[0].name | Should -Be 'Hook'
            $appCert[0].referencesTarget | Should -BeTrue
            $notify = Get-TestEntry -Document $document -Kind 'winlogon-notify'
            $notify[0].name | Should -Be 'EvilNotify'
            $notify[0].imagePath | Should -Be 'C:\Windows\System32\evilnotify.dll'
            $notify[0].location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\Notify\EvilNotify'
            $extension = Get-TestEntry -Document $document -Kind 'gp-extension'
            $extension[0].name | Should -Be 'Registry'
            $extension[0].imagePath | Should -Be 'C:\Windows\System32\gpprefcl.dll'
            $monitors = Get-TestEntry -Document $document -Kind 'print-monitor'
            $monitors.Length | Should -Be 2
            ($monitors | Where-Object -FilterScript { $_.name -eq 'Local Port' }).imagePath | Should -Be 'C:\Windows\System32\localspl.dll'
            ($monitors | Where-Object -FilterScript { $_.name -eq 'Evil Port' }).referencesTarget | Should -BeTrue
            $netsh = Get-TestEntry -Document $document -Kind 'netsh-helper'
            $netsh.Length | Should -Be 2
            ($netsh | Where-Object -FilterScript { $_.name -eq 'ifmon' }).imagePath | Should -Be 'C:\Windows\System32\ifmon.dll'
            ($netsh | Where-Object -FilterScript { $_.name -eq 'evil' }).referencesTarget | Should -BeTrue
            $time = Get-TestEntry -Document $document -Kind 'time-provider'
            $time[0].name | Should -Be 'NtpClient'
            $time[0].imagePath | Should -Be 'C:\Windows\system32\w32time.dll'
        }

        It 'reports a service''s FailureCommand as the program the service control manager runs on failure' {
            $services = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services'
            Set-TestRegistry -Keys @{ "$services\Spooler" = @{ 'ImagePath' = 'C:\Windows\System32\spoolsv.exe'; 'ObjectName' = 'LocalSystem'; 'FailureCommand' = '"C:\Users\Public\evil.exe" -restart' } }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $failure = Get-TestEntry -Document $document -Kind 'service' -Name 'Spooler (FailureCommand)'
            $failure.Length | Should -Be 1
            $failure[0].location | Should -Be 'HKLM\SYSTEM\CurrentControlSet\Services\Spooler'
            $failure[0].imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $failure[0].user | Should -Be 'LocalSystem'
            $failure[0].referencesTarget | Should -BeTrue
            (Get-TestEntry -Document $document -Kind 'service' -Name 'Spooler')[0].referencesTarget | Should -BeFalse
        }
    }

    Context 'per-user locations: COM registrations, screensaver, the user''s own variables, shell folders' {
        It 'reports per-user COM servers (InprocServer32, LocalServer32) and the screensaver of each user hive' {
            $classes = "HKEY_USERS\$script:Bob\Software\Classes\CLSID"
            Set-TestRegistry -Keys @{
                "$classes\{0A29FF9E-7F9C-4437-8B11-F424491E3931}\InprocServer32" = @{ '' = 'C:\Users\Public\evil.dll'; 'ThreadingModel' = 'Both' }
                "$classes\{11111111-2222-3333-4444-555555555555}\LocalServer32"  = @{ '' = '"C:\Users\Public\evil.exe" -Embedding' }
                "HKEY_USERS\$script:Bob\Control Panel\Desktop"                    = @{ 'SCRNSAVE.EXE' = 'C:\Users\Public\evil.scr'; 'ScreenSaveActive' = '1' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.dll', 'C:\Users\Public\evil.exe', 'C:\Users\Public\evil.scr') }).Document
            $com = Get-TestEntry -Document $document -Kind 'com-hijack'
            $com.Length | Should -Be 2
            $inproc = $com | Where-Object -FilterScript { $_.name -eq '{0A29FF9E-7F9C-4437-8B11-F424491E3931} InprocServer32' }
            $inproc.location | Should -Be "HKU\$script:Bob\Software\Classes\CLSID\{0A29FF9E-7F9C-4437-8B11-F424491E3931}\InprocServer32"
            $inproc.imagePath | Should -Be 'C:\Users\Public\evil.dll'
            $inproc.user | Should -Be 'CONTOSO\bob'
            $inproc.referencesTarget | Should -BeTrue
            $local = $com | Where-Object -FilterScript { $_.name -eq '{11111111-2222-3333-4444-555555555555} LocalServer32' }
            $local.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $saver = Get-TestEntry -Document $document -Kind 'screensaver'
            $saver.Length | Should -Be 1
            $saver[0].name | Should -Be 'SCRNSAVE.EXE'
            $saver[0].user | Should -Be 'CONTOSO\bob'
            $saver[0].referencesTarget | Should -BeTrue
        }

        It 'expands %APPDATA%, %LOCALAPPDATA% and %USERPROFILE% in a user''s values with that user''s folders, not SYSTEM''s' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            Set-TestRegistry -Keys @{
                "$profiles\$script:Bob"                                   = @{ 'ProfileImagePath' = '%SystemDrive%\Users\bob' }
                "HKEY_USERS\$script:Bob\Software\$script:Run"             = @{ 'Roaming' = '"%APPDATA%\Microsoft\upd.exe" /q'; 'Local' = '%LOCALAPPDATA%\Temp\x.exe'; 'Home' = '%USERPROFILE%\tool.exe' }
                # A logged-on user's Volatile Environment names the folders of that logon.
                "HKEY_USERS\$script:Bob\Volatile Environment"             = @{ 'LOCALAPPDATA' = 'D:\Local\bob' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\bob\AppData\Roaming\Microsoft\upd.exe') }).Document
            $roaming = Get-TestEntry -Document $document -Kind 'run-key' -Name 'Roaming'
            $roaming[0].imagePath | Should -Be 'C:\Users\bob\AppData\Roaming\Microsoft\upd.exe'
            $roaming[0].command | Should -Be '"%APPDATA%\Microsoft\upd.exe" /q'
            $roaming[0].referencesTarget | Should -BeTrue
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Local')[0].imagePath | Should -Be 'D:\Local\bob\Temp\x.exe'
            (Get-TestEntry -Document $document -Kind 'run-key' -Name 'Home')[0].imagePath | Should -Be 'C:\Users\bob\tool.exe'
        }

        It 'reads Startup folders from User Shell Folders (the user''s own variables) and Common Startup from the machine''s, never opening a redirected remote one' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            $shellFolders = 'Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders'
            Set-TestRegistry -Keys @{
                "$profiles\$script:Bob"                          = @{ 'ProfileImagePath' = 'C:\Users\bob' }
                "$profiles\S-1-5-21-100-1004"                    = @{ 'ProfileImagePath' = 'C:\Users\carol' }
                "HKEY_USERS\$script:Bob\$shellFolders"           = @{ 'Startup' = '%USERPROFILE%\Moved\Startup' }
                'HKEY_USERS\S-1-5-21-100-1004\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders' = @{ 'Startup' = '\\fs01\redirect\carol\Startup' }
                "HKEY_LOCAL_MACHINE\$shellFolders"               = @{ 'Common Startup' = '%ProgramData%\Custom\StartUp' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\bob\Moved\Startup\evil.bat'
            $null = New-TestFile -WindowsPath 'C:\ProgramData\Custom\StartUp\common.bat'
            $null = New-TestFile -WindowsPath 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\default.bat'
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\bob\Moved\Startup\evil.bat') }
            $run.ExitCode | Should -Be 0
            $entries = Get-TestEntry -Document $run.Document -Kind 'startup-folder'
            @($entries | ForEach-Object -Process { $_.name } | Sort-Object) | Should -Be @('common.bat', 'evil.bat')
            $evil = $entries | Where-Object -FilterScript { $_.name -eq 'evil.bat' }
            $evil.location | Should -Be 'C:\Users\bob\Moved\Startup'
            $evil.user | Should -Be 'CONTOSO\bob'
            $evil.referencesTarget | Should -BeTrue
            ($entries | Where-Object -FilterScript { $_.name -eq 'common.bat' }).location | Should -Be 'C:\ProgramData\Custom\StartUp'
            $note = @($run.Document.errors | Where-Object -FilterScript { $_.code -eq 'startup-folder-unavailable' })
            $note.Length | Should -Be 1
            $note[0].message | Should -BeLike '*\\fs01\redirect\carol\Startup*remote*'
        }
    }

    Context 'hives of logged-off users' {
        BeforeEach {
            $script:Carol = 'S-1-5-21-100-1005'
            # The test's hives "load" under HKLM\TestMounts, outside HKEY_USERS (which the script lists).
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -MockWith { return ('HKEY_LOCAL_MACHINE\TestMounts\' + $PesterBoundParameters['Name']) }
        }

        It 'loads the NTUSER.DAT and UsrClass.dat of a profile whose hive is not loaded, reads them with that user''s variables, and unloads both' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            $mounted = "HKEY_LOCAL_MACHINE\TestMounts\SpawnGuard_$script:Carol"
            Set-TestRegistry -Keys @{
                "$profiles\$script:Carol"                                     = @{ 'ProfileImagePath' = 'C:\Users\carol' }
                "$profiles\S-1-5-18"                                          = @{ 'ProfileImagePath' = '%SystemRoot%\System32\config\systemprofile' }
                "$mounted\Software\$script:Run"                               = @{ 'CarolTool' = '%APPDATA%\carol\tool.exe' }
                "$($mounted)_Classes\CLSID\{0A29FF9E-7F9C-4437-8B11-F424491E3931}\InprocServer32" = @{ '' = '%LOCALAPPDATA%\evil.dll' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT'
            $null = New-TestFile -WindowsPath 'C:\Users\carol\AppData\Local\Microsoft\Windows\UsrClass.dat'
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\config\systemprofile\NTUSER.DAT'
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\carol\AppData\Roaming\carol\tool.exe') }
            $run.ExitCode | Should -Be 0
            @($run.Document.errors).Length | Should -Be 0
            $tool = Get-TestEntry -Document $run.Document -Kind 'run-key' -Name 'CarolTool'
            $tool.Length | Should -Be 1
            $tool[0].location | Should -Be 'C:\Users\carol\NTUSER.DAT\Software\Microsoft\Windows\CurrentVersion\Run'
            $tool[0].user | Should -Be $script:Carol
            $tool[0].imagePath | Should -Be 'C:\Users\carol\AppData\Roaming\carol\tool.exe'
            $tool[0].referencesTarget | Should -BeTrue
            $com = Get-TestEntry -Document $run.Document -Kind 'com-hijack'
            $com[0].location | Should -Be 'C:\Users\carol\AppData\Local\Microsoft\Windows\UsrClass.dat\CLSID\{0A29FF9E-7F9C-4437-8B11-F424491E3931}\InprocServer32'
            $com[0].imagePath | Should -Be 'C:\Users\carol\AppData\Local\evil.dll'
            # SYSTEM's hive is always loaded: never loaded from its file.
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 2 -Exactly
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1005' -and $PesterBoundParameters['LiteralPath'] -eq 'C:\Users\carol\NTUSER.DAT' }
            Should -Invoke -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1005' }
            Should -Invoke -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1005_Classes' }
        }

        It 'notes user-hive-unavailable for a hive in use and for a remote profile (never loaded), and unloads what it loaded even when a collector fails' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            Set-TestRegistry -Keys @{
                "$profiles\$script:Carol"         = @{ 'ProfileImagePath' = 'C:\Users\carol' }
                "$profiles\S-1-5-21-100-1006"     = @{ 'ProfileImagePath' = 'C:\Users\dave' }
                "$profiles\S-1-5-21-100-1007"     = @{ 'ProfileImagePath' = '\\fs01\profiles\erin' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\carol\NTUSER.DAT'
            $null = New-TestFile -WindowsPath 'C:\Users\dave\NTUSER.DAT'
            Mock -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1006' } -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith { throw 'boom' }
            Mock -CommandName Get-SpawnGuardScheduledTaskFromService -MockWith { throw 'boom' }
            $run = Invoke-TestFetch
            $run.ExitCode | Should -Be 0
            $notes = @($run.Document.errors | Where-Object -FilterScript { $_.code -eq 'user-hive-unavailable' })
            $notes.Length | Should -Be 2
            @($notes | Where-Object -FilterScript { $_.message -like '*S-1-5-21-100-1006*being used*' }).Length | Should -Be 1
            @($notes | Where-Object -FilterScript { $_.message -like '*S-1-5-21-100-1007*remote*' }).Length | Should -Be 1
            Should -Invoke -ModuleName 'SpawnGuard.Safety' -CommandName Mount-SpawnGuardUserHive -Times 0 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1007' }
            Should -Invoke -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly -ParameterFilter { $PesterBoundParameters['Name'] -eq 'SpawnGuard_S-1-5-21-100-1005' }
            Should -Invoke -CommandName Dismount-SpawnGuardUserHive -Times 1 -Exactly
        }
    }

    Context 'TaskCache, WMI bindings, BITS jobs, Office add-ins, Group Policy scripts' {
        It 'reports tasks of the registry TaskCache that are hidden (no SD) or unknown to the task API, decoding the exec action from the Actions value' {
            $cache = "$script:Hklm\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache"
            Set-TestRegistry -Keys @{
                "$cache\Tree\Microsoft\Windows\Hidden"     = @{ 'Id' = '{AAAA0000-0000-0000-0000-000000000001}'; 'Index' = 3 }
                "$cache\Tasks\{AAAA0000-0000-0000-0000-000000000001}" = @{ 'Path' = '\Microsoft\Windows\Hidden'; 'Actions' = (New-TestTaskActionBlob -Program 'C:\Users\Public\evil.exe' -Arguments '-persist') }
                "$cache\Tree\Listed"                       = @{ 'Id' = '{AAAA0000-0000-0000-0000-000000000002}'; 'SD' = [byte[]]@(1, 0, 4, 128) }
                "$cache\Tasks\{AAAA0000-0000-0000-0000-000000000002}" = @{ 'Path' = '\Listed'; 'Actions' = (New-TestTaskActionBlob -Program 'C:\Tools\ok.exe' -Arguments '') }
                "$cache\Tree\Garbled"                      = @{ 'Id' = '{AAAA0000-0000-0000-0000-000000000003}'; 'SD' = [byte[]]@(1, 0, 4, 128) }
                "$cache\Tasks\{AAAA0000-0000-0000-0000-000000000003}" = @{ 'Path' = '\Garbled'; 'Actions' = [byte[]]@(3, 0, 255, 255, 255, 127) }
            }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith {
                return , @([pscustomobject]@{ TaskPath = '\'; TaskName = 'Listed'; Principal = $null; Actions = @([pscustomobject]@{ Execute = 'C:\Tools\ok.exe'; Arguments = '' }) })
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $tasks = Get-TestEntry -Document $document -Kind 'scheduled-task'
            # Listed: once, from the API; Hidden and Garbled from the TaskCache.
            $tasks.Length | Should -Be 3
            $hidden = $tasks | Where-Object -FilterScript { $_.name -like '\Microsoft\Windows\Hidden*' }
            $hidden.name | Should -Be '\Microsoft\Windows\Hidden (hidden: no security descriptor; not listed by the task scheduler)'
            $hidden.location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks\{AAAA0000-0000-0000-0000-000000000001}'
            $hidden.command | Should -Be 'C:\Users\Public\evil.exe -persist'
            $hidden.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $hidden.referencesTarget | Should -BeTrue
            $garbled = $tasks | Where-Object -FilterScript { $_.name -like '\Garbled*' }
            $garbled.name | Should -Be '\Garbled (not listed by the task scheduler) (actions not decoded)'
            $garbled.command | Should -BeNullOrEmpty
        }

        It 'reports WMI event filters with their query and each binding joined to the consumer it runs' {
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq 'CommandLineEventConsumer' } -MockWith {
                return , @([pscustomobject]@{ Name = 'Beacon'; CommandLineTemplate = 'C:\Users\Public\evil.exe -beacon'; ExecutablePath = $null })
            }
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq '__EventFilter' } -MockWith {
                return , @([pscustomobject]@{ Name = 'EveryBoot'; Query = 'SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA ''Win32_PerfFormattedData_PerfOS_System''' })
            }
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq '__FilterToConsumerBinding' } -MockWith {
                return , @([pscustomobject]@{ Filter = '__EventFilter.Name="EveryBoot"'; Consumer = 'CommandLineEventConsumer.Name="Beacon"' })
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $filter = @($document.results | Where-Object -FilterScript { $_.location -eq 'root\subscription:__EventFilter' })
            $filter[0].kind | Should -Be 'wmi-subscription'
            $filter[0].name | Should -Be 'EveryBoot'
            $filter[0].command | Should -BeLike 'SELECT * FROM __InstanceModificationEvent*'
            $filter[0].imagePath | Should -BeNullOrEmpty
            $binding = @($document.results | Where-Object -FilterScript { $_.location -eq 'root\subscription:__FilterToConsumerBinding' })
            $binding.Length | Should -Be 1
            $binding[0].name | Should -Be 'EveryBoot -> CommandLineEventConsumer Beacon'
            $binding[0].command | Should -Be 'C:\Users\Public\evil.exe -beacon'
            $binding[0].referencesTarget | Should -BeTrue
        }

        It 'reports BITS jobs with their notify command line (or the files they transfer), and notes bits-job-unavailable without the BITS cmdlets' {
            Mock -CommandName Get-SpawnGuardBitsJob -MockWith {
                return , @(
                    [pscustomobject]@{ JobId = '{B1}'; DisplayName = 'updater'; Owner = 'CONTOSO\bob'; NotifyCommandLine = '"C:\Users\Public\evil.exe" run'; Files = @('http://x/a.bin -> C:\Users\Public\a.bin') },
                    [pscustomobject]@{ JobId = '{B2}'; DisplayName = 'download'; Owner = 'NT AUTHORITY\SYSTEM'; NotifyCommandLine = ''; Files = @('http://x/evil.exe -> C:\Users\Public\evil.exe') }
                )
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }).Document
            $jobs = Get-TestEntry -Document $document -Kind 'bits-job'
            $jobs.Length | Should -Be 2
            $notify = $jobs | Where-Object -FilterScript { $_.name -eq 'updater' }
            $notify.location | Should -Be 'BITS job {B1}'
            $notify.imagePath | Should -Be 'C:\Users\Public\evil.exe'
            $notify.user | Should -Be 'CONTOSO\bob'
            $notify.referencesTarget | Should -BeTrue
            $download = $jobs | Where-Object -FilterScript { $_.name -eq 'download' }
            $download.command | Should -Be 'transfers http://x/evil.exe -> C:\Users\Public\evil.exe'
            $download.imagePath | Should -BeNullOrEmpty
            $download.referencesTarget | Should -BeTrue
            Mock -CommandName Get-SpawnGuardBitsJob -MockWith { return $null }
            $run = Invoke-TestFetch
            $run.ExitCode | Should -Be 0
            @($run.Document.errors | ForEach-Object -Process { $_.code }) | Should -Be @('bits-job-unavailable')
        }

        It 'reports Office add-ins with the DLL of their ProgID''s CLSID or their VSTO manifest, and the user''s Word STARTUP and Excel XLSTART files' {
            $profiles = 'HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
            Set-TestRegistry -Keys @{
                "$profiles\$script:Bob"                                                        = @{ 'ProfileImagePath' = 'C:\Users\bob' }
                "HKEY_USERS\$script:Bob\Software\Microsoft\Office\Word\Addins\Evil.Connect"     = @{ 'LoadBehavior' = 3; 'FriendlyName' = 'Evil' }
                "HKEY_USERS\$script:Bob\Software\Classes\Evil.Connect\CLSID"                    = @{ '' = '{22222222-3333-4444-5555-666666666666}' }
                "HKEY_USERS\$script:Bob\Software\Classes\CLSID\{22222222-3333-4444-5555-666666666666}\InprocServer32" = @{ '' = '%APPDATA%\Evil\connect.dll' }
                "$script:Hklm\Microsoft\Office\Excel\Addins\Vendor.Tool"                        = @{ 'LoadBehavior' = 3; 'Manifest' = 'file:///C:/Program Files/Vendor/tool.vsto|vstolocal' }
            }
            $null = New-TestFile -WindowsPath 'C:\Users\bob\AppData\Roaming\Microsoft\Word\STARTUP\evil.dotm'
            $null = New-TestFile -WindowsPath 'C:\Users\bob\AppData\Roaming\Microsoft\Excel\XLSTART\book.xlsm'
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\bob\AppData\Roaming\Evil\connect.dll', 'C:\Users\bob\AppData\Roaming\Microsoft\Word\STARTUP\evil.dotm') }).Document
            $addins = Get-TestEntry -Document $document -Kind 'office-addin'
            $addins.Length | Should -Be 4
            $com = $addins | Where-Object -FilterScript { $_.name -eq 'Word Evil.Connect (LoadBehavior 3)' }
            $com.location | Should -Be "HKU\$script:Bob\Software\Microsoft\Office\Word\Addins\Evil.Connect"
            $com.imagePath | Should -Be 'C:\Users\bob\AppData\Roaming\Evil\connect.dll'
            $com.user | Should -Be 'CONTOSO\bob'
            $com.referencesTarget | Should -BeTrue
            $vsto = $addins | Where-Object -FilterScript { $_.name -eq 'Excel Vendor.Tool (LoadBehavior 3)' }
            $vsto.command | Should -Be 'file:///C:/Program Files/Vendor/tool.vsto|vstolocal'
            $vsto.imagePath | Should -Be 'C:\Program Files\Vendor\tool.vsto'
            $vsto.user | Should -BeNullOrEmpty
            $startup = $addins | Where-Object -FilterScript { $_.name -eq 'evil.dotm' }
            $startup.location | Should -Be 'C:\Users\bob\AppData\Roaming\Microsoft\Word\STARTUP'
            $startup.referencesTarget | Should -BeTrue
            ($addins | Where-Object -FilterScript { $_.name -eq 'book.xlsm' }).location | Should -Be 'C:\Users\bob\AppData\Roaming\Microsoft\Excel\XLSTART'
        }

        It 'reports Group Policy scripts from the local policy''s scripts.ini and psscripts.ini and from the registry' {
            $ini = "[Startup]`r`n0CmdLine=evil.bat`r`n0Parameters=/q`r`n1CmdLine=C:\Users\Public\other.cmd`r`n1Parameters=`r`n"
            $native = New-TestFile -WindowsPath 'C:\Windows\System32\GroupPolicy\Machine\Scripts\scripts.ini' -Content 'x'
            [System.IO.File]::WriteAllText($native, $ini, [System.Text.Encoding]::Unicode)
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\GroupPolicy\User\Scripts\psscripts.ini' -Content "[Logon]`r`n0CmdLine=C:\Users\Public\logon.ps1`r`n0Parameters=-NoProfile`r`n"
            Set-TestRegistry -Keys @{
                "$script:Hklm\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Startup\0\0" = @{ 'Script' = '\\contoso.com\SysVol\contoso.com\Policies\{X}\Machine\Scripts\Startup\deploy.cmd'; 'Parameters' = '' }
                "HKEY_USERS\$script:Bob\Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon\0\0" = @{ 'Script' = 'C:\Users\Public\evil.exe'; 'Parameters' = '-x' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Windows\System32\GroupPolicy\Machine\Scripts\Startup\evil.bat', 'C:\Users\Public\evil.exe') }).Document
            $scripts = Get-TestEntry -Document $document -Kind 'gpo-script'
            $scripts.Length | Should -Be 5
            $bat = $scripts | Where-Object -FilterScript { $_.command -eq '"evil.bat" /q' }
            $bat.location | Should -Be 'C:\Windows\System32\GroupPolicy\Machine\Scripts\scripts.ini [Startup]'
            $bat.name | Should -Be '0CmdLine'
            $bat.imagePath | Should -Be 'C:\Windows\System32\GroupPolicy\Machine\Scripts\Startup\evil.bat'
            $bat.referencesTarget | Should -BeTrue
            ($scripts | Where-Object -FilterScript { $_.location -like '*psscripts.ini `[Logon`]' }).imagePath | Should -Be 'C:\Users\Public\logon.ps1'
            $registry = $scripts | Where-Object -FilterScript { $_.user -eq 'CONTOSO\bob' }
            $registry.name | Should -Be 'Logon Script'
            $registry.location | Should -Be "HKU\$script:Bob\Software\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Logon\0\0"
            $registry.referencesTarget | Should -BeTrue
            ($scripts | Where-Object -FilterScript { $_.name -eq 'Startup Script' }).imagePath | Should -Be '\\contoso.com\SysVol\contoso.com\Policies\{X}\Machine\Scripts\Startup\deploy.cmd'
        }
    }

    Context 'the places an IR analyst also looks: TreatAs, applied Group Policy state, Office''s own folders' {
        It 'follows a per-user TreatAs to the server of the class it sends to, the user''s own class first, then the machine''s' {
            $classes = "HKEY_USERS\$script:Bob\Software\Classes\CLSID"
            Set-TestRegistry -Keys @{
                "$classes\{0A29FF9E-7F9C-4437-8B11-F424491E3931}\TreatAs"        = @{ '' = '{99999999-8888-7777-6666-555555555555}' }
                "$classes\{99999999-8888-7777-6666-555555555555}\InprocServer32" = @{ '' = '%APPDATA%\evil.dll' }
                "$classes\{13709620-C279-11CE-A49E-444553540000}\TreatAs"        = @{ '' = '{12121212-3434-5656-7878-909090909090}' }
                "$script:Hklm\Classes\CLSID\{12121212-3434-5656-7878-909090909090}\LocalServer32" = @{ '' = '"C:\Program Files\Vendor\server.exe" -Embedding' }
                "$classes\{44444444-4444-4444-4444-444444444444}\TreatAs"        = @{ '' = 'not a class id' }
                "$script:Hklm\Microsoft\Windows NT\CurrentVersion\ProfileList\$script:Bob" = @{ 'ProfileImagePath' = 'C:\Users\bob' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\bob\AppData\Roaming\evil.dll') }).Document
            $treatAs = @(Get-TestEntry -Document $document -Kind 'com-hijack' | Where-Object -FilterScript { $_.name -like '* TreatAs' })
            $treatAs.Length | Should -Be 3
            $user = $treatAs | Where-Object -FilterScript { $_.name -eq '{0A29FF9E-7F9C-4437-8B11-F424491E3931} TreatAs' }
            $user.command | Should -Be '{99999999-8888-7777-6666-555555555555} -> %APPDATA%\evil.dll'
            $user.imagePath | Should -Be 'C:\Users\bob\AppData\Roaming\evil.dll'
            $user.user | Should -Be 'CONTOSO\bob'
            $user.referencesTarget | Should -BeTrue
            $machine = $treatAs | Where-Object -FilterScript { $_.name -eq '{13709620-C279-11CE-A49E-444553540000} TreatAs' }
            $machine.imagePath | Should -Be 'C:\Program Files\Vendor\server.exe'
            $machine.referencesTarget | Should -BeFalse
            # A value that names no class is still reported, with no image made up for it.
            ($treatAs | Where-Object -FilterScript { $_.name -eq '{44444444-4444-4444-4444-444444444444} TreatAs' }).imagePath | Should -BeNullOrEmpty
        }

        It 'reports the scripts Group Policy last applied (State\Machine and State\<SID>)' {
            $state = "$script:Hklm\Microsoft\Windows\CurrentVersion\Group Policy\State"
            Set-TestRegistry -Keys @{
                "$state\Machine\Scripts\Startup\0\0"       = @{ 'Script' = 'C:\Users\Public\evil.ps1'; 'Parameters' = '-w hidden' }
                "$state\$script:Bob\Scripts\Logon\0\0"     = @{ 'Script' = 'C:\Scripts\map-drives.cmd'; 'Parameters' = '' }
            }
            $document = (Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.ps1') }).Document
            $scripts = Get-TestEntry -Document $document -Kind 'gpo-script'
            $scripts.Length | Should -Be 2
            $evil = $scripts | Where-Object -FilterScript { $_.imagePath -eq 'C:\Users\Public\evil.ps1' }
            $evil.location | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\State\Machine\Scripts\Startup\0\0'
            $evil.command | Should -Be '"C:\Users\Public\evil.ps1" -w hidden'
            $evil.referencesTarget | Should -BeTrue
            ($scripts | Where-Object -FilterScript { $_.location -like "*State\$script:Bob\*" }).imagePath | Should -Be 'C:\Scripts\map-drives.cmd'
        }

        It 'reports the files of the installation''s STARTUP and XLSTART folders and of the startup folders a user''s Office options name' {
            Set-TestRegistry -Keys @{
                "$script:Hklm\Microsoft\Office\ClickToRun"                                   = @{ 'InstallPath' = 'C:\Program Files\Microsoft Office' }
                "$script:Hklm\Microsoft\Office\14.0\Common\InstallRoot"                     = @{ 'Path' = 'C:\Program Files\Microsoft Office\Office14\' }
                "HKEY_USERS\$script:Bob\Software\Microsoft\Office\16.0\Word\Options"       = @{ 'STARTUP-PATH' = 'D:\Templates\Startup' }
                "HKEY_USERS\$script:Bob\Software\Microsoft\Office\16.0\Excel\Options"      = @{ 'AltStartup' = '\\fileserver\share\xl' }
            }
            $null = New-TestFile -WindowsPath 'C:\Program Files\Microsoft Office\root\Office16\XLSTART\evil.xlam'
            $null = New-TestFile -WindowsPath 'C:\Program Files\Microsoft Office\Office14\STARTUP\old.dotm'
            $null = New-TestFile -WindowsPath 'D:\Templates\Startup\macro.dotm'
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Program Files\Microsoft Office\root\Office16\XLSTART\evil.xlam') }
            $addins = Get-TestEntry -Document $run.Document -Kind 'office-addin'
            $addins.Length | Should -Be 3
            $xlstart = $addins | Where-Object -FilterScript { $_.name -eq 'evil.xlam' }
            $xlstart.location | Should -Be 'C:\Program Files\Microsoft Office\root\Office16\XLSTART'
            $xlstart.user | Should -BeNullOrEmpty
            $xlstart.referencesTarget | Should -BeTrue
            ($addins | Where-Object -FilterScript { $_.name -eq 'old.dotm' }).location | Should -Be 'C:\Program Files\Microsoft Office\Office14\STARTUP'
            $option = $addins | Where-Object -FilterScript { $_.name -eq 'macro.dotm' }
            $option.location | Should -Be 'D:\Templates\Startup'
            $option.user | Should -Be 'CONTOSO\bob'
            # The share the Excel option names is noted, never opened as SYSTEM.
            @($run.Document.errors | Where-Object -FilterScript { $_.code -eq 'office-addin-unavailable' }).Count | Should -Be 1
        }
    }

    Context 'the output contract (common/host-contract.ts)' {
        It 'prints a FetchPersistenceResult whose every entry has exactly the PersistenceEntry fields, types and kind names' {
            $contract = [System.IO.File]::ReadAllText($script:ContractPath)
            $kindBlock = [regex]::Match($contract, '(?<![A-Z_])PERSISTENCE_KINDS = \[([^\]]*)\]').Groups[1].Value
            $kinds = @([regex]::Matches($kindBlock, "'([a-z-]+)'") | ForEach-Object -Process { $_.Groups[1].Value })
            $kinds.Length | Should -Be 24
            $null = New-TestFile -WindowsPath 'C:\Windows\System32\autochk.exe'
            $null = New-TestFile -WindowsPath 'C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\evil.bat'
            $nt = "$script:Hklm\Microsoft\Windows NT\CurrentVersion"
            Set-TestRegistry -Keys @{
                "$script:Hklm\$script:Run"                                         = @{ 'Updater' = 'C:\Users\Public\evil.exe' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Evil'        = @{ 'ImagePath' = 'C:\Users\Public\evil.exe' }
                "$nt\Winlogon"                                                     = @{ 'Shell' = 'explorer.exe' }
                "$nt\Image File Execution Options\sethc.exe"                       = @{ 'Debugger' = 'C:\Users\Public\evil.exe' }
                "$nt\Windows"                                                      = @{ 'AppInit_DLLs' = 'C:\Users\Public\evil.dll' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager' = @{ 'BootExecute' = [string[]]@('autocheck autochk *') }
                "$script:Hklm\Microsoft\Active Setup\Installed Components\{X}"    = @{ 'StubPath' = 'C:\Users\Public\evil.exe' }
                "$script:Hklm\Microsoft\Command Processor"                         = @{ 'AutoRun' = 'C:\Users\Public\evil.cmd' }
                "HKEY_USERS\$script:Bob\Environment"                               = @{ 'UserInitMprLogonScript' = 'C:\Users\Public\logon.bat' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Lsa'          = @{ 'Notification Packages' = [string[]]@('scecli') }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager\AppCertDlls' = @{ 'Hook' = 'C:\Users\Public\evil.dll' }
                "$nt\Winlogon\Notify\Evil"                                         = @{ 'DllName' = 'evil.dll' }
                "$nt\Winlogon\GPExtensions\{X}"                                     = @{ 'DllName' = 'gpext.dll' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Print\Monitors\Evil' = @{ 'Driver' = 'C:\Users\Public\evil.dll' }
                "$script:Hklm\Microsoft\NetSh"                                      = @{ 'evil' = 'C:\Users\Public\evil.dll' }
                'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\W32Time\TimeProviders\Evil' = @{ 'DllName' = 'C:\Users\Public\evil.dll' }
                "HKEY_USERS\$script:Bob\Software\Classes\CLSID\{X}\InprocServer32" = @{ '' = 'C:\Users\Public\evil.dll' }
                "HKEY_USERS\$script:Bob\Control Panel\Desktop"                      = @{ 'SCRNSAVE.EXE' = 'C:\Users\Public\evil.scr' }
                "$script:Hklm\Microsoft\Office\Word\Addins\Evil.Connect"           = @{ 'Manifest' = 'file:///C:/Users/Public/evil.vsto|vstolocal' }
                "$script:Hklm\Microsoft\Windows\CurrentVersion\Group Policy\Scripts\Startup\0\0" = @{ 'Script' = 'C:\Users\Public\evil.cmd' }
            }
            Mock -CommandName Get-SpawnGuardBitsJob -MockWith {
                return , @([pscustomobject]@{ JobId = '{B1}'; DisplayName = 'updater'; Owner = 'CONTOSO\bob'; NotifyCommandLine = 'C:\Users\Public\evil.exe'; Files = @() })
            }
            Mock -CommandName Get-SpawnGuardScheduledTask -MockWith {
                return , @([pscustomobject]@{ TaskPath = '\'; TaskName = 'T'; Principal = [pscustomobject]@{ UserId = 'SYSTEM' }; Actions = @([pscustomobject]@{ Execute = 'C:\Users\Public\evil.exe'; Arguments = '' }) })
            }
            Mock -CommandName Get-SpawnGuardSubscriptionInstance -ParameterFilter { $PesterBoundParameters['ClassName'] -eq 'CommandLineEventConsumer' } -MockWith {
                return , @([pscustomobject]@{ Name = 'Beacon'; CommandLineTemplate = 'C:\Users\Public\evil.exe'; ExecutablePath = $null })
            }
            $run = Invoke-TestFetch -Parameters @{ ReferencePaths = @('C:\Users\Public\evil.exe') }
            $run.ExitCode | Should -Be 0
            $document = $run.Document
            @($document.PSObject.Properties.Name) | Should -Be @('script', 'ok', 'hostname', 'startedAt', 'finishedAt', 'results', 'errors')
            $document.script | Should -Be 'FetchPersistenceEntries.ps1'
            @($document.errors).Length | Should -Be 0
            @($document.results | ForEach-Object -Process { $_.kind } | Sort-Object -Unique) | Should -Be @($kinds | Sort-Object)
            foreach ($entry in $document.results) {
                @($entry.PSObject.Properties.Name) | Should -Be @('kind', 'location', 'name', 'command', 'imagePath', 'user', 'referencesTarget', 'matchedPath')
                $entry.kind | Should -BeIn $kinds
                $entry.location | Should -BeOfType [string]
                $entry.name | Should -BeOfType [string]
                $entry.referencesTarget | Should -BeOfType [bool]
                foreach ($field in @('command', 'imagePath', 'user', 'matchedPath')) {
                    $value = $entry.$field
                    if ($null -ne $value) { $value | Should -BeOfType [string] }
                }
                # Optional strings are null, never empty: the worker treats '' as a value.
                foreach ($field in @('command', 'imagePath', 'user', 'matchedPath')) { $entry.$field | Should -Not -Be '' }
                ($null -ne $entry.matchedPath) | Should -Be $entry.referencesTarget
            }
        }
    }

    Context 'on a real Windows host' {
        It 'reads the real registry, unmocked, without a registry source being unavailable' -Tag 'Windows' {
            if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the real registry (Run keys, services, Winlogon) behind the registry seam' }
            # A child PowerShell: none of this file's mocks reach it.
            $output = @(& (Get-Process -Id $PID).Path -NoProfile -NonInteractive -File $script:Script)
            $LASTEXITCODE | Should -Be 0
            $document = ConvertFrom-TestOutput -Output @($output -join '')
            @($document.errors | Where-Object -FilterScript { $_.code -in @('run-key-unavailable', 'service-unavailable', 'winlogon-unavailable', 'registry-unavailable', 'ifeo-debugger-unavailable') }).Length | Should -Be 0
            @($document.results | Where-Object -FilterScript { $_.kind -eq 'service' -and $_.name -eq 'EventLog' }).Length | Should -Be 1
        }
    }
}
