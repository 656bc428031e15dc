<#
.SYNOPSIS
    Pester 5 tests of the Windows seam (SpawnGuard.Safety/Platform.ps1): the portable file and
    process functions run for real (Windows paths mapped into a test folder by the one
    ConvertTo-SpawnGuardNativePath mock); the Windows-only ones (registry, ACLs, Authenticode,
    CIM, COM) run in a few tests tagged Windows and are skipped elsewhere with their reason.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force
}

Describe 'File functions on real files' {
    BeforeEach {
        # A fresh folder per test: C:\... maps into it.
        $script:Folder = Join-Path -Path $TestDrive -ChildPath ([System.Guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $script:Folder
        Set-TestFileSystemRoot -Root $script:Folder
        Mock -ModuleName 'SpawnGuard.Safety' -CommandName ConvertTo-SpawnGuardNativePath -MockWith { ConvertTo-TestNativePath -LiteralPath $PesterBoundParameters['LiteralPath'] }
    }

    It 'tells files from folders and from nothing' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe'
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\evil.exe' | Should -BeTrue
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public' | Should -BeFalse
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\gone.exe' | Should -BeFalse
        Test-SpawnGuardDirectory -LiteralPath 'C:\Users\Public' | Should -BeTrue
        Test-SpawnGuardDirectory -LiteralPath 'C:\Users\Public\evil.exe' | Should -BeFalse
    }

    It 'takes a name with wildcard characters literally' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\invoice[1].exe'
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\invoice[1].exe' | Should -BeTrue
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\invoice1.exe' | Should -BeFalse
    }

    It 'gives the size of a file and throws for a missing one' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content '0123456789'
        Get-SpawnGuardFileLength -LiteralPath 'C:\Users\Public\evil.exe' | Should -Be 10
        { Get-SpawnGuardFileLength -LiteralPath 'C:\Users\Public\gone.exe' } | Should -Throw
    }

    It 'opens a file for reading while another handle is writing it' {
        $native = New-TestFile -WindowsPath 'C:\Users\Public\locked.exe' -Content ''
        $writer = New-Object -TypeName System.IO.FileStream -ArgumentList $native, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Write), ([System.IO.FileShare]::ReadWrite)
        try {
            $bytes = [System.Text.Encoding]::ASCII.GetBytes('MZ still running')
            $writer.Write($bytes, 0, $bytes.Length)
            $writer.Flush()
            $reader = Open-SpawnGuardFileForRead -LiteralPath 'C:\Users\Public\locked.exe'
            try {
                $reader.CanRead | Should -BeTrue
                $reader.CanWrite | Should -BeFalse
                $text = (New-Object -TypeName System.IO.StreamReader -ArgumentList $reader).ReadToEnd()
                $text | Should -Be 'MZ still running'
            } finally {
                $reader.Dispose()
            }
        } finally {
            $writer.Dispose()
        }
    }

    It 'lists the files of a folder (not its subfolders) with Windows paths, and none for a missing folder' {
        $null = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\Quarantine\a.bin'
        $null = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\Quarantine\b[1].json'
        $null = New-TestFile -WindowsPath 'C:\ProgramData\SpawnGuard\Quarantine\sub\c.bin'
        $files = Get-SpawnGuardChildFile -LiteralPath 'C:\ProgramData\SpawnGuard\Quarantine\'
        @($files | ForEach-Object -Process { $_.FullName } | Sort-Object) | Should -Be @('C:\ProgramData\SpawnGuard\Quarantine\a.bin', 'C:\ProgramData\SpawnGuard\Quarantine\b[1].json')
        $json = Get-SpawnGuardChildFile -LiteralPath 'C:\ProgramData\SpawnGuard\Quarantine' -Filter '*.json'
        , $json | Should -BeOfType [System.Array]
        $json.Length | Should -Be 1
        $json[0].Name | Should -Be 'b[1].json'
        $none = Get-SpawnGuardChildFile -LiteralPath 'C:\ProgramData\Nothing'
        , $none | Should -BeOfType [System.Array]
        $none.Length | Should -Be 0
    }

    It 'creates a folder with its parents, again without complaint, and not with -WhatIf' {
        New-SpawnGuardDirectory -LiteralPath 'C:\ProgramData\SpawnGuard\Quarantine'
        New-SpawnGuardDirectory -LiteralPath 'C:\ProgramData\SpawnGuard\Quarantine'
        Test-SpawnGuardDirectory -LiteralPath 'C:\ProgramData\SpawnGuard\Quarantine' | Should -BeTrue
        New-SpawnGuardDirectory -LiteralPath 'C:\ProgramData\Other' -WhatIf
        Test-SpawnGuardDirectory -LiteralPath 'C:\ProgramData\Other' | Should -BeFalse
    }

    It 'moves a file whose name has wildcard characters, and refuses to move over an existing file' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\invoice[1].exe' -Content 'evil'
        $null = New-TestFile -WindowsPath 'C:\Users\Public\invoice1.exe' -Content 'innocent'
        New-SpawnGuardDirectory -LiteralPath 'C:\Q'
        Move-SpawnGuardFile -Source 'C:\Users\Public\invoice[1].exe' -Destination 'C:\Q\abc[1].bin'
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\invoice[1].exe' | Should -BeFalse
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\abc[1].bin' | Should -Be 'evil'
        Read-SpawnGuardTextFile -LiteralPath 'C:\Users\Public\invoice1.exe' | Should -Be 'innocent'
        { Move-SpawnGuardFile -Source 'C:\Users\Public\invoice1.exe' -Destination 'C:\Q\abc[1].bin' } | Should -Throw
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\abc[1].bin' | Should -Be 'evil'
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\invoice1.exe' | Should -BeTrue
    }

    It 'moves and copies nothing with -WhatIf' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\evil.exe' -Content 'evil'
        Move-SpawnGuardFile -Source 'C:\Users\Public\evil.exe' -Destination 'C:\Users\Public\moved.exe' -WhatIf
        Copy-SpawnGuardFile -Source 'C:\Users\Public\evil.exe' -Destination 'C:\Users\Public\copied.exe' -WhatIf
        Remove-SpawnGuardFile -LiteralPath 'C:\Users\Public\evil.exe' -WhatIf
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\evil.exe' | Should -BeTrue
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\moved.exe' | Should -BeFalse
        Test-SpawnGuardFile -LiteralPath 'C:\Users\Public\copied.exe' | Should -BeFalse
    }

    It 'copies a file over its destination and keeps the source' {
        $null = New-TestFile -WindowsPath 'C:\Q\x[2].bin' -Content 'new'
        $null = New-TestFile -WindowsPath 'C:\Users\Public\x[2].exe' -Content 'old'
        Copy-SpawnGuardFile -Source 'C:\Q\x[2].bin' -Destination 'C:\Users\Public\x[2].exe'
        Read-SpawnGuardTextFile -LiteralPath 'C:\Users\Public\x[2].exe' | Should -Be 'new'
        Test-SpawnGuardFile -LiteralPath 'C:\Q\x[2].bin' | Should -BeTrue
    }

    It 'deletes a file by its literal name only, and a missing file without complaint' {
        $null = New-TestFile -WindowsPath 'C:\Q\a[1].tmp'
        $null = New-TestFile -WindowsPath 'C:\Q\a1.tmp'
        Remove-SpawnGuardFile -LiteralPath 'C:\Q\a[1].tmp'
        Test-SpawnGuardFile -LiteralPath 'C:\Q\a[1].tmp' | Should -BeFalse
        Test-SpawnGuardFile -LiteralPath 'C:\Q\a1.tmp' | Should -BeTrue
        { Remove-SpawnGuardFile -LiteralPath 'C:\Q\a[1].tmp' } | Should -Not -Throw
    }

    It 'writes UTF-8 without a byte-order mark, replacing the file, and reads it back with non-ASCII text intact' {
        $text = '{"originalPath":"C:\\Users\\J' + [char]0x00FC + 'rgen\\' + [char]0x0444 + '.exe"}'
        $null = New-TestFile -WindowsPath 'C:\Q\manifest.json' -Content 'a much longer previous content that must disappear'
        Write-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' -Text $text
        $bytes = [System.IO.File]::ReadAllBytes((ConvertTo-TestNativePath -LiteralPath 'C:\Q\manifest.json'))
        $bytes[0] | Should -Be 0x7B
        $bytes.Length | Should -Be ([System.Text.Encoding]::UTF8.GetByteCount($text))
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' | Should -Be $text
        Write-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' -Text ''
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' | Should -Be ''
        Write-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' -Text 'unchanged?' -WhatIf
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\manifest.json' | Should -Be ''
    }

    It 'replaces nothing with -WhatIf' {
        $null = New-TestFile -WindowsPath 'C:\Q\m.tmp' -Content 'new'
        $null = New-TestFile -WindowsPath 'C:\Q\m.json' -Content 'old'
        Update-SpawnGuardFileFrom -Source 'C:\Q\m.tmp' -Destination 'C:\Q\m.json' -WhatIf
        Read-SpawnGuardTextFile -LiteralPath 'C:\Q\m.json' | Should -Be 'old'
    }

    It 'gives empty version fields for a file without a version resource' {
        $null = New-TestFile -WindowsPath 'C:\Users\Public\script.ps1' -Content 'Write-Output 1'
        $fields = Get-SpawnGuardVersionInfo -LiteralPath 'C:\Users\Public\script.ps1'
        $fields.Keys | Should -Be @('originalFilename', 'companyName', 'productName', 'fileVersion')
        $fields.originalFilename | Should -BeNullOrEmpty
        $fields.companyName | Should -BeNullOrEmpty
        $fields.productName | Should -BeNullOrEmpty
        $fields.fileVersion | Should -BeNullOrEmpty
    }

    It 'gives no ACL (rather than failing) for a file it cannot read the ACL of' {
        Get-SpawnGuardAccessSddl -LiteralPath 'C:\Users\Public\gone.exe' | Should -BeNullOrEmpty
    }
}

