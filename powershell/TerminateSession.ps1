<#
.SYNOPSIS
    Logs users off (or lists their sessions) through the WTS API, never a service account.

.DESCRIPTION
    Enumerates sessions with WTSEnumerateSessions / WTSQuerySessionInformation (not quser, whose
    output is localized), picks those of the given users, and logs each one off with
    WTSLogoffSession by its numeric session id. Nothing is ever logged off without a validated
    numeric session id: the id comes from the enumeration and is checked again, with its user,
    right before the logoff (session ids are reused).

    The request is refused as a whole (exit code 3, nothing done) when it names a service account
    (SYSTEM, LOCAL SERVICE, NETWORK SERVICE, NT AUTHORITY\*, NT SERVICE\*, Window Manager\*,
    Font Driver Host\*, machine accounts) or when a matching session is the one this script runs
    in (the host worker's). -ListOnly only lists (validation after a logoff).

    The client address of an RDP session is reported by the RDP client itself and can be spoofed
    (or be a NAT or VPN address): it is reported, marked client-reported, never trusted.

    Windows PowerShell 3.0 and later; Windows Server 2008 and later.

.PARAMETER UserNames
    User names, comma-separated: "alice,CONTOSO\bob,carol@contoso.com".

.PARAMETER RdpOnly
    Leave console sessions alone: act on remote (RDP) and other non-console sessions only.

.PARAMETER RemoteIp
    Act only on sessions whose client-reported address is this IP address.

.PARAMETER ListOnly
    List the matching sessions; log nothing off.

.PARAMETER IncidentId
    The incident this action belongs to (for the audit trail).

.PARAMETER Request
    The host worker's request: base64 of UTF-8 JSON matching TerminateSessionRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\TerminateSession.ps1 -UserNames "CONTOSO\bob" -RdpOnly

.EXAMPLE
    .\TerminateSession.ps1 -UserNames "alice" -ListOnly

.OUTPUTS
    System.String. One JSON document (TerminateSessionResultSchema): one result per matching
    session (id, type, state, client-reported address, status). No matching session: no results.

.NOTES
    Exit codes: 0 ran to completion, 1 failure worth retrying, 2 invalid request, 3 protected
    account or session refused, 4 access denied.
#>
[CmdletBinding()]
param(
    [Parameter()][string[]]$UserNames,
    [Parameter()][switch]$RdpOnly,
    [Parameter()][string]$RemoteIp,
    [Parameter()][switch]$ListOnly,
    [Parameter()][string]$IncidentId,
    [Parameter()][string]$Request
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# Warnings reach stdout under powershell.exe -File and would break the one JSON document.
$WarningPreference = 'SilentlyContinue'
Set-StrictMode -Version 2.0
# Not -Force: each run is a fresh process, and an already loaded copy (Pester's, with its mocks) must be kept.
Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'SpawnGuard.Safety')

# Win32 errors WTSLogoffSession returns for a session that no longer exists.
$script:SessionGoneErrors = @(7022, 7007)

function Get-TerminateSessionRequest {
    <#
    .SYNOPSIS
        The validated request, from -Request or from the analyst parameters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound)
    $hasSimple = $false
    foreach ($name in @('UserNames', 'RdpOnly', 'RemoteIp', 'ListOnly', 'IncidentId')) {
        if ($Bound.ContainsKey($name)) { $hasSimple = $true }
    }
    $users = New-Object -TypeName System.Collections.ArrayList
    if ($Bound.ContainsKey('Request')) {
        if ($hasSimple) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -Request or -UserNames, not both.')
        }
        $decoded = ConvertFrom-SpawnGuardRequest -Request $Bound['Request']
        foreach ($item in (Get-SpawnGuardRequestValue -Request $decoded -Name 'users' -Type 'array' -Required -MaxCount 16)) {
            if ($null -eq $item -or $item -is [string] -or $item -is [System.ValueType] -or $item -is [System.Array]) {
                throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Each user must be an object.')
            }
            [void]$users.Add([pscustomobject]@{
                    name   = Get-SpawnGuardRequestValue -Request $item -Name 'name' -Required -MaxLength 256
                    domain = Get-SpawnGuardRequestValue -Request $item -Name 'domain' -MaxLength 256
                })
        }
        $parsed = [pscustomobject]@{
            IncidentId = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            Users      = $users.ToArray()
            RdpOnly    = Get-SpawnGuardRequestValue -Request $decoded -Name 'rdpOnly' -Type 'bool' -Default $false
            RemoteIp   = Get-SpawnGuardRequestValue -Request $decoded -Name 'remoteIp' -MaxLength 64
            ListOnly   = Get-SpawnGuardRequestValue -Request $decoded -Name 'listOnly' -Type 'bool' -Default $false
        }
    } else {
        if (-not $Bound.ContainsKey('UserNames')) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give -UserNames (or -Request).')
        }
        foreach ($chunk in [string[]]$Bound['UserNames']) {
            foreach ($piece in ($chunk -split ',')) {
                if ($piece.Trim().Length -gt 0) { [void]$users.Add((Split-SpawnGuardUserName -UserName $piece)) }
            }
        }
        $address = $null
        if (-not [string]::IsNullOrEmpty([string]$Bound['RemoteIp'])) { $address = [string]$Bound['RemoteIp'] }
        $parsed = [pscustomobject]@{
            IncidentId = [string]$Bound['IncidentId']
            Users      = $users.ToArray()
            RdpOnly    = ($Bound.ContainsKey('RdpOnly') -and [bool]$Bound['RdpOnly'])
            RemoteIp   = $address
            ListOnly   = ($Bound.ContainsKey('ListOnly') -and [bool]$Bound['ListOnly'])
        }
    }
    if ($parsed.Users.Length -lt 1 -or $parsed.Users.Length -gt 16) {
        throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Give between 1 and 16 users.')
    }
    foreach ($user in $parsed.Users) {
        if ([string]::IsNullOrEmpty($user.name) -or $user.name -match '[\\/@,"]') {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a user name: ' + $user.name))
        }
    }
    if ($null -ne $parsed.RemoteIp) {
        $ip = $null
        if (-not [System.Net.IPAddress]::TryParse($parsed.RemoteIp, [ref]$ip)) {
            throw (New-SpawnGuardException -Code 'invalid-request' -Message ('remoteIp is not an IP address: ' + $parsed.RemoteIp))
        }
    }
    return $parsed
}

