<#
.SYNOPSIS
    Pester 5 tests of reading a request (SpawnGuard.Safety/Requests.ps1) and of the date
    conversions it relies on (Dates.ps1). Pure logic: nothing is mocked, everything runs under pwsh.
#>

BeforeAll {
    $script:Root = Split-Path -Path $PSScriptRoot -Parent
    Import-Module -Name (Join-Path -Path $script:Root -ChildPath 'SpawnGuard.Safety') -Force
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.TestHelpers.psm1') -Force

    function ConvertTo-RawRequest {
        <#
        .SYNOPSIS
            The base64 the runner would send for a raw JSON text (ConvertTo-TestRequest only takes hashtables).
        #>
        [CmdletBinding()]
        param([string]$Json)
        return [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($Json))
    }

    function Get-ThrownCode {
        <#
        .SYNOPSIS
            The spawnguard code of whatever a script block throws, or $null when it does not throw.
        #>
        [CmdletBinding()]
        param([scriptblock]$ScriptBlock)
        try {
            $null = & $ScriptBlock
        } catch {
            return (Get-SpawnGuardErrorCode -ErrorRecord $_)
        }
        return $null
    }
}

Describe 'ConvertFrom-SpawnGuardRequest' {
    It 'decodes base64 of UTF-8 JSON into an object with its fields' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json '{"incidentId":"INC-7","listOnly":true}')
        $decoded.incidentId | Should -Be 'INC-7'
        $decoded.listOnly | Should -BeTrue
    }

    It 'keeps non-ASCII text of the request intact' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json '{"path":"C:\\Users\\J\u00fcrgen\\\u0444\u0430\u0439\u043b.exe"}')
        $decoded.path | Should -Be ('C:\Users\J' + [char]0x00FC + 'rgen\' + [char]0x0444 + [char]0x0430 + [char]0x0439 + [char]0x043B + '.exe')
    }

    It 'refuses text with characters outside base64 as an invalid request' {
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request 'not base64!' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request '' } | Should -Be 'invalid-request'
    }

    It 'refuses base64 characters that do not decode (bad padding)' {
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request 'abc' } | Should -Be 'invalid-request'
    }

    It 'refuses bytes that are not valid UTF-8 instead of turning them into replacement characters' {
        # {"a":"<0xC3 0x28>"}: 0xC3 starts a two-byte sequence that 0x28 does not continue.
        $bytes = [byte[]]@(0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D)
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request ([System.Convert]::ToBase64String($bytes)) } | Should -Be 'invalid-request'
    }

    It 'refuses text that is not JSON' {
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json '{"a":') } | Should -Be 'invalid-request'
    }

    It 'refuses JSON that is a number, a string, true or null' {
        foreach ($json in @('42', '"text"', 'true', 'null')) {
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json $json) } | Should -Be 'invalid-request' -Because $json
        }
    }

    It 'refuses a JSON array, including an array of one object (which PowerShell would unwrap into that object)' {
        foreach ($json in @('[]', '[1,2]', '[{"targets":[{"pid":42}]}]', ' [{"a":1},{"b":2}]')) {
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json $json) } | Should -Be 'invalid-request' -Because $json
        }
    }
}

