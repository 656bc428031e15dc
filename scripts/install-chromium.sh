#!/usr/bin/env bash
# Installs Debian's chromium for the review-page browser test (playwright-core drives
# /usr/bin/chromium; no browser download). Does nothing when chromium is already there.
set -euo pipefail
exec bash "$(dirname "$0")/install-debian-package.sh" chromium /usr/bin/chromium
