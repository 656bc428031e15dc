#!/usr/bin/env bash
# Installs Debian's chromium for the review-page browser test (playwright-core drives
# /usr/bin/chromium; no browser download). Idempotent and quiet: does nothing when chromium is
# already there, prints apt's output only when the install fails. Fails (non-zero) when it cannot install, so CI
# reports the missing browser here rather than as a confusing test failure later.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

[ -x "$CHROMIUM" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: not a Debian system with apt-get; install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: must run as root (or with sudo available) to install chromium" >&2
    exit 1
  fi
  SUDO=sudo
fi

# apt's chatter (debconf notices included) is shown only when something fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get could not install chromium" >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "install-chromium: apt-get installed chromium but $CHROMIUM is missing" >&2
  exit 1
fi