Describe 'Get-SpawnGuardRequestValue' {
    BeforeAll {
        $script:Request = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json '{"name":"alice","flag":true,"count":7,"big":4294967296,"negative":-1,"fraction":1.5,"list":[{"pid":1}],"names":["a"],"empty":"","nothing":null,"mixed":["a",2]}')
    }

    It 'reads a string, a bool and an integer of the right type' {
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' | Should -Be 'alice'
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'flag' -Type 'bool' | Should -BeTrue
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'count' -Type 'int' | Should -Be 7
    }

    It 'returns the default for a missing or null field, and throws for a missing required one' {
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'absent' -Default 'fallback' | Should -Be 'fallback'
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'nothing' -Type 'bool' -Default $false | Should -BeFalse
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'absent' | Should -BeNullOrEmpty
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'absent' -Required } | Should -Be 'invalid-request'
    }

    It 'returns an array default as an array, even an empty one' {
        $value = Get-SpawnGuardRequestValue -Request $script:Request -Name 'absent' -Type 'stringArray' -Default @()
        , $value | Should -BeOfType [System.Array]
        $value.Length | Should -Be 0
        $one = Get-SpawnGuardRequestValue -Request $script:Request -Name 'absent' -Type 'array' -Default @('x')
        , $one | Should -BeOfType [System.Array]
        $one.Length | Should -Be 1
    }

    It 'keeps a one-element JSON array an array' {
        $list = Get-SpawnGuardRequestValue -Request $script:Request -Name 'list' -Type 'array'
        , $list | Should -BeOfType [System.Array]
        $list.Length | Should -Be 1
        $list[0].pid | Should -Be 1
        $names = Get-SpawnGuardRequestValue -Request $script:Request -Name 'names' -Type 'stringArray'
        , $names | Should -BeOfType [System.Array]
        $names[0] | Should -Be 'a'
    }

    It 'refuses a value of the wrong type' {
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'count' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' -Type 'bool' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' -Type 'int' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'fraction' -Type 'int' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' -Type 'array' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'mixed' -Type 'stringArray' } | Should -Be 'invalid-request'
    }

    It 'refuses integers outside 0..4294967295 and an empty string' {
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'big' -Type 'int' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'negative' -Type 'int' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'empty' } | Should -Be 'invalid-request'
    }

    It 'enforces MaxLength on strings and on the strings of a string array, and MaxCount on arrays' {
        Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' -MaxLength 5 | Should -Be 'alice'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $script:Request -Name 'name' -MaxLength 4 } | Should -Be 'invalid-request'
        $long = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json '{"names":["abc","abcdef"],"list":[1,2,3]}')
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $long -Name 'names' -Type 'stringArray' -MaxLength 5 } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { Get-SpawnGuardRequestValue -Request $long -Name 'list' -Type 'array' -MaxCount 2 } | Should -Be 'invalid-request'
        (Get-SpawnGuardRequestValue -Request $long -Name 'list' -Type 'array' -MaxCount 3).Length | Should -Be 3
    }
}

Describe 'ConvertTo-SpawnGuardHashtable' {
    It 'copies bound parameters into a plain hashtable with string keys' {
        $dictionary = New-Object -TypeName 'System.Collections.Generic.Dictionary[string,object]'
        $dictionary.Add('UserNames', 'alice')
        $dictionary.Add('RdpOnly', $true)
        $copy = ConvertTo-SpawnGuardHashtable -Dictionary $dictionary
        $copy | Should -BeOfType [hashtable]
        $copy['UserNames'] | Should -Be 'alice'
        $copy['RdpOnly'] | Should -BeTrue
        $copy.Count | Should -Be 2
    }
}

Describe 'Split-SpawnGuardPathList' {
    It 'splits only where a drive letter or a UNC prefix follows the comma' {
        $paths = Split-SpawnGuardPathList -Text @('C:\a,b\x.exe,D:\y.dll, \\server\share\z.exe')
        $paths | Should -Be @('C:\a,b\x.exe', 'D:\y.dll', '\\server\share\z.exe')
    }

    It 'strips quotes and blanks, skips empty pieces, and joins several arguments' {
        $paths = Split-SpawnGuardPathList -Text @('"C:\Program Files\x.exe" , "D:\y z.dll"', '', 'E:\w.sys')
        $paths | Should -Be @('C:\Program Files\x.exe', 'D:\y z.dll', 'E:\w.sys')
    }

    It 'returns an empty array (not $null) for no input, and a one-element array for one path' {
        $none = Split-SpawnGuardPathList -Text @()
        , $none | Should -BeOfType [System.Array]
        $none.Length | Should -Be 0
        $one = Split-SpawnGuardPathList -Text @('C:\only.exe')
        , $one | Should -BeOfType [System.Array]
        $one.Length | Should -Be 1
    }
}

