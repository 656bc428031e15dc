<#
.SYNOPSIS
    Reading a request: the host worker's JSON, or the parameters an analyst types.

.DESCRIPTION
    Everything a request holds is data: validated by type and length here, never executed.
#>

# Whether ConvertFrom-Json has -DateKind (looked up once).
$script:JsonDateKindSupported = $null

function ConvertFrom-SpawnGuardJson {
    <#
    .SYNOPSIS
        ConvertFrom-Json that leaves date-like strings as strings on every PowerShell version.
    .DESCRIPTION
        PowerShell 7 turns ISO-8601 strings into DateTime (and a request's startTime would then
        fail its string check); Windows PowerShell 5.1 keeps them as text. Where the cmdlet has
        -DateKind (7.5 and later) it is asked for strings, so both read the same document alike.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Text)
    if ($null -eq $script:JsonDateKindSupported) {
        $script:JsonDateKindSupported = (Get-Command -Name 'ConvertFrom-Json').Parameters.ContainsKey('DateKind')
    }
    if ($script:JsonDateKindSupported) {
        # Splatted: -DateKind exists only where the check above found it (it is newer than 3.0).
        $arguments = @{ InputObject = $Text; DateKind = 'String' }
        return (ConvertFrom-Json @arguments)
    }
    return (ConvertFrom-Json -InputObject $Text)
}

function ConvertFrom-SpawnGuardRequest {
    <#
    .SYNOPSIS
        Decodes a -Request argument into an object: '-' reads the UTF-8 JSON from standard input
        (how the host worker sends it), anything else is base64 of UTF-8 JSON (an analyst by hand).
        Throws 'invalid-request'.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$Request)
    $fromStdin = ($Request -eq '-')
    if (-not $fromStdin -and $Request -notmatch $script:RequestPattern) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message "Request must be '-' (JSON on standard input) or base64 ([A-Za-z0-9+/=]).")
    }
    if ($fromStdin) {
        # Outside the try below: an oversized request keeps its own message.
        $bytes = Read-SpawnGuardStandardInput -MaxBytes $script:MaxRequestBytes
    }
    try {
        if (-not $fromStdin) { $bytes = [System.Convert]::FromBase64String($Request) }
        # Strict UTF-8: invalid bytes throw instead of becoming U+FFFD.
        $text = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true).GetString($bytes)
        $decoded = ConvertFrom-SpawnGuardJson -Text $text
    } catch {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Request is not UTF-8 JSON (or base64 of it): ' + $_.Exception.Message))
    }
    # A JSON array of one object reaches this point unwrapped into that object (ConvertFrom-Json and
    # 'return' both enumerate arrays), so the text itself must be an object: '[{...}]' is refused.
    if ($text -notmatch '^\s*\{' -or $null -eq $decoded -or $decoded -is [System.Array] -or $decoded -is [string] -or $decoded -is [System.ValueType]) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request JSON must be an object.')
    }
    return $decoded
}

function Get-SpawnGuardRequestValue {
    <#
    .SYNOPSIS
        Reads one property of a decoded request, with a default when absent and a type check.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)][psobject]$Request,
        [Parameter(Mandatory = $true)][string]$Name,
        [ValidateSet('string', 'bool', 'int', 'array', 'stringArray')][string]$Type = 'string',
        [object]$Default = $null,
        [switch]$Required,
        [int]$MaxLength = 32767,
        [int]$MaxCount = 64
    )
    $property = $Request.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) {
        if ($Required) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ("Request is missing '" + $Name + "'."))
        }
        if ($null -ne $Default -and ($Type -eq 'array' -or $Type -eq 'stringArray')) { return , [object[]]$Default }
        return $Default
    }
    $value = $property.Value
    $valid = $true
    switch ($Type) {
        'string' { $valid = ($value -is [string]) -and $value.Length -ge 1 -and $value.Length -le $MaxLength }
        'bool' { $valid = ($value -is [bool]) }
        'int' { $valid = ($value -is [int] -or $value -is [long]) -and $value -ge 0 -and $value -le 4294967295 }
        'array' { $valid = ($value -is [System.Array]) -and $value.Length -le $MaxCount }
        'stringArray' {
            $valid = ($value -is [System.Array]) -and $value.Length -le $MaxCount
            if ($valid) {
                foreach ($element in $value) {
                    if (-not ($element -is [string]) -or $element.Length -lt 1 -or $element.Length -gt $MaxLength) { $valid = $false }
                }
            }
        }
    }
    if (-not $valid) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ("Request field '" + $Name + "' is not a valid " + $Type + '.'))
    }
    if ($Type -eq 'array' -or $Type -eq 'stringArray') {
        # A JSON array of one element is still an array: the comma stops PowerShell unrolling it.
        return , $value
    }
    return $value
}

