#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages for the native production cluster (`npm run cluster`,
# the tests in test/cluster) when no /usr/lib/postgresql/<version>/bin/initdb exists. Idempotent.
# The cluster runs its own PostgreSQL in its own folder and port (scripts/lib/postgres.ts); the
# package's default server, if the package starts one, is not used.
set -euo pipefail

initdb_present() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
initdb_present && exit 0

bash "$(dirname "$0")/install-debian-package.sh" postgresql /usr/bin/pg_ctlcluster
if ! initdb_present; then
  echo "install-postgresql: the postgresql package is installed but no /usr/lib/postgresql/*/bin/initdb exists" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "install-postgresql: running as root, the cluster needs the postgres system user the package creates" >&2
  exit 1
fi