Describe 'Process and account functions that run anywhere' {
    It 'maps the production path to itself' {
        ConvertTo-SpawnGuardNativePath -LiteralPath 'C:\Users\Public\evil [1].exe' | Should -Be 'C:\Users\Public\evil [1].exe'
    }

    It 'sees a real process running, and sees it gone once it has exited' {
        $child = Start-Process -FilePath (Get-Process -Id $PID).Path -ArgumentList @('-NoProfile', '-NonInteractive', '-Command', 'Start-Sleep -Seconds 60') -PassThru -NoNewWindow
        try {
            Test-SpawnGuardProcessRunning -ProcessId $child.Id | Should -BeTrue
            $child.Kill()
            $child.WaitForExit(10000) | Should -BeTrue
            Test-SpawnGuardProcessRunning -ProcessId $child.Id | Should -BeFalse
        } finally {
            if (-not $child.HasExited) { $child.Kill() }
        }
    }

    It 'sees no process under a PID that does not exist' {
        Test-SpawnGuardProcessRunning -ProcessId 4194300 | Should -BeFalse
    }

    It 'gives the session this process runs in' {
        Get-SpawnGuardCurrentSessionId | Should -Be ([System.Diagnostics.Process]::GetCurrentProcess().SessionId)
    }

    It 'reads the owner of a WMI process instance, and $null when it cannot be read' {
        $owned = [pscustomobject]@{ ProcessId = 42 }
        $owned | Add-Member -MemberType ScriptMethod -Name 'GetOwner' -Value { [pscustomobject]@{ ReturnValue = 0; User = 'bob'; Domain = 'CONTOSO' } }
        $owner = Get-SpawnGuardProcessOwner -Instance $owned
        $owner.User | Should -Be 'bob'
        $owner.Domain | Should -Be 'CONTOSO'
        $denied = [pscustomobject]@{ ProcessId = 43 }
        $denied | Add-Member -MemberType ScriptMethod -Name 'GetOwner' -Value { [pscustomobject]@{ ReturnValue = 2; User = $null; Domain = $null } }
        Get-SpawnGuardProcessOwner -Instance $denied | Should -BeNullOrEmpty
        $exited = [pscustomobject]@{ ProcessId = 44 }
        $exited | Add-Member -MemberType ScriptMethod -Name 'GetOwner' -Value { throw 'Not found' }
        Get-SpawnGuardProcessOwner -Instance $exited | Should -BeNullOrEmpty
    }

    It 'returns a SID that does not resolve unchanged' {
        ConvertTo-SpawnGuardAccountName -Sid 'not-a-sid' | Should -Be 'not-a-sid'
    }

    It 'reads a registry key that does not exist as empty' {
        $missing = 'HKEY_LOCAL_MACHINE\SOFTWARE\SpawnGuardTest-' + [System.Guid]::NewGuid().ToString('N')
        Test-SpawnGuardRegistryKey -Path $missing | Should -BeFalse
        $subKeys = Get-SpawnGuardRegistrySubKeyName -Path $missing
        , $subKeys | Should -BeOfType [System.Array]
        $subKeys.Length | Should -Be 0
        (Get-SpawnGuardRegistryValueName -Path $missing).Length | Should -Be 0
        Get-SpawnGuardRegistryValue -Path $missing -Name 'Debugger' | Should -BeNullOrEmpty
    }
}