function ConvertTo-SpawnGuardHashtable {
    <#
    .SYNOPSIS
        A plain hashtable copy of $PSBoundParameters (a generic dictionary), for request helpers.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][System.Collections.IDictionary]$Dictionary)
    $copy = @{}
    foreach ($key in $Dictionary.Keys) { $copy[[string]$key] = $Dictionary[$key] }
    return $copy
}

function Split-SpawnGuardPathList {
    <#
    .SYNOPSIS
        Splits analyst input such as "C:\a\x.exe,D:\b,c\y.dll" into paths. A comma only separates
        two paths when a drive letter or a UNC prefix follows it (commas are legal in file names).
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([AllowEmptyCollection()][string[]]$Text = @())
    $items = New-Object -TypeName System.Collections.ArrayList
    foreach ($chunk in $Text) {
        if ($null -eq $chunk) { continue }
        foreach ($piece in ($chunk -split ',(?=\s*"?(?:[A-Za-z]:\\|\\\\))')) {
            $item = $piece.Trim().Trim('"').Trim()
            if ($item.Length -gt 0) { [void]$items.Add($item) }
        }
    }
    return , [string[]]$items.ToArray()
}

function ConvertTo-SpawnGuardProcessTarget {
    <#
    .SYNOPSIS
        Parses analyst identifiers ("1234=C:\x\evil.exe,0x4D2=C:\y\a.exe,C:\x\evil.exe") into
        process targets.
    .DESCRIPTION
        A PID alone is refused: it may have been reused by an unrelated process since the alert,
        so a PID comes with the image path it is expected to run, as PID=path, or as one PID
        with -ImagePath. A path alone stops every process running that image.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$ProcessIdentifiers,
        [AllowNull()][AllowEmptyString()][string]$ImagePath,
        # Only for reading (GetProcessTree): a bare PID is then accepted, as nothing is done to it.
        [switch]$AllowBarePid
    )
    $targets = New-Object -TypeName System.Collections.ArrayList
    # A comma separates items when a PID (alone or as PID=path), a hex PID or a path follows it;
    # "C:\a,1\x.exe" stays one path.
    $separator = ',(?=\s*"?(?:(?:0[xX][0-9A-Fa-f]+|[0-9]+)\s*(?:=|"?\s*(?:,|$))|[A-Za-z]:\\|\\\\))'
    foreach ($chunk in $ProcessIdentifiers) {
        if ($null -eq $chunk) { continue }
        foreach ($raw in ($chunk -split $separator)) {
            $item = $raw.Trim().Trim('"').Trim()
            if ($item.Length -eq 0) { continue }
            $target = [pscustomobject]@{ target = $item; pid = $null; imagePath = $null; startTime = $null; startedBefore = $null; name = $null; sha256 = $null; byPath = $false }
            $idText = $item
            $pathText = $null
            if ($item -match '^(0[xX][0-9A-Fa-f]+|[0-9]+)\s*"?\s*=\s*(.*)$') {
                $idText = $Matches[1]
                $pathText = $Matches[2].Trim().Trim('"').Trim()
                if (-not (Test-SpawnGuardAbsolutePath -Path $pathText)) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a full image path after the PID: ' + $item))
                }
            }
            if ($idText -match '^0[xX][0-9A-Fa-f]{1,8}$') {
                $target.pid = [int64][System.Convert]::ToUInt32($idText.Substring(2), 16)
            } elseif ($idText -match '^[0-9]{1,10}$') {
                $target.pid = [int64]$idText
                if ($target.pid -gt 4294967295) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a process id: ' + $item))
                }
            } elseif ($null -eq $pathText -and (Test-SpawnGuardAbsolutePath -Path $item)) {
                $target.imagePath = $item
                $target.byPath = $true
            } else {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a PID=path, hex PID=path or full path: ' + $item))
            }
            if (-not $target.byPath) { $target.imagePath = $pathText }
            [void]$targets.Add($target)
        }
    }
    if ($targets.Count -eq 0 -or $targets.Count -gt 64) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 64 process identifiers.')
    }
    if (-not [string]::IsNullOrEmpty($ImagePath)) {
        if ($targets.Count -ne 1 -or $targets[0].byPath -or -not [string]::IsNullOrEmpty($targets[0].imagePath)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message '-ImagePath goes with exactly one bare PID; give several as PID=path.')
        }
        if (-not (Test-SpawnGuardAbsolutePath -Path $ImagePath)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('-ImagePath is not a full path: ' + $ImagePath))
        }
        $targets[0].imagePath = $ImagePath
    }
    foreach ($target in $targets) {
        if (-not $AllowBarePid -and -not $target.byPath -and [string]::IsNullOrEmpty($target.imagePath)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('PID ' + $target.target + ' needs the image path it runs (PID=path, or -ImagePath): a PID alone may have been reused by another process.'))
        }
    }
    return , $targets.ToArray()
}

