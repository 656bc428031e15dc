<#
.SYNOPSIS
    Logon sessions as records (from the WTS API in Platform.ps1), and logging one off.

.DESCRIPTION
    Never quser (its output is localized), never logoff.exe without a validated numeric id.
#>

$script:WtsStates = @('active', 'connected', 'connect-query', 'shadow', 'disconnected', 'idle', 'listen', 'reset', 'down', 'init')

function Get-SpawnGuardSession {
    <#
    .SYNOPSIS
        Every session on this machine from WTSEnumerateSessions / WTSQuerySessionInformation:
        numeric id, user, domain, state, type (console, rdp, other) and client-reported address.
    #>
    [CmdletBinding()]
    [OutputType([psobject])]
    param()
    $enumeration = Get-SpawnGuardWtsSession
    $consoleId = $enumeration.ConsoleSessionId
    $sessions = New-Object -TypeName System.Collections.ArrayList
    foreach ($raw in @($enumeration.Sessions)) {
        $state = 'unknown'
        if ($raw.State -ge 0 -and $raw.State -lt $script:WtsStates.Length) { $state = $script:WtsStates[$raw.State] }
        $type = 'other'
        if ($raw.SessionId -eq $consoleId -or $raw.WinStationName -eq 'Console') {
            $type = 'console'
        } elseif ($raw.ProtocolType -eq 2 -or ([string]$raw.WinStationName) -like 'RDP-*') {
            $type = 'rdp'
        }
        [void]$sessions.Add([pscustomobject]@{
                SessionId     = [int]$raw.SessionId
                UserName      = [string]$raw.UserName
                DomainName    = [string]$raw.DomainName
                State         = $state
                SessionType   = $type
                ClientAddress = $raw.ClientAddress
            })
    }
    return , $sessions.ToArray()
}

function Stop-SpawnGuardSession {
    <#
    .SYNOPSIS
        Logs one session off with WTSLogoffSession (waiting for it to end). Takes only a numeric
        session id; returns 0 or the Win32 error code.
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    [OutputType([int])]
    param([Parameter(Mandatory = $true)][ValidateRange(1, 65535)][int]$SessionId)
    if (-not $PSCmdlet.ShouldProcess(('session ' + $SessionId), 'WTSLogoffSession')) { return 0 }
    return (Invoke-SpawnGuardWtsLogoff -SessionId $SessionId)
}