Describe 'Windows-only seam functions' -Tag 'Windows' {
    It 'reads a registry value as stored, without expanding environment variables' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the registry' }
        $key = 'HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\EventLog'
        Test-SpawnGuardRegistryKey -Path $key | Should -BeTrue
        Get-SpawnGuardRegistrySubKeyName -Path $key | Should -Contain 'System'
        Get-SpawnGuardRegistryValueName -Path ($key + '\System') | Should -Contain 'File'
        Get-SpawnGuardRegistryValue -Path ($key + '\System') -Name 'File' | Should -Match '%SystemRoot%'
    }

    It 'finds a Microsoft signature on cmd.exe and none on a new file' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: Authenticode (Get-AuthenticodeSignature)' }
        $signature = Get-SpawnGuardAuthenticodeSignature -LiteralPath (Join-Path -Path $env:SystemRoot -ChildPath 'System32\cmd.exe')
        $signature.Status | Should -Be 'Valid'
        $signature.SignerCertificate.Subject | Should -Match 'Microsoft'
        $unsigned = Join-Path -Path $TestDrive -ChildPath 'unsigned[1].exe'
        [System.IO.File]::WriteAllText($unsigned, 'MZ')
        (Get-SpawnGuardAuthenticodeSignature -LiteralPath $unsigned).Status | Should -Not -Be 'Valid'
    }

    It 'reduces an ACL to Administrators and SYSTEM with inheritance off, and restores the recorded one' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: NTFS ACLs (needs an elevated session)' }
        $file = Join-Path -Path $TestDrive -ChildPath 'acl.bin'
        [System.IO.File]::WriteAllText($file, 'x')
        $before = Get-SpawnGuardAccessSddl -LiteralPath $file
        $before | Should -Not -BeNullOrEmpty
        Set-SpawnGuardRestrictedAcl -LiteralPath $file
        $restricted = Get-SpawnGuardAccessSddl -LiteralPath $file
        $restricted | Should -Match '^D:P'
        $restricted | Should -Match ';;;BA\)'
        $restricted | Should -Match ';;;SY\)'
        ([regex]::Matches($restricted, '\(A;')).Count | Should -Be 2
        Restore-SpawnGuardAccessSddl -LiteralPath $file -Sddl $before
        Get-SpawnGuardAccessSddl -LiteralPath $file | Should -Be $before
    }

    It 'reads this process from Win32_Process with its image path and creation date' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: CIM/WMI Win32_Process' }
        $record = Get-SpawnGuardLiveProcess -ProcessId $PID
        $record.ProcessId | Should -Be $PID
        $record.ExecutablePath | Should -Be (Get-Process -Id $PID).Path
        $record.CreationDate | Should -BeOfType [datetime]
        $owner = Get-SpawnGuardProcessOwner -Instance $record.Source
        $owner.User | Should -Not -BeNullOrEmpty
    }

    It 'writes, reads back with its type and deletes registry values of every backed-up type' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the registry (RegistryKey.SetValue with a RegistryValueKind, DeleteValue)' }
        $sid = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
        $key = 'HKEY_USERS\' + $sid + '\Software\SpawnGuardTest-' + [System.Guid]::NewGuid().ToString('N')
        try {
            $values = @{ String = 'C:\Users\Public\evil.exe'; ExpandString = '%PUBLIC%\evil.exe'; MultiString = [string[]]@('a', 'b'); DWord = [int]-1; QWord = [long]5000000000; Binary = [byte[]]@(77, 90) }
            foreach ($kind in $values.Keys) {
                Set-SpawnGuardRegistryValue -Path $key -Name $kind -Kind $kind -Value $values[$kind]
                $read = Get-SpawnGuardRegistryTypedValue -Path $key -Name $kind
                $read.Kind | Should -Be $kind
                Test-SpawnGuardRegistryDataEqual -Left $read.Data -Right $values[$kind] | Should -BeTrue -Because $kind
            }
            Remove-SpawnGuardRegistryValue -Path $key -Name 'String'
            Get-SpawnGuardRegistryTypedValue -Path $key -Name 'String' | Should -BeNullOrEmpty
            { Remove-SpawnGuardRegistryValue -Path $key -Name 'String' } | Should -Not -Throw
        } finally {
            Remove-Item -LiteralPath ('Registry::' + $key) -Recurse -Force -ErrorAction SilentlyContinue
        }
    }

    It 'registers a task from its XML, reads it back with its actions and principal, and deletes it' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the Task Scheduler COM object (RegisterTask, DeleteTask; an elevated session)' }
        $path = '\SpawnGuardTest\Task-' + [System.Guid]::NewGuid().ToString('N')
        $xml = '<?xml version="1.0" encoding="UTF-16"?><Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Settings><Enabled>false</Enabled></Settings><Actions><Exec><Command>cmd.exe</Command><Arguments>/c exit 0</Arguments></Exec></Actions></Task>'
        $user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
        try {
            Get-SpawnGuardScheduledTaskDefinition -TaskPath $path | Should -BeNullOrEmpty
            Register-SpawnGuardScheduledTaskXml -TaskPath $path -Xml $xml -UserId $user -LogonType 3
            $task = Get-SpawnGuardScheduledTaskDefinition -TaskPath $path
            $task.Actions[0].Path | Should -Be 'cmd.exe'
            $task.Actions[0].Arguments | Should -Be '/c exit 0'
            $task.LogonType | Should -Be 3
            { Register-SpawnGuardScheduledTaskXml -TaskPath $path -Xml $xml -UserId $user -LogonType 3 } | Should -Throw
        } finally {
            Unregister-SpawnGuardScheduledTask -TaskPath $path
        }
        Get-SpawnGuardScheduledTaskDefinition -TaskPath $path | Should -BeNullOrEmpty
        try { (Get-SpawnGuardTaskFolder -FolderPath '\').DeleteFolder('SpawnGuardTest', 0) } catch { $null = $_ }
    }

    It 'reads a service''s start type, and none for a service that does not exist' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the services of the registry' }
        Get-SpawnGuardServiceStartType -Name 'EventLog' | Should -Be 2
        Get-SpawnGuardServiceStartType -Name ('SpawnGuardTest' + [System.Guid]::NewGuid().ToString('N')) | Should -BeNullOrEmpty
    }

    It 'lists scheduled tasks through the Schedule.Service COM object, hidden ones included' -Tag 'Windows' {
        if (-not (Test-TestWindowsHost)) { Set-ItResult -Skipped -Because 'needs Windows: the Task Scheduler COM object' }
        $tasks = Get-SpawnGuardScheduledTaskFromService
        $tasks.Length | Should -BeGreaterThan 0
        @($tasks | Where-Object -FilterScript { $_.Path -like '\Microsoft\Windows\*' }).Length | Should -BeGreaterThan 0
    }
}
