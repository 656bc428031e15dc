#!/usr/bin/env bash
# Installs what the PowerShell tests need, from NuGet only (no other download):
#   - PowerShell 7.6.9 (`pwsh`) as a .NET global tool, into ~/.dotnet/tools;
#   - Pester 5.7.1 (the NuGet package `Pester`), unpacked into the per-user cache
#     ${XDG_CACHE_HOME:-~/.cache}/spawnguard/pester/5.7.1/Pester (a module folder).
# Idempotent and quiet: does nothing when both are there at these exact versions, and prints the
# tools' output only when an install fails. Needs the .NET SDK (`dotnet`). Exits non-zero when it
# cannot install, so CI stops here rather than with a confusing test failure later.
#
# Production hosts do not use any of this: they run the scripts with Windows PowerShell 5.1
# (powershell.exe), which ships with Windows Server. See powershell/README.md.
set -euo pipefail

PWSH_VERSION=7.6.9
PESTER_VERSION=5.7.1
TOOLS_DIR="$HOME/.dotnet/tools"
PWSH="$TOOLS_DIR/pwsh"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/spawnguard/pester/$PESTER_VERSION"
PESTER_MODULE="$CACHE_DIR/Pester"

log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT

fail() {
  [ -s "$log" ] && cat "$log" >&2
  echo "install-powershell: $*" >&2
  exit 1
}

if ! command -v dotnet >/dev/null 2>&1; then
  fail "the .NET SDK (dotnet) is needed to install PowerShell $PWSH_VERSION from NuGet; install it, or put pwsh $PWSH_VERSION on PATH yourself"
fi

# PowerShell: the exact version, as a global tool. (An older or newer one is replaced.)
installed=""
[ -x "$PWSH" ] && installed=$("$PWSH" -NoLogo -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null || true)
if [ "$installed" != "$PWSH_VERSION" ]; then
  if [ -n "$installed" ]; then
    dotnet tool uninstall --global PowerShell >"$log" 2>&1 || true
  fi
  dotnet tool install --global PowerShell --version "$PWSH_VERSION" >"$log" 2>&1 ||
    fail "dotnet tool install --global PowerShell --version $PWSH_VERSION failed"
  installed=$("$PWSH" -NoLogo -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>>"$log" || true)
  [ "$installed" = "$PWSH_VERSION" ] || fail "pwsh reports version '$installed', expected $PWSH_VERSION"
fi

# Pester: the NuGet package holds the module under tools/. A throwaway project with a
# PackageDownload item is how the .NET SDK fetches a package that is not a library reference.
if [ ! -f "$PESTER_MODULE/Pester.psd1" ]; then
  cat >"$work/pester-download.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
XML
  dotnet restore "$work/pester-download.csproj" --packages "$work/packages" >"$log" 2>&1 ||
    fail "dotnet restore could not download the NuGet package Pester $PESTER_VERSION"
  source_dir="$work/packages/pester/$PESTER_VERSION/tools"
  [ -f "$source_dir/Pester.psd1" ] || fail "the Pester $PESTER_VERSION package has no tools/Pester.psd1"
  mkdir -p "$CACHE_DIR"
  rm -rf "$PESTER_MODULE.staging"
  cp -R "$source_dir" "$PESTER_MODULE.staging"
  rm -rf "$PESTER_MODULE"
  mv "$PESTER_MODULE.staging" "$PESTER_MODULE"
fi

version=$("$PWSH" -NoLogo -NoProfile -NonInteractive -Command "(Import-Module -Name '$PESTER_MODULE' -PassThru).Version.ToString()" 2>>"$log" || true)
[ "$version" = "$PESTER_VERSION" ] || fail "Pester at $PESTER_MODULE reports version '$version', expected $PESTER_VERSION"
