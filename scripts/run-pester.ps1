<#
.SYNOPSIS
    Runs every powershell/tests/*.Tests.ps1 with Pester 5, with code coverage of powershell/.

.DESCRIPTION
    Called by `npm test` (scripts/test.ts) under pwsh; on a Windows host it runs the same way under
    powershell.exe, where the tests tagged Windows run too (elsewhere they are skipped, with their
    reason, and counted). Writes a JSON summary (counts, coverage) for the caller and a JaCoCo
    coverage report, and exits 1 when any test failed or a test file could not run.

.PARAMETER PesterPath
    The Pester 5 module folder (scripts/install-powershell.sh puts it in the per-user cache).

.PARAMETER SummaryPath
    Where to write the JSON summary.

.PARAMETER CoveragePath
    Where to write the JaCoCo coverage report.

.EXAMPLE
    pwsh -NoProfile -File scripts/run-pester.ps1 -PesterPath ~/.cache/spawnguard/pester/5.7.1/Pester -SummaryPath coverage/pester.json -CoveragePath coverage/pester-coverage.xml
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$PesterPath,
    [Parameter(Mandatory = $true)][string]$SummaryPath,
    [Parameter(Mandatory = $true)][string]$CoveragePath,
    [ValidateSet('None', 'Normal', 'Detailed')][string]$Verbosity = 'Normal'
)

$ErrorActionPreference = 'Stop'
Import-Module -Name $PesterPath -MinimumVersion '5.0.0' -Force

$root = Split-Path -Path $PSScriptRoot -Parent
$scripts = Join-Path -Path $root -ChildPath 'powershell'
$module = Join-Path -Path $scripts -ChildPath 'SpawnGuard.Safety'

$configuration = New-PesterConfiguration
$configuration.Run.Path = @(Join-Path -Path $scripts -ChildPath 'tests')
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Verbosity
$configuration.CodeCoverage.Enabled = $true
$configuration.CodeCoverage.Path = @(
    (Join-Path -Path $scripts -ChildPath '*.ps1'),
    (Join-Path -Path $module -ChildPath '*.ps1'),
    (Join-Path -Path $module -ChildPath '*.psm1')
)
$configuration.CodeCoverage.OutputFormat = 'JaCoCo'
$configuration.CodeCoverage.OutputPath = $CoveragePath
$configuration.CodeCoverage.CoveragePercentTarget = 80
# The profiler-based tracer: much faster than breakpoints, same results.
$configuration.CodeCoverage.UseBreakpoints = $false

$null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $SummaryPath -Parent)
$null = New-Item -ItemType Directory -Force -Path (Split-Path -Path $CoveragePath -Parent)
$run = Invoke-Pester -Configuration $configuration

# Line coverage from the JaCoCo report's totals (Pester's own percentage counts commands).
$lineCovered = 0
$lineMissed = 0
if (Test-Path -LiteralPath $CoveragePath) {
    [xml]$report = Get-Content -LiteralPath $CoveragePath -Raw
    foreach ($counter in @($report.report.counter)) {
        if ($counter.type -eq 'LINE') {
            $lineCovered = [int]$counter.covered
            $lineMissed = [int]$counter.missed
        }
    }
}
$linePercent = 0
if ($lineCovered + $lineMissed -gt 0) { $linePercent = [math]::Round(100 * $lineCovered / ($lineCovered + $lineMissed), 1) }

$skipped = @()
foreach ($test in $run.Skipped) {
    $because = $null
    if ($null -ne $test.ErrorRecord -and @($test.ErrorRecord).Count -gt 0) { $because = [string]@($test.ErrorRecord)[0].Exception.Message }
    $skipped += [ordered]@{ name = $test.ExpandedPath; because = $because }
}
$failedFiles = @($run.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.ErrorRecord.Count -gt 0 } | ForEach-Object { [string]$_.Item })
$summary = [ordered]@{
    passed          = $run.PassedCount
    failed          = $run.FailedCount + $run.FailedBlocksCount + $run.FailedContainersCount
    skipped         = $run.SkippedCount
    notRun          = $run.NotRunCount
    total           = $run.TotalCount
    failedFiles     = $failedFiles
    skippedTests    = $skipped
    coverage        = [ordered]@{
        lines          = $linePercent
        linesCovered   = $lineCovered
        linesMissed    = $lineMissed
        commands       = [math]::Round($run.CodeCoverage.CoveragePercent, 1)
        commandsRun    = $run.CodeCoverage.CommandsExecutedCount
        commandsTotal  = $run.CodeCoverage.CommandsAnalyzedCount
        report         = $CoveragePath
    }
    powershell      = $PSVersionTable.PSVersion.ToString()
    pester          = (Get-Module -Name Pester).Version.ToString()
}
Set-Content -LiteralPath $SummaryPath -Value (ConvertTo-Json -InputObject $summary -Depth 5) -Encoding UTF8
if ($summary.failed -gt 0 -or $run.Result -ne 'Passed') { exit 1 }
exit 0