function Test-DomainMatch {
    <#
    .SYNOPSIS
        True when a session's domain is the requested one: no domain requested, the same name, or
        the NetBIOS name matching the first label of a DNS name (CONTOSO vs contoso.local); "."
        is this machine.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Wanted, [AllowNull()][AllowEmptyString()][string]$Actual)
    if ([string]::IsNullOrEmpty($Wanted)) { return $true }
    # ".\user" is the local account of this machine (WTS reports its domain as the computer
    # name), not any account of that name: it must not log off CONTOSO\user too.
    if ($Wanted.Trim() -eq '.') { $Wanted = [System.Environment]::MachineName }
    if ([string]::IsNullOrEmpty($Actual)) { return $false }
    $wantedLower = $Wanted.Trim().ToLowerInvariant()
    $actualLower = $Actual.Trim().ToLowerInvariant()
    if ($wantedLower -eq $actualLower) { return $true }
    return ($wantedLower.Split('.')[0] -eq $actualLower.Split('.')[0])
}

function Test-AddressMatch {
    <#
    .SYNOPSIS
        True when no address filter is given, or the session's client-reported address equals it.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowNull()][AllowEmptyString()][string]$Wanted, [AllowNull()][AllowEmptyString()][string]$Actual)
    if ([string]::IsNullOrEmpty($Wanted)) { return $true }
    if ([string]::IsNullOrEmpty($Actual)) { return $false }
    $wantedAddress = $null
    $actualAddress = $null
    if (-not [System.Net.IPAddress]::TryParse($Wanted, [ref]$wantedAddress)) { return $false }
    if (-not [System.Net.IPAddress]::TryParse($Actual, [ref]$actualAddress)) { return $false }
    return $wantedAddress.Equals($actualAddress)
}

