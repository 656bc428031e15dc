<#
.SYNOPSIS
    What spawnguard never touches, and the fixed tables the other files read.

.DESCRIPTION
    Mirrors common/protected.ts (a jest test parses both and checks they agree). Dot-sourced by
    SpawnGuard.Safety.psm1 into the module's scope.
#>

$script:SystemRoots = @('c:\windows\system32\', 'c:\windows\syswow64\', 'c:\windows\winsxs\')

# Critical OS processes: terminating one crashes or destabilizes the host. Matched by name AND system path.
$script:CriticalProcessNames = @(
    'system',
    'registry',
    'memcompression',
    'memory compression',
    'smss.exe',
    'csrss.exe',
    'wininit.exe',
    'winlogon.exe',
    'lsass.exe',
    'lsaiso.exe',
    'services.exe',
    'logonui.exe'
)

# Shared hosts whose death harms the machine or its users without removing the threat.
$script:SharedHostNames = @('services.exe', 'svchost.exe', 'explorer.exe', 'wmiprvse.exe', 'wsmprovhost.exe')

# PowerShell hosts: never stopped by path (the host worker runs its scripts with powershell.exe).
$script:PowerShellNames = @('powershell.exe', 'powershell_ise.exe', 'pwsh.exe')

$script:ServiceAccounts = @('system', 'local service', 'network service', 'localsystem', 'localservice', 'networkservice')
$script:ServiceAccountDomains = @('nt authority', 'nt service', 'window manager', 'font driver host')

# PIDs 0 (Idle) and 4 (System) are never valid targets.
$script:ProtectedProcessIds = @(0, 4)

# Microsoft signer subject names (OS binaries and Office alike); the same pattern as isMicrosoftSigner.
$script:MicrosoftSignerPattern = '^(cn=)?microsoft (windows|corporation|windows publisher|windows production pca|code signing pca)'

# Reasons that mean "refused because a target is protected" (exit code 3).
$script:ProtectedReasons = @('protected-pid', 'protected-process', 'shared-host', 'worker-process', 'powershell-by-path', 'powershell-host', 'service-account', 'worker-session')

# Error codes that note a partial collection (one source unreadable) without failing the run.
$script:PartialErrorPattern = '-unavailable$'

$script:RequestPattern = '^[A-Za-z0-9+/=]+$'

# A PID and the creation time from an alert may differ by event-timestamp rounding, never by more.
$script:IdentityToleranceSeconds = 2

# System binaries and where they belong (mirrors SYSTEM_BINARIES in workflows/decision/rules.ts;
# a jest test checks the two agree). A system name elsewhere is "System File Execution Location
# Anomaly" (T1036).
$script:SystemBinaryStems = @(
    'svchost', 'lsass', 'lsaiso', 'csrss', 'services', 'smss', 'winlogon', 'wininit', 'logonui',
    'userinit', 'autochk', 'dwm', 'fontdrvhost', 'consent', 'runtimebroker', 'tiworker',
    'searchindexer', 'searchprotocolhost', 'dllhost', 'spoolsv', 'taskhost', 'taskhostw', 'wmiprvse',
    'wsmprovhost', 'winrshost', 'conhost', 'sihost', 'ctfmon', 'taskmgr', 'audiodg', 'smartscreen',
    'lsm', 'explorer', 'rundll32', 'regsvr32', 'powershell', 'powershell_ise', 'cmd', 'cscript',
    'wscript', 'mshta', 'certutil', 'bitsadmin', 'schtasks', 'wmic', 'msiexec', 'cmstp'
)
