#!/bin/sh
# Creates Temporal's two PostgreSQL databases on first use and brings their schemas to the version
# this temporal-sql-tool carries (embedded in the tool). Safe to re-run: run it after every server
# upgrade, before the new server starts (docs/operations.md "Upgrading"). Shared by docker-compose.yml
# (the temporal-schema job, in the admin-tools image) and `npm run cluster`.
#
#   TEMPORAL_DB_HOST (postgresql)  TEMPORAL_DB_PORT (5432)  TEMPORAL_DB_USER (temporal)  TEMPORAL_DB_PASSWORD
#   TEMPORAL_SQL_TOOL              the schema tool (default: temporal-sql-tool on PATH)
set -eu

tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
SQL_PLUGIN=postgres12
SQL_HOST=${TEMPORAL_DB_HOST:-postgresql}
SQL_PORT=${TEMPORAL_DB_PORT:-5432}
SQL_USER=${TEMPORAL_DB_USER:-temporal}
SQL_PASSWORD=${TEMPORAL_DB_PASSWORD:-}
export SQL_PLUGIN SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD

# database:schema pairs: the history store and advanced visibility.
for pair in temporal:postgresql/v12/temporal temporal_visibility:postgresql/v12/visibility; do
  database=${pair%%:*}
  schema=${pair#*:}
  if "$tool" --database "$database" setup-schema -v 0.0 >/dev/null 2>&1; then
    echo "temporal-schema: $database exists"
  else
    echo "temporal-schema: creating $database"
    "$tool" --database "$database" create-database
    "$tool" --database "$database" setup-schema -v 0.0
  fi
  "$tool" --database "$database" update-schema --schema-name "$schema"
  echo "temporal-schema: $database is at the schema of $("$tool" --version)"
done