function Find-MatchingSession {
    <#
    .SYNOPSIS
        The sessions of the requested users that pass the RDP-only and address filters.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Sessions)
    $found = New-Object -TypeName System.Collections.ArrayList
    foreach ($session in $Sessions) {
        if ([string]::IsNullOrEmpty($session.UserName)) { continue }
        $wanted = $false
        foreach ($user in $Parsed.Users) {
            if ($user.name.Trim().ToLowerInvariant() -eq $session.UserName.Trim().ToLowerInvariant() -and
                (Test-DomainMatch -Wanted $user.domain -Actual $session.DomainName)) {
                $wanted = $true
            }
        }
        if (-not $wanted) { continue }
        if ($Parsed.RdpOnly -and $session.SessionType -eq 'console') { continue }
        if (-not (Test-AddressMatch -Wanted $Parsed.RemoteIp -Actual $session.ClientAddress)) { continue }
        [void]$found.Add($session)
    }
    return , $found.ToArray()
}

function New-SessionItem {
    <#
    .SYNOPSIS
        One SessionActionResult (common/host-contract.ts) as an ordered dictionary.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory = $true)][string]$User,
        [AllowNull()][psobject]$Session,
        [Parameter(Mandatory = $true)][ValidateSet('done', 'already-done', 'skipped', 'failed')][string]$Status,
        [AllowNull()][AllowEmptyString()][string]$Reason,
        [AllowNull()][AllowEmptyString()][string]$Message
    )
    $sessionId = $null
    $sessionType = $null
    $state = $null
    $address = $null
    if ($null -ne $Session) {
        $sessionId = [int]$Session.SessionId
        $sessionType = [string]$Session.SessionType
        $state = [string]$Session.State
        if (-not [string]::IsNullOrEmpty($Session.ClientAddress)) { $address = [string]$Session.ClientAddress }
    }
    $reasonValue = $null
    if (-not [string]::IsNullOrEmpty($Reason)) { $reasonValue = $Reason }
    $messageValue = $null
    if (-not [string]::IsNullOrEmpty($Message)) { $messageValue = $Message }
    return [ordered]@{
        user                          = $User
        sessionId                     = $sessionId
        sessionType                   = $sessionType
        state                         = $state
        clientAddress                 = $address
        clientAddressIsClientReported = $true
        status                        = $Status
        reason                        = $reasonValue
        message                       = $messageValue
    }
}

function Get-SessionUser {
    <#
    .SYNOPSIS
        DOMAIN\name of a session.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$Session)
    if ([string]::IsNullOrEmpty($Session.DomainName)) { return [string]$Session.UserName }
    return ([string]$Session.DomainName + '\' + [string]$Session.UserName)
}

function Get-UserLabel {
    <#
    .SYNOPSIS
        DOMAIN\name of a requested user.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][psobject]$User)
    if ([string]::IsNullOrEmpty($User.domain)) { return [string]$User.name }
    return ([string]$User.domain + '\' + [string]$User.name)
}

function Invoke-SessionLogoff {
    <#
    .SYNOPSIS
        Logs one session off after checking that its numeric id still belongs to the same user.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory = $true)][psobject]$Session)
    $user = Get-SessionUser -Session $Session
    $sessionId = [int]$Session.SessionId
    $current = $null
    foreach ($candidate in (Get-SpawnGuardSession)) {
        if ([int]$candidate.SessionId -eq $sessionId) { $current = $candidate }
    }
    if ($null -eq $current -or (Get-SessionUser -Session $current) -ne $user) {
        return (New-SessionItem -User $user -Session $Session -Status 'already-done' -Reason 'session-gone' -Message 'The session ended before the logoff.')
    }
    $errorCode = Stop-SpawnGuardSession -SessionId $sessionId
    if ($errorCode -eq 0) {
        return (New-SessionItem -User $user -Session $Session -Status 'done' -Message ('Session ' + $sessionId + ' logged off.'))
    }
    if ($script:SessionGoneErrors -contains $errorCode) {
        return (New-SessionItem -User $user -Session $Session -Status 'already-done' -Reason 'session-gone' -Message 'The session ended before the logoff.')
    }
    $text = (New-Object -TypeName System.ComponentModel.Win32Exception -ArgumentList $errorCode).Message
    $reason = 'logoff-failed'
    if ($errorCode -eq 5) { $reason = 'access-denied' }
    return (New-SessionItem -User $user -Session $Session -Status 'failed' -Reason $reason -Message ('WTSLogoffSession failed: ' + $text + ' (' + $errorCode + ')'))
}

