<#
.SYNOPSIS
    Logs off the session that hosts the offending process (or lists sessions) through the WTS API,
    never a service account.

.DESCRIPTION
    Enumerates sessions with WTSEnumerateSessions / WTSQuerySessionInformation (not quser, whose
    output is localized), picks the targeted sessions, and logs each one off with
    WTSLogoffSession by its numeric session id. Nothing is ever logged off without a validated
    numeric session id: the id comes from the enumeration and is checked again, with its user,
    right before the logoff (session ids are reused).

    The request is refused as a whole (exit code 3, nothing done) when it names a service account
    (SYSTEM, LOCAL SERVICE, NETWORK SERVICE, NT AUTHORITY\*, NT SERVICE\*, Window Manager\*,
    Font Driver Host\*, machine accounts) or when a matching session is the one this script runs
    in (the host worker's). -ListOnly only lists (validation after a logoff).

    Which sessions are targeted:
    - With processes ("processes" in the request: pid and imagePath, startTime when known) or
      session ids (-SessionIds, "sessionIds"): only the sessions hosting those processes
      (Win32_Process SessionId, read now; a process whose image or start time differs from the
      request is a reused PID and names no session) and the sessions named. Each one is logged off only if its user is one of the
      requested users; a session of anybody else is skipped with reason 'user-mismatch' and never
      logged off. A requested user without a domain matches the user of such a session in any
      domain: the session, not the name, is what identifies the attacker. When no session can be
      resolved (the processes are gone and no session id is given), nothing is logged off: one
      result, skipped with reason 'no-target-session'.
    - Without them (an analyst by hand): every session of the requested users. A user named without
      a domain ("bob") never stands for every domain: when sessions of that name exist in more than
      one domain (CONTOSO\bob and FABRIKAM\bob), the request is refused ('ambiguous-user', exit
      code 2) and nothing is logged off; name the domain or the session.
    -RdpOnly and -RemoteIp only narrow either selection further.

    The client address of an RDP session is reported by the RDP client itself and can be spoofed
    (or be a NAT or VPN address): it is reported, marked client-reported, never trusted.

    Windows PowerShell 3.0 and later; Windows Server 2008 and later.

.PARAMETER UserNames
    User names, comma-separated: "alice,CONTOSO\bob,carol@contoso.com".

.PARAMETER SessionIds
    Numeric session ids of the attacker's sessions: only those are logged off.

.PARAMETER ProcessIdentifiers
    The offending processes as PID=path pairs ("4321=C:\Users\Public\evil.exe,0x10E1=C:\x\y.exe"):
    only the sessions hosting them (after the identity check) are logged off.

.PARAMETER RdpOnly
    Leave console sessions alone: act on remote (RDP) and other non-console sessions only.

.PARAMETER RemoteIp
    Act only on sessions whose client-reported address is this IP address. The address is reported
    by the RDP client and can be spoofed: it narrows the selection, it never identifies a session.

.PARAMETER ListOnly
    List the matching sessions; log nothing off.

.PARAMETER IncidentId
    The incident this action belongs to (for the audit trail).

.PARAMETER Request
    The host worker's request: '-' to read it from standard input as UTF-8 JSON (how the worker
    sends it), or base64 of that JSON (by hand), matching TerminateSessionRequestSchema in
    common/host-contract.ts. Used instead of the parameters above.

.EXAMPLE
    .\TerminateSession.ps1 -UserNames "CONTOSO\bob" -RdpOnly

.EXAMPLE
    .\TerminateSession.ps1 -UserNames "alice" -ListOnly

