#!/usr/bin/env bash
# Installs a Debian package a test needs when the file it provides is missing:
#   install-debian-package.sh <package> <file>     e.g. install-debian-package.sh openssl /usr/bin/openssl
# Idempotent and quiet: does nothing when the file is there, prints apt's output only when the
# install fails. Fails (non-zero) when it cannot install, so CI reports the missing tool here rather
# than as a confusing test failure later.
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
package=$1
file=$2

[ -x "$file" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-$package: not a Debian system with apt-get; install $package so that $file exists" >&2
  exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-$package: must run as root (or with sudo available) to install $package" >&2
    exit 1
  fi
  SUDO=sudo
fi

# apt's chatter (debconf notices included) is shown only when something fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-$package: apt-get could not install $package" >&2
  exit 1
fi

if [ ! -x "$file" ]; then
  echo "install-$package: apt-get installed $package but $file is missing" >&2
  exit 1
fi
