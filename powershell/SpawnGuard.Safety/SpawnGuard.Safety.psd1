@{
    # The host scripts' shared module. Loaded by path (Import-Module <scripts>\SpawnGuard.Safety),
    # pinned with every other file of powershell/ by manifest.json, never installed globally.
    RootModule        = 'SpawnGuard.Safety.psm1'
    ModuleVersion     = '1.0.0'
    GUID              = '5f2b7f0e-3c1a-4d55-9a51-2f6a1c9e7b40'
    Author            = 'spawnguard'
    Description       = 'Safety checks, the Windows seam, quarantine and result output for the spawnguard host scripts.'
    PowerShellVersion = '3.0'
    FunctionsToExport = @(
        'New-SpawnGuardException', 'Test-SpawnGuardAccessDenied', 'Get-SpawnGuardErrorCode',
        'ConvertTo-SpawnGuardNativePath', 'Get-SpawnGuardWin32Process', 'Stop-SpawnGuardVerifiedProcess',
        'Test-SpawnGuardProcessRunning', 'Get-SpawnGuardProcessOwner', 'Get-SpawnGuardCurrentSessionId', 'Read-SpawnGuardStandardInput',
        'Test-SpawnGuardFile', 'Test-SpawnGuardDirectory', 'Get-SpawnGuardFileLength',
        'Open-SpawnGuardFileForRead', 'Get-SpawnGuardChildFile', 'New-SpawnGuardDirectory',
        'Move-SpawnGuardFile', 'Copy-SpawnGuardFile', 'Remove-SpawnGuardFile',
        'Read-SpawnGuardTextFile', 'Write-SpawnGuardTextFile', 'Update-SpawnGuardFileFrom',
        'Get-SpawnGuardAuthenticodeSignature', 'Set-SpawnGuardFileSecurity',
        'Set-SpawnGuardRestrictedAcl', 'Get-SpawnGuardAccessSddl', 'Restore-SpawnGuardAccessSddl',
        'Get-SpawnGuardRegistrySubKeyName', 'Get-SpawnGuardRegistryValueName', 'Get-SpawnGuardRegistryValue',
        'Test-SpawnGuardRegistryKey', 'ConvertTo-SpawnGuardAccountName', 'Get-SpawnGuardScheduledTask',
        'Get-SpawnGuardScheduledTaskFromService', 'Get-SpawnGuardShortcut', 'Get-SpawnGuardSubscriptionInstance',
        'Initialize-SpawnGuardHiveApi', 'Mount-SpawnGuardUserHive', 'Dismount-SpawnGuardUserHive', 'Get-SpawnGuardBitsJob',
        'Initialize-SpawnGuardWtsApi', 'Get-SpawnGuardWtsSession', 'Invoke-SpawnGuardWtsLogoff',
        'Test-SpawnGuardAbsolutePath', 'ConvertTo-SpawnGuardNormalizedPath', 'Get-SpawnGuardBaseName',
        'ConvertTo-SpawnGuardImageName', 'Test-SpawnGuardSystemPath', 'Test-SpawnGuardExpectedLocation',
        'Get-SpawnGuardProcessName', 'Join-SpawnGuardPath', 'Test-SpawnGuardRemotePath', 'Resolve-SpawnGuardFilePath', 'Get-SpawnGuardParentPath',
        'Test-SpawnGuardCriticalProcess', 'Test-SpawnGuardSharedHost', 'Test-SpawnGuardPowerShellHost',
        'Test-SpawnGuardServiceAccount', 'ConvertTo-SpawnGuardIsoDate', 'ConvertFrom-SpawnGuardIsoDate',
        'ConvertFrom-SpawnGuardDmtfDate', 'ConvertFrom-SpawnGuardJson', 'ConvertFrom-SpawnGuardRequest',
        'Get-SpawnGuardRequestValue', 'ConvertTo-SpawnGuardHashtable', 'Split-SpawnGuardPathList',
        'ConvertTo-SpawnGuardProcessTarget', 'ConvertFrom-SpawnGuardTargetRequest', 'Split-SpawnGuardUserName',
        'ConvertTo-SpawnGuardProcessRecord', 'Get-SpawnGuardProcessSnapshot', 'Get-SpawnGuardLiveProcess',
        'Find-SpawnGuardProcess', 'Find-SpawnGuardProcessByPath', 'Get-SpawnGuardParentChain',
        'Get-SpawnGuardDescendant', 'Get-SpawnGuardWorkerProcess', 'Get-SpawnGuardWorkerProcessId',
        'Test-SpawnGuardServiceHostedSvchost', 'Get-SpawnGuardProtectionReason', 'Test-SpawnGuardProcessIdentity',
        'Test-SpawnGuardSameProcess', 'Test-SpawnGuardInstanceIdentity', 'Stop-SpawnGuardProcessInstance', 'Resolve-SpawnGuardProcessTarget',
        'Stop-SpawnGuardProcessTree', 'New-SpawnGuardProcessActionResult', 'Test-SpawnGuardRefusedPlan',
        'Add-SpawnGuardRefusedPlan', 'Get-SpawnGuardTreeOutcomeSummary', 'Get-SpawnGuardFileHash',
        'Test-SpawnGuardMicrosoftSigner', 'Get-SpawnGuardSignature', 'Test-SpawnGuardTrustedSigner',
        'Get-SpawnGuardVersionInfo', 'Get-SpawnGuardQuarantineDirectory', 'Get-SpawnGuardStoreDirectory', 'Initialize-SpawnGuardQuarantineDirectory',
        'Get-SpawnGuardQuarantinePath', 'Get-SpawnGuardManifestPath', 'Read-SpawnGuardQuarantineManifest',
        'Save-SpawnGuardQuarantineManifest', 'Find-SpawnGuardQuarantineRecord', 'Move-SpawnGuardFileToQuarantine', 'Copy-SpawnGuardQuarantinedFile',
        'Assert-SpawnGuardQuarantineStore', 'Find-SpawnGuardReparsePoint', 'Set-SpawnGuardEntryValue', 'Test-SpawnGuardPendingEntry', 'Find-SpawnGuardManifestEntry',
        'Remove-SpawnGuardManifestEntry', 'Test-SpawnGuardQuarantinePending', 'Complete-SpawnGuardQuarantineEntry', 'ConvertTo-SpawnGuardCanonicalPath', 'Test-SpawnGuardShortNamePath',
        'Test-SpawnGuardUnderDirectory', 'Test-SpawnGuardWindowsDirectoryFile', 'Test-SpawnGuardReparsePoint', 'Get-SpawnGuardLongPath',
        'Get-SpawnGuardSignerRootThumbprint', 'Get-SpawnGuardOwnerSid', 'Set-SpawnGuardAdministratorsOwner',
        'Get-SpawnGuardSession', 'Stop-SpawnGuardSession', 'Initialize-SpawnGuardOutput',
        'New-SpawnGuardResult', 'Add-SpawnGuardError', 'Add-SpawnGuardResultItem',
        'Test-SpawnGuardFullLanguage', 'Write-SpawnGuardLanguageRefusal', 'Get-SpawnGuardExitCode', 'Write-SpawnGuardResult',
        'Test-SpawnGuardMissingObjectError', 'Test-SpawnGuardRestoredAcl', 'Restore-SpawnGuardQuarantinedEntry',
        'Get-SpawnGuardRegistryTypedValue', 'Set-SpawnGuardRegistryValue', 'Remove-SpawnGuardRegistryValue',
        'Get-SpawnGuardTaskFolder', 'Get-SpawnGuardScheduledTaskDefinition', 'Register-SpawnGuardScheduledTaskXml', 'Unregister-SpawnGuardScheduledTask',
        'Get-SpawnGuardServiceStartType', 'Set-SpawnGuardServiceStartType',
        'New-SpawnGuardSubscriptionInstance', 'New-SpawnGuardSubscriptionBinding', 'Remove-SpawnGuardSubscriptionInstance',
        'Expand-SpawnGuardCommandText', 'Test-SpawnGuardCommandReference', 'ConvertFrom-SpawnGuardWmiReference',
        'ConvertTo-SpawnGuardRunKeyPath', 'Get-SpawnGuardProfileImagePath', 'Mount-SpawnGuardProfileHive', 'Dismount-SpawnGuardProfileHive', 'ConvertTo-SpawnGuardTaskPath', 'ConvertTo-SpawnGuardServiceKey', 'ConvertTo-SpawnGuardSubscriptionClass',
        'Test-SpawnGuardStartupFolder', 'Test-SpawnGuardPlainFileName',
        'New-SpawnGuardRegistryValueRecord', 'ConvertFrom-SpawnGuardRegistryValueRecord', 'Test-SpawnGuardRegistryDataEqual',
        'Get-SpawnGuardBackupDirectory', 'Get-SpawnGuardPersistenceBackupId', 'Get-SpawnGuardPersistenceBackupPath',
        'New-SpawnGuardPersistenceBackup', 'Save-SpawnGuardPersistenceBackup', 'Read-SpawnGuardPersistenceBackup',
        'Get-SpawnGuardBackupField', 'Assert-SpawnGuardPersistenceBackup',
        'Get-SpawnGuardPersistenceKind', 'Get-SpawnGuardPersistenceBackupFormat', 'Get-SpawnGuardSubscriptionProperty', 'ConvertTo-SpawnGuardSubscriptionValue'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