.EXAMPLE
    .\TerminateSession.ps1 -UserNames "CONTOSO\bob" -SessionIds 3

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
    [Parameter()][int[]]$SessionIds,
    [Parameter()][string[]]$ProcessIdentifiers,
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
    foreach ($name in @('UserNames', 'SessionIds', 'ProcessIdentifiers', 'RdpOnly', 'RemoteIp', 'ListOnly', 'IncidentId')) {
        if ($Bound.ContainsKey($name)) { $hasSimple = $true }
    }
    $users = New-Object -TypeName System.Collections.ArrayList
    $processes = New-Object -TypeName System.Collections.ArrayList
    $sessionIdList = New-Object -TypeName System.Collections.ArrayList
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
        $processItems = Get-SpawnGuardRequestValue -Request $decoded -Name 'processes' -Type 'array' -MaxCount 64
        if ($null -ne $processItems -and @($processItems).Length -gt 0) {
            foreach ($target in (ConvertFrom-SpawnGuardTargetRequest -Request ([pscustomobject]@{ targets = @($processItems) }))) {
                [void]$processes.Add($target)
            }
        }
        $idItems = Get-SpawnGuardRequestValue -Request $decoded -Name 'sessionIds' -Type 'array' -MaxCount 64
        if ($null -ne $idItems) {
            foreach ($id in @($idItems)) {
                if (-not ($id -is [int] -or $id -is [long]) -or $id -lt 0 -or $id -gt 65535) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message 'Each session id must be an integer from 0 to 65535.')
                }
                [void]$sessionIdList.Add([int]$id)
            }
        }
        $parsed = [pscustomobject]@{
            IncidentId = Get-SpawnGuardRequestValue -Request $decoded -Name 'incidentId' -Required -MaxLength 512
            Users      = $users.ToArray()
            RdpOnly    = Get-SpawnGuardRequestValue -Request $decoded -Name 'rdpOnly' -Type 'bool' -Default $false
            RemoteIp   = Get-SpawnGuardRequestValue -Request $decoded -Name 'remoteIp' -MaxLength 64
            ListOnly   = Get-SpawnGuardRequestValue -Request $decoded -Name 'listOnly' -Type 'bool' -Default $false
            Processes  = $processes.ToArray()
            SessionIds = $sessionIdList.ToArray()
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
        if ($Bound.ContainsKey('ProcessIdentifiers')) {
            foreach ($target in (ConvertTo-SpawnGuardProcessTarget -ProcessIdentifiers ([string[]]$Bound['ProcessIdentifiers']))) {
                # A session is found from a process's PID, checked against its image: a path alone names no session.
                if ($target.byPath) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Give each process as PID=path: ' + $target.target))
                }
                [void]$processes.Add($target)
            }
        }
        if ($Bound.ContainsKey('SessionIds')) {
            foreach ($id in [int[]]$Bound['SessionIds']) {
                if ($id -lt 0 -or $id -gt 65535) {
                    throw (New-SpawnGuardException -Code 'invalid-request' -Message ('Not a session id: ' + $id))
                }
                [void]$sessionIdList.Add($id)
            }
        }
        $parsed = [pscustomobject]@{
            IncidentId = [string]$Bound['IncidentId']
            Users      = $users.ToArray()
            RdpOnly    = ($Bound.ContainsKey('RdpOnly') -and [bool]$Bound['RdpOnly'])
            RemoteIp   = $address
            ListOnly   = ($Bound.ContainsKey('ListOnly') -and [bool]$Bound['ListOnly'])
            Processes  = $processes.ToArray()
            SessionIds = $sessionIdList.ToArray()
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

function Test-SessionUser {
    <#
    .SYNOPSIS
        True when a session's user is one of the requested users. With -AnyDomain (the session was
        named by the offending process or by its id), a requested user without a domain matches
        that session's user in whatever domain; a requested domain must always match.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][psobject]$Session, [switch]$AnyDomain)
    if ([string]::IsNullOrEmpty($Session.UserName)) { return $false }
    foreach ($user in $Parsed.Users) {
        if ($user.name.Trim().ToLowerInvariant() -ne $Session.UserName.Trim().ToLowerInvariant()) { continue }
        if ([string]::IsNullOrEmpty($user.domain)) {
            if ($AnyDomain) { return $true }
            continue
        }
        if (Test-DomainMatch -Wanted $user.domain -Actual $Session.DomainName) { return $true }
    }
    return $false
}

