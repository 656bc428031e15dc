<#
.SYNOPSIS
    What spawnguard never touches, and the fixed tables the other files read.

.DESCRIPTION
    Mirrors common/windows/protected.ts (a jest test parses both and checks they agree). Dot-sourced by
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

# The roots of Microsoft's code-signing chains (SHA-1 thumbprints, upper case). A signature counts as
# Microsoft's only when it is valid AND its signer chain ends in one of these (never by subject text,
# which anyone can put in a certificate). Source: the Microsoft PKI repository
# (https://www.microsoft.com/pkiops/docs/repository.htm) and the Microsoft Trusted Root Program
# list (https://learn.microsoft.com/security/trusted-root/participants-list):
#   Microsoft Root Authority (1997), Microsoft Root Certificate Authority (2001),
#   Microsoft Root Certificate Authority 2010 (Windows Production PCA 2011 chains here),
#   Microsoft Root Certificate Authority 2011 (Microsoft Code Signing PCA 2011: Office and the rest).
$script:MicrosoftRootThumbprints = @(
    'A43489159A520F0D93D032CCAF37E7FE20A8B419',
    'CDD4EEAE6000AC7F40C3802C171E30148030C072',
    '3B1EFD3A66EA28B16697394703A72CA340A05BD5',
    '8F43288AD272F3103B6FB1428485EA3014C0BCFE'
)

# Owners a quarantine store may have: BUILTIN\Administrators and SYSTEM.
$script:QuarantineOwnerSids = @('S-1-5-32-544', 'S-1-5-18')

# Reasons that mean "refused because a target is protected" (exit code 3).
$script:ProtectedReasons = @('protected-pid', 'protected-process', 'shared-host', 'worker-process', 'powershell-by-path', 'powershell-host', 'service-account', 'worker-session')

# Error codes that note a partial collection (one source unreadable) without failing the run.
$script:PartialErrorPattern = '-unavailable$'

$script:RequestPattern = '^[A-Za-z0-9+/=]+$'

# The largest request read from standard input (64 paths of 32,767 characters are about 4 MiB as JSON).
$script:MaxRequestBytes = 8388608

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

# Persistence kinds as FetchPersistenceEntries reports them (mirrors PERSISTENCE_KINDS in
# common/host-contract.ts), and those a host removes and restores on approval (REMOVABLE_PERSISTENCE_KINDS).
$script:PersistenceKinds = @(
    'scheduled-task', 'run-key', 'startup-folder', 'service', 'winlogon', 'ifeo-debugger', 'appinit-dlls',
    'wmi-subscription', 'boot-execute', 'active-setup', 'command-processor-autorun', 'logon-script',
    'winlogon-notify', 'gp-extension', 'appcert-dlls', 'lsa-package', 'print-monitor', 'netsh-helper',
    'time-provider', 'gpo-script', 'com-hijack', 'screensaver', 'bits-job', 'office-addin'
)
$script:RemovablePersistenceKinds = @('run-key', 'scheduled-task', 'startup-folder', 'service', 'wmi-subscription')

# The backup format of each removable kind (PersistenceBackupSchema.format).
$script:PersistenceBackupFormats = @{
    'run-key'          = 'registry-value'
    'scheduled-task'   = 'task-xml'
    'service'          = 'service-start'
    'wmi-subscription' = 'wmi-instance'
    'startup-folder'   = 'quarantined-file'
}

# The Run keys a run-key entry may be removed from, below SOFTWARE (HKLM, HKLM\SOFTWARE\Wow6432Node)
# or Software (a loaded user hive): Run, RunOnce, Policies\Explorer\Run, RunOnceEx and its
# numbered subkeys and their Depend lists. Nothing else is ever written as a "run key".
$script:RunKeyPattern = '^Microsoft\\Windows\\CurrentVersion\\(Run|RunOnce|Policies\\Explorer\\Run|RunOnceEx(\\[^\\]+(\\Depend)?)?)$'

# A startup folder ends so (Common Startup and each profile's Startup, wherever the profile is).
$script:StartupFolderPattern = '\\start menu\\programs\\startup$'

# The registry value types a backup keeps and a restore writes back.
$script:RegistryValueKinds = @('String', 'ExpandString', 'MultiString', 'DWord', 'QWord', 'Binary')

# The event consumers a wmi-subscription entry may be removed as, with the properties backed up and
# written back (their bindings go with them). A filter or a binding alone runs nothing: refused.
$script:SubscriptionConsumerProperties = @{
    'CommandLineEventConsumer'  = @('Name', 'CommandLineTemplate', 'ExecutablePath', 'WorkingDirectory', 'RunInteractively', 'ShowWindowCommand', 'CreateNewConsole', 'CreateNewProcessGroup', 'Priority', 'KillTimeout', 'DesktopName', 'WindowTitle', 'MaximumQueueSize')
    'ActiveScriptEventConsumer' = @('Name', 'ScriptingEngine', 'ScriptText', 'ScriptFileName', 'KillTimeout', 'MaximumQueueSize')
}
# Their numeric properties (uint32 in the WMI schema; JSON brings them back as Int32 or Int64).
$script:SubscriptionNumericProperties = @('ShowWindowCommand', 'Priority', 'KillTimeout', 'MaximumQueueSize')