Describe 'ConvertTo-SpawnGuardProcessTarget' {
    It 'parses decimal PIDs, hex PIDs and paths, keeping a comma that is part of a path' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234,0x4D2,C:\a,1\evil.exe') -AllowBarePid
        $targets.Length | Should -Be 3
        $targets[0].pid | Should -Be 1234
        $targets[1].pid | Should -Be 1234
        $targets[2].imagePath | Should -Be 'C:\a,1\evil.exe'
        $targets[2].byPath | Should -BeTrue
        $targets[0].byPath | Should -BeFalse
    }

    It 'refuses a bare PID to stop: a PID alone may have been reused by another process' {
        foreach ($bare in @('1234', '0x4D2', '1234=C:\x\evil.exe,42', 'C:\x\evil.exe,42')) {
            $caught = $null
            try { $null = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @($bare) } catch { $caught = $_ }
            Get-SpawnGuardErrorCode -ErrorRecord $caught | Should -Be 'invalid-request' -Because $bare
            $caught.Exception.Message | Should -Match 'needs the image path' -Because $bare
        }
    }

    It 'reads PID=path and hex PID=path, with quotes and spaces, keeping commas inside the paths' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234=C:\x\evil.exe, 0x4D2 = "C:\Program Files\a,1\b.exe",C:\y\z.exe', '42="C:\w\v.exe"')
        $targets.Length | Should -Be 4
        $targets[0].pid | Should -Be 1234
        $targets[0].imagePath | Should -Be 'C:\x\evil.exe'
        $targets[0].byPath | Should -BeFalse
        $targets[0].target | Should -Be '1234=C:\x\evil.exe'
        $targets[1].pid | Should -Be 1234
        $targets[1].imagePath | Should -Be 'C:\Program Files\a,1\b.exe'
        $targets[2].imagePath | Should -Be 'C:\y\z.exe'
        $targets[2].byPath | Should -BeTrue
        $targets[3].pid | Should -Be 42
        $targets[3].imagePath | Should -Be 'C:\w\v.exe'
    }

    It 'refuses PID= followed by anything but a full path' {
        foreach ($junk in @('1234=', '1234=evil.exe', '1234=tools\evil.exe', 'evil=C:\x.exe', '0x=C:\x.exe')) {
            Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @($junk) } | Should -Be 'invalid-request' -Because $junk
        }
    }

    It 'gives -ImagePath to one bare PID, and refuses it with several targets, a path target or a relative path' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234') -ImagePath 'C:\x\evil.exe'
        $targets.Length | Should -Be 1
        $targets[0].pid | Should -Be 1234
        $targets[0].imagePath | Should -Be 'C:\x\evil.exe'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234,42') -ImagePath 'C:\x\evil.exe' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('C:\y\z.exe') -ImagePath 'C:\x\evil.exe' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234=C:\y\z.exe') -ImagePath 'C:\x\evil.exe' } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('1234') -ImagePath 'evil.exe' } | Should -Be 'invalid-request'
    }

    It 'reads the largest 32-bit PID in hex and decimal, and a UNC path' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('0xFFFFFFFF=C:\x.exe', '4294967295=C:\x.exe', '\\server\share\evil.exe')
        $targets[0].pid | Should -Be 4294967295
        $targets[1].pid | Should -Be 4294967295
        $targets[2].imagePath | Should -Be '\\server\share\evil.exe'
    }

    It 'keeps one identifier an array of one target' {
        $targets = ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @(' "42" ') -AllowBarePid
        , $targets | Should -BeOfType [System.Array]
        $targets.Length | Should -Be 1
        $targets[0].target | Should -Be '42'
    }

    It 'rejects a bare program name (never resolved against PATH), a relative path and junk' {
        foreach ($junk in @('evil.exe', 'tools\evil.exe', '12ab', '-5', '0x', 'C:\x\*.exe')) {
            Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @($junk) } | Should -Be 'invalid-request' -Because $junk
        }
    }

    It 'rejects PIDs beyond 32 bits' {
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('4294967296') -AllowBarePid } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @('0x100000000') -AllowBarePid } | Should -Be 'invalid-request'
    }

    It 'accepts 64 identifiers and refuses 65 or none' {
        $pids = New-Object -TypeName System.Collections.ArrayList
        for ($i = 1; $i -le 64; $i++) { [void]$pids.Add([string](1000 + $i)) }
        $sixtyFour = $pids.ToArray() -join ','
        (ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @($sixtyFour) -AllowBarePid).Length | Should -Be 64
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @($sixtyFour + ',2000') -AllowBarePid } | Should -Be 'invalid-request'
        Get-ThrownCode -ScriptBlock { ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers @(' , ') } | Should -Be 'invalid-request'
    }
}