function Get-DomainKey {
    <#
    .SYNOPSIS
        The domain a session reports, reduced to what Test-DomainMatch compares (first label, lower case).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()][AllowEmptyString()][string]$Domain)
    if ([string]::IsNullOrEmpty($Domain)) { return '' }
    return $Domain.Trim().ToLowerInvariant().Split('.')[0]
}

function Find-AmbiguousUser {
    <#
    .SYNOPSIS
        The requested users named without a domain whose name has sessions in more than one domain
        (CONTOSO\bob and FABRIKAM\bob): a bare "bob" must not stand for both.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Parsed, [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Sessions)
    $ambiguous = New-Object -TypeName System.Collections.ArrayList
    foreach ($user in $Parsed.Users) {
        if (-not [string]::IsNullOrEmpty($user.domain)) { continue }
        $domains = New-Object -TypeName System.Collections.ArrayList
        foreach ($session in $Sessions) {
            if ([string]::IsNullOrEmpty($session.UserName)) { continue }
            if ($user.name.Trim().ToLowerInvariant() -ne $session.UserName.Trim().ToLowerInvariant()) { continue }
            $key = Get-DomainKey -Domain $session.DomainName
            if (-not ($domains -contains $key)) { [void]$domains.Add($key) }
        }
        if ($domains.Count -gt 1) { [void]$ambiguous.Add($user) }
    }
    return , $ambiguous.ToArray()
}

function Get-TargetSessionId {
    <#
    .SYNOPSIS
        The session ids the request targets: those it names, and those hosting its processes
        (Win32_Process SessionId, read now, after the identity check of PID, image and start time).
        Returns the ids and, for each process that named no session, why.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param([Parameter(Mandatory = $true)][psobject]$Parsed)
    $ids = New-Object -TypeName System.Collections.ArrayList
    $notes = New-Object -TypeName System.Collections.ArrayList
    foreach ($id in $Parsed.SessionIds) {
        if (-not ($ids -contains [int]$id)) { [void]$ids.Add([int]$id) }
    }
    foreach ($process in $Parsed.Processes) {
        $live = Get-SpawnGuardLiveProcess -ProcessId $process.pid
        if ($null -eq $live) {
            [void]$notes.Add('process ' + $process.pid + ' is not running')
            continue
        }
        $mismatch = Test-SpawnGuardProcessIdentity -Process $live -ExpectedImagePath $process.imagePath -ExpectedStartTime $process.startTime
        if ($null -ne $mismatch) {
            [void]$notes.Add('process ' + $process.pid + ': ' + $mismatch + ' (its image or start time is not the one requested)')
            continue
        }
        if (-not ($ids -contains [int]$live.SessionId)) { [void]$ids.Add([int]$live.SessionId) }
    }
    return [pscustomobject]@{ Ids = $ids.ToArray(); Notes = $notes.ToArray() }
}

