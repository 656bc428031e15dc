<#
.SYNOPSIS
    Shared safety, quarantine and output helpers for the spawnguard host scripts.

.DESCRIPTION
    The one place on the PowerShell side that knows what must never be terminated, quarantined or
    logged off (ProtectedLists.ps1, mirrored by common/windows/protected.ts; a jest test checks they agree).
    This file only loads the concern files below into the module's scope; SpawnGuard.Safety.psd1
    lists what is exported. Platform.ps1 is the Windows seam: every Windows-only call is there.

    Windows PowerShell 3.0 compatible: no classes, enums, ::new(), ternaries or pipeline chains,
    no Get-FileHash (4.0); the jest suite checks this over the parse tree, Pester runs it under pwsh.

.NOTES
    Exit codes used by every script (activities/host/runner.ts maps them):
      0 the request ran to completion (per-item statuses say what happened to each item)
      1 a failure that a retry may fix (a process did not stop, WMI failed, ...)
      2 the request is invalid (retrying cannot help)
      3 a protected target was named: nothing was done (the whole request is refused)
      4 access denied
#>

Set-StrictMode -Version 2.0
# A script's preference variables do not reach the functions of a module (they see the module's
# scope, then the global one), so the module sets its own: errors stop, nothing extra is printed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'

# In this order: the tables first, then the seam, then the logic that uses both.
foreach ($concern in @(
        'ProtectedLists',
        'Errors',
        'Platform',
        'Paths',
        'Protection',
        'Dates',
        'Requests',
        'Processes',
        'ProcessActions',
        'Files',
        'Quarantine',
        'Persistence',
        'Sessions',
        'Output'
    )) {
    . (Join-Path -Path $PSScriptRoot -ChildPath ($concern + '.ps1'))
}