Describe 'ConvertFrom-SpawnGuardTargetRequest' {
    It 'reads every field of a target and keeps a one-target list a list' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-TestRequest -Body @{ targets = @(@{ pid = 42; imagePath = 'C:\Users\Public\evil.exe'; startTime = '2024-05-01T10:00:00Z'; name = 'evil.exe' }) })
        $targets = ConvertFrom-SpawnGuardTargetRequest -Request $decoded
        , $targets | Should -BeOfType [System.Array]
        $targets.Length | Should -Be 1
        $targets[0].pid | Should -Be 42
        $targets[0].target | Should -Be '42'
        $targets[0].imagePath | Should -Be 'C:\Users\Public\evil.exe'
        $targets[0].startTime | Should -BeOfType [string]
        $targets[0].startTime | Should -Be '2024-05-01T10:00:00Z'
        $targets[0].name | Should -Be 'evil.exe'
        $targets[0].byPath | Should -BeFalse
    }

    It 'refuses a request without targets, with an empty list, or with a target that is not an object' {
        foreach ($json in @('{}', '{"targets":[]}', '{"targets":[42]}', '{"targets":["42"]}', '{"targets":[[{"pid":42}]]}', '{"targets":{"pid":42}}')) {
            $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json $json)
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardTargetRequest -Request $decoded } | Should -Be 'invalid-request' -Because $json
        }
    }

    It 'refuses a target without a PID, with a relative image path, or with a start time that is not a time' {
        foreach ($json in @('{"targets":[{"imagePath":"C:\\x.exe"}]}', '{"targets":[{"pid":42,"imagePath":"evil.exe"}]}', '{"targets":[{"pid":42,"imagePath":"C:\\x.exe","startTime":"yesterday-ish"}]}', '{"targets":[{"pid":"42","imagePath":"C:\\x.exe"}]}', '{"targets":[{"pid":42,"imagePath":"C:\\x.exe","startedBefore":"soon"}]}')) {
            $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json $json)
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardTargetRequest -Request $decoded } | Should -Be 'invalid-request' -Because $json
        }
    }
}

Describe 'ConvertFrom-SpawnGuardTargetRequest: the PID-reuse guard is not optional' {
    It 'refuses a target that carries only a PID (no imagePath), whatever else the request holds' {
        foreach ($json in @('{"targets":[{"pid":42}]}', '{"targets":[{"pid":42,"startTime":"2024-05-01T10:00:00Z","name":"evil.exe"}]}', '{"targets":[{"pid":43,"imagePath":"C:\\x.exe"},{"pid":42}]}', '{"targets":[{"pid":42,"imagePath":""}]}')) {
            $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-RawRequest -Json $json)
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardTargetRequest -Request $decoded } | Should -Be 'invalid-request' -Because $json
        }
    }

    It 'reads startedBefore (a parent started before its child) as text' {
        $decoded = ConvertFrom-SpawnGuardRequest -Request (ConvertTo-TestRequest -Body @{ targets = @(@{ pid = 42; imagePath = 'C:\x.exe'; startedBefore = '2024-05-01T10:00:00Z' }) })
        $targets = ConvertFrom-SpawnGuardTargetRequest -Request $decoded
        $targets[0].startedBefore | Should -BeOfType [string]
        $targets[0].startedBefore | Should -Be '2024-05-01T10:00:00Z'
        $targets[0].startTime | Should -BeNullOrEmpty
    }
}

