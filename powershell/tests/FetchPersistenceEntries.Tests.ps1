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

    Context 'the output contract (common/host-contract.ts)' {
        It 'prints a FetchPersistenceResult whose every entry has exactly the PersistenceEntry fields, types and kind names' {
            $contract = [System.IO.File]::ReadAllText($script:ContractPath)
            $kindBlock = [regex]::Match($contract, 'PERSISTENCE_KINDS = \[([^\]]*)\]').Groups[1].Value
            $kinds = @([regex]::Matches($kindBlock, "'([a-z-]+)'") | ForEach-Object -Process { $_.Groups[1].Value })
            $kinds.Length | Should -Be 12
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