function Find-TargetedSession {
    <#
    .SYNOPSIS
        The targeted sessions (by id) that belong to a requested user and pass the RDP-only and
        address filters, and a skipped result for each targeted session of somebody else.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param(
        [Parameter(Mandatory = $true)][psobject]$Parsed,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Sessions,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$SessionIds
    )
    $found = New-Object -TypeName System.Collections.ArrayList
    $skipped = New-Object -TypeName System.Collections.ArrayList
    $wanted = Get-UserLabelList -Users $Parsed.Users
    foreach ($id in $SessionIds) {
        $session = $null
        foreach ($candidate in $Sessions) {
            if ([int]$candidate.SessionId -eq [int]$id) { $session = $candidate }
        }
        if ($null -eq $session -or [string]::IsNullOrEmpty($session.UserName)) {
            if (-not $Parsed.ListOnly) {
                $gone = [pscustomobject]@{ SessionId = [int]$id; UserName = ''; DomainName = ''; State = $null; SessionType = $null; ClientAddress = $null }
                if ($null -ne $session) { $gone = $session }
                [void]$skipped.Add((New-SessionItem -User $wanted -Session $gone -Status 'already-done' -Reason 'session-gone' -Message ('No user is logged on in session ' + $id + ' any more.')))
            }
            continue
        }
        if (-not (Test-SessionUser -Parsed $Parsed -Session $session -AnyDomain)) {
            if (-not $Parsed.ListOnly) {
                [void]$skipped.Add((New-SessionItem -User (Get-SessionUser -Session $session) -Session $session -Status 'skipped' -Reason 'user-mismatch' -Message ('Session ' + $id + ' belongs to ' + (Get-SessionUser -Session $session) + ', not to ' + $wanted + ': not logged off.')))
            }
            continue
        }
        if ($Parsed.RdpOnly -and $session.SessionType -eq 'console') { continue }
        if (-not (Test-AddressMatch -Wanted $Parsed.RemoteIp -Actual $session.ClientAddress)) { continue }
        [void]$found.Add($session)
    }
    return [pscustomobject]@{ Sessions = $found.ToArray(); Skipped = $skipped.ToArray() }
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
        # A session that is gone has neither type nor state: null, not "".
        if (-not [string]::IsNullOrEmpty($Session.SessionType)) { $sessionType = [string]$Session.SessionType }
        if (-not [string]::IsNullOrEmpty($Session.State)) { $state = [string]$Session.State }
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

function Get-UserLabelList {
    <#
    .SYNOPSIS
        The requested users as one text: "CONTOSO\bob, alice".
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory = $true)][AllowEmptyCollection()][object[]]$Users)
    $labels = New-Object -TypeName System.Collections.ArrayList
    foreach ($user in $Users) { [void]$labels.Add((Get-UserLabel -User $user)) }
    return ($labels.ToArray() -join ', ')
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
            $all = Get-SpawnGuardSession
            if ($parsed.Processes.Length -gt 0 -or $parsed.SessionIds.Length -gt 0) {
                # The attacker's session is the one hosting the offending process: the user only confirms it.
                $targets = Get-TargetSessionId -Parsed $parsed
                $selection = Find-TargetedSession -Parsed $parsed -Sessions $all -SessionIds $targets.Ids
                $matched = $selection.Sessions
                foreach ($item in $selection.Skipped) { Add-SpawnGuardResultItem -Result $Result -Item $item }
                if ($targets.Ids.Length -eq 0 -and -not $parsed.ListOnly) {
                    $label = Get-UserLabelList -Users $parsed.Users
                    Add-SpawnGuardResultItem -Result $Result -Item (New-SessionItem -User $label -Session $null -Status 'skipped' -Reason 'no-target-session' -Message ('No session hosts the offending processes (' + ($targets.Notes -join '; ') + '): nothing logged off.'))
                }
            } else {
                $matched = Find-MatchingSession -Parsed $parsed -Sessions $all
                if (-not $parsed.ListOnly) {
                    foreach ($user in (Find-AmbiguousUser -Parsed $parsed -Sessions $all)) {
                        Add-SpawnGuardResultItem -Result $Result -Item (New-SessionItem -User $user.name -Session $null -Status 'skipped' -Reason 'ambiguous-user' -Message 'Sessions of this name exist in more than one domain: name the domain, the session or the process.')
                        Add-SpawnGuardError -Result $Result -Code 'invalid-request' -Message ('ambiguous-user: ' + $user.name + ' has sessions in more than one domain; a name without a domain never stands for every domain.')
                        $refused = $true
                    }
                }
            }
        }
        if (-not $refused) {
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
    # Constrained Language Mode blocks what the scripts need: refuse before anything runs (exit 5).
    if (-not (Test-SpawnGuardFullLanguage)) {
        Write-SpawnGuardLanguageRefusal -Script $MyInvocation.MyCommand.Name
        exit 5
    }
    Initialize-SpawnGuardOutput
    $result = New-SpawnGuardResult -Script $MyInvocation.MyCommand.Name
    Invoke-TerminateSession -Bound (ConvertTo-SpawnGuardHashtable -Dictionary $PSBoundParameters) -Result $result
    $exitCode = Get-SpawnGuardExitCode -Result $result
    Write-SpawnGuardResult -Result $result -ExitCode $exitCode
    exit $exitCode
}