Describe 'Split-SpawnGuardUserName' {
    It 'splits DOMAIN\name, name@domain and a bare name' {
        $downLevel = Split-SpawnGuardUserName -UserName ' CONTOSO\bob '
        $downLevel.name | Should -Be 'bob'
        $downLevel.domain | Should -Be 'CONTOSO'
        $upn = Split-SpawnGuardUserName -UserName 'bob.smith@contoso.com'
        $upn.name | Should -Be 'bob.smith'
        $upn.domain | Should -Be 'contoso.com'
        $bare = Split-SpawnGuardUserName -UserName 'alice'
        $bare.name | Should -Be 'alice'
        $bare.domain | Should -BeNullOrEmpty
    }

    It 'trims both parts and takes an empty domain as no domain (null), never as every domain' {
        foreach ($text in @('\bob', 'bob@', ' \ bob ')) {
            $split = Split-SpawnGuardUserName -UserName $text
            $split.name | Should -Be 'bob' -Because $text
            ($null -eq $split.domain) | Should -BeTrue -Because $text
        }
        $spaced = Split-SpawnGuardUserName -UserName ' CONTOSO \ bob '
        $spaced.domain | Should -Be 'CONTOSO'
        $spaced.name | Should -Be 'bob'
    }
}

Describe 'Dates' {
    It 'writes a date as round-trip ISO-8601 UTC text and reads it back to the same instant' {
        $instant = New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 10, 0, 0, 123, ([System.DateTimeKind]::Utc)
        $text = ConvertTo-SpawnGuardIsoDate -Date $instant
        $text | Should -Be '2024-05-01T10:00:00.1230000Z'
        $back = ConvertFrom-SpawnGuardIsoDate -Text $text
        $back.Kind | Should -Be ([System.DateTimeKind]::Utc)
        $back | Should -Be $instant
    }

    It 'reads an ISO time with an offset as UTC, and one without an offset as UTC' {
        (ConvertFrom-SpawnGuardIsoDate -Text '2024-05-01T12:00:00+02:00') | Should -Be (New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 10, 0, 0, ([System.DateTimeKind]::Utc))
        (ConvertFrom-SpawnGuardIsoDate -Text '2024-05-01T10:00:00') | Should -Be (New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 10, 0, 0, ([System.DateTimeKind]::Utc))
    }

    It 'refuses a text that is not a time as an invalid request' {
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardIsoDate -Text 'yesterday-ish' } | Should -Be 'invalid-request'
    }

    It 'returns $null for no date and for an empty string' {
        ConvertTo-SpawnGuardIsoDate -Date $null | Should -BeNullOrEmpty
        ConvertTo-SpawnGuardIsoDate -Date '' | Should -BeNullOrEmpty
    }

    It 'converts a WMI DMTF date with a positive offset (+060, one hour east of UTC)' {
        $parsed = ConvertFrom-SpawnGuardDmtfDate -Text '20240501120000.500000+060'
        $parsed.Kind | Should -Be ([System.DateTimeKind]::Utc)
        $parsed | Should -Be ((New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 11, 0, 0, 500, ([System.DateTimeKind]::Utc)))
    }

    It 'converts a WMI DMTF date with a negative offset (-300, five hours west of UTC)' {
        ConvertFrom-SpawnGuardDmtfDate -Text '20240501120000.000000-300' | Should -Be (New-Object -TypeName System.DateTime -ArgumentList 2024, 5, 1, 17, 0, 0, ([System.DateTimeKind]::Utc))
    }

    It 'writes a DMTF date string as ISO text' {
        ConvertTo-SpawnGuardIsoDate -Date '20240501120000.000000+000' | Should -Be '2024-05-01T12:00:00.0000000Z'
    }

    It 'refuses text that is not a DMTF date with the invalid-date code' {
        foreach ($text in @('2024-05-01T12:00:00Z', '20240501120000.000000', '20240501120000.000000+60', '')) {
            Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardDmtfDate -Text $text } | Should -Not -BeNullOrEmpty -Because $text
        }
        Get-ThrownCode -ScriptBlock { ConvertFrom-SpawnGuardDmtfDate -Text '20240501120000.000000' } | Should -Be 'invalid-date'
    }
}
