<#
.SYNOPSIS
    Dates as ISO-8601 text, and WMI's DMTF date strings.

.DESCRIPTION
    Pure conversions.
#>

function ConvertTo-SpawnGuardIsoDate {
    <#
    .SYNOPSIS
        ISO-8601 (round-trip, UTC) text of a date or a WMI DMTF date string, or $null.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][object]$Date)
    if ($null -eq $Date) { return $null }
    if ($Date -is [string]) {
        if ($Date.Length -eq 0) { return $null }
        $Date = ConvertFrom-SpawnGuardDmtfDate -Text $Date
    }
    return ([datetime]$Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertFrom-SpawnGuardIsoDate {
    <#
    .SYNOPSIS
        Parses an ISO-8601 time (UTC when it has no offset); throws 'invalid-request'.
    #>
    [CmdletBinding()]
    [OutputType([datetime])]
    param([Parameter(Mandatory = $true)][string]$Text)
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $parsed = [datetime]::MinValue
    if (-not [datetime]::TryParse($Text, [System.Globalization.CultureInfo]::InvariantCulture, $styles, [ref]$parsed)) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not an ISO-8601 time: ' + $Text))
    }
    return $parsed
}

function ConvertFrom-SpawnGuardDmtfDate {
    <#
    .SYNOPSIS
        Parses a WMI DMTF date ("yyyyMMddHHmmss.ffffff+UUU", UUU = minutes east of UTC) into a UTC DateTime.
    .DESCRIPTION
        Get-WmiObject (where CIM is missing) returns dates in this form. Parsed here rather than
        with System.Management's converter, which not every PowerShell edition loads.
    #>
    [CmdletBinding()]
    [OutputType([datetime])]
    param([Parameter(Mandatory = $true)][string]$Text)
    if ($Text -notmatch '^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$') {
        throw (New-SpawnGuardException -Code 'invalid-date' -Message ('Not a DMTF date: ' + $Text))
    }
    $culture = [System.Globalization.CultureInfo]::InvariantCulture
    $local = New-Object -TypeName System.DateTime -ArgumentList ([int]$Matches[1]), ([int]$Matches[2]), ([int]$Matches[3]), ([int]$Matches[4]), ([int]$Matches[5]), ([int]$Matches[6]), ([System.DateTimeKind]::Utc)
    $local = $local.AddTicks([int64]::Parse($Matches[7], $culture) * 10)
    $offsetMinutes = [int]::Parse($Matches[9], $culture)
    if ($Matches[8] -eq '-') { $offsetMinutes = -$offsetMinutes }
    return $local.AddMinutes(-$offsetMinutes)
}