function Invoke-TerminateSession {
    <#
    .SYNOPSIS
        Runs the whole request and fills the result document (errors included): the script's main part.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable]$Bound, [Parameter(Mandatory = $true)][psobject]$Result)
    try {
        $parsed = Get-TerminateSessionRequest -Bound $Bound
        $refused = $false
        if (-not $parsed.ListOnly) {
            foreach ($user in $parsed.Users) {
                if (Test-SpawnGuardServiceAccount -Name $user.name -Domain $user.domain) {
                    Add-SpawnGuardResultItem -Result $Result -Item (New-SessionItem -User (Get-UserLabel -User $user) -Session $null -Status 'skipped' -Reason 'service-account' -Message 'Service accounts are never logged off.')
                    Add-SpawnGuardError -Result $Result -Code 'service-account' -Message ((Get-UserLabel -User $user) + ': service accounts are never logged off.')
                    $refused = $true
                }
            }
        }
        if (-not $refused) {
            $matched = Find-MatchingSession -Parsed $parsed -Sessions (Get-SpawnGuardSession)
            $ownSessionId = Get-SpawnGuardCurrentSessionId
            if (-not $parsed.ListOnly) {
                $verdicts = New-Object -TypeName System.Collections.ArrayList
                foreach ($session in $matched) {
                    $user = Get-SessionUser -Session $session
                    if (Test-SpawnGuardServiceAccount -Name $session.UserName -Domain $session.DomainName) {
                        [void]$verdicts.Add((New-SessionItem -User $user -Session $session -Status 'skipped' -Reason 'service-account' -Message 'Service accounts are never logged off.'))
                        $refused = $true
                    } elseif ([int]$session.SessionId -eq 0 -or [int]$session.SessionId -eq $ownSessionId) {
                        [void]$verdicts.Add((New-SessionItem -User $user -Session $session -Status 'skipped' -Reason 'worker-session' -Message 'The host worker runs in this session (or it is the services session): never logged off.'))
                        $refused = $true
                    } else {
                        [void]$verdicts.Add((New-SessionItem -User $user -Session $session -Status 'skipped' -Reason 'request-refused' -Message 'Not attempted: another session in this request is protected, so the whole request was refused.'))
                    }
                }
                if ($refused) {
                    foreach ($verdict in $verdicts) {
                        Add-SpawnGuardResultItem -Result $Result -Item $verdict
                        if ($verdict.reason -ne 'request-refused') {
                            Add-SpawnGuardError -Result $Result -Code $verdict.reason -Message ($verdict.user + ' (session ' + $verdict.sessionId + '): ' + $verdict.message)
                        }
                    }
                }
            }
            if (-not $refused) {
                foreach ($session in $matched) {
                    if ($parsed.ListOnly) {
                        $item = New-SessionItem -User (Get-SessionUser -Session $session) -Session $session -Status 'skipped' -Reason 'list-only' -Message 'Listed only.'
                    } else {
                        try {
                            $item = Invoke-SessionLogoff -Session $session
                        } catch {
                            $item = New-SessionItem -User (Get-SessionUser -Session $session) -Session $session -Status 'failed' -Reason (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
                        }
                    }
                    Add-SpawnGuardResultItem -Result $Result -Item $item
                }
            }
        }
    } catch {
        Add-SpawnGuardError -Result $Result -Code (Get-SpawnGuardErrorCode -ErrorRecord $_) -Message $_.Exception.Message
    }
}

# Main guard: dot-sourcing the script (as the Pester tests do) loads its functions and runs nothing.
if ($MyInvocation.InvocationName -ne '.') {
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-TerminateSession -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