function ConvertFrom-SpawnGuardTargetRequest {
    <#
    .SYNOPSIS
        Validates the 'targets' array of a StopProcess / StopAndQuarantineProcess request.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Request)
    $items = Get-SpawnGuardRequestValue -Request $Request -Name 'targets' -Type 'array' -Required
    if ($items.Length -lt 1) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Request needs at least one target.')
    }
    $targets = New-Object -TypeName System.Collections.ArrayList
    foreach ($item in $items) {
        if ($null -eq $item -or $item -is [string] -or $item -is [System.ValueType] -or $item -is [System.Array]) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Each target must be an object.')
        }
        $processId = Get-SpawnGuardRequestValue -Request $item -Name 'pid' -Type 'int' -Required
        # Required: a PID alone may have been reused by another process since the alert.
        $imagePath = Get-SpawnGuardRequestValue -Request $item -Name 'imagePath' -Required
        if (-not (Test-SpawnGuardAbsolutePath -Path $imagePath)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Target imagePath is not a full path: ' + $imagePath))
        }
        $startTime = Get-SpawnGuardRequestValue -Request $item -Name 'startTime' -MaxLength 64
        if ($null -ne $startTime) {
            # Parsed now so a bad time is an invalid request, not a failure halfway through.
            $null = ConvertFrom-SpawnGuardIsoDate -Text $startTime
        }
        # A parent target: the process must have started before its child (this time).
        $startedBefore = Get-SpawnGuardRequestValue -Request $item -Name 'startedBefore' -MaxLength 64
        if ($null -ne $startedBefore) { $null = ConvertFrom-SpawnGuardIsoDate -Text $startedBefore }
        # The image's SHA-256 from the alert or enrichment: a file quarantined must still have it.
        $sha256 = Get-SpawnGuardRequestValue -Request $item -Name 'sha256' -MaxLength 64
        if ($null -ne $sha256) {
            if ($sha256 -notmatch '^[0-9a-fA-F]{64}$') {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Target sha256 must be 64 hex digits.')
            }
            $sha256 = $sha256.ToLowerInvariant()
        }
        [void]$targets.Add([pscustomobject]@{
                target        = [string]$processId
                pid           = [int64]$processId
                imagePath     = $imagePath
                startTime     = $startTime
                startedBefore = $startedBefore
                name          = Get-SpawnGuardRequestValue -Request $item -Name 'name' -MaxLength 260
                sha256        = $sha256
                byPath        = $false
            })
    }
    return , $targets.ToArray()
}

function Split-SpawnGuardUserName {
    <#
    .SYNOPSIS
        Splits "CONTOSO\bob", "bob@contoso.com" or "alice" into name and domain.

    .DESCRIPTION
        The same rules as splitUserName in common/user-name.ts (a jest test runs both over one table):
        both parts are trimmed; a backslash splits at the first one (DOMAIN\name), otherwise an @
        splits at the last one (name@upn.suffix); an empty domain ("\bob", "bob@") is no domain
        ($null), never "every domain". What is left (a second backslash, an @ in the name) is for
        the caller to refuse.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyString()][string]$UserName)
    $text = $UserName.Trim()
    $name = $text
    $domain = $null
    if ($text.Contains('\')) {
        $index = $text.IndexOf('\')
        $name = $text.Substring($index + 1)
        $domain = $text.Substring(0, $index)
    } elseif ($text.Contains('@')) {
        $index = $text.LastIndexOf('@')
        $name = $text.Substring(0, $index)
        $domain = $text.Substring($index + 1)
    }
    $name = $name.Trim()
    if ($null -ne $domain) {
        $domain = $domain.Trim()
        if ($domain.Length -eq 0) { $domain = $null }
    }
    return [pscustomobject]@{ name = $name; domain = $domain }
}
