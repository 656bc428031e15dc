#!/usr/bin/env bash
# Makes the certificates of the production docker-compose.yml: a private CA, the Temporal frontend's
# server certificate, and one client certificate per part — the central worker, the ingest service,
# the Temporal UI, the admin tools — and per Windows host (`spawnguard-host-<hostname>`), so each
# host worker has an identity of its own that can be revoked alone.
#
#   deploy/make-certs.sh <dir> [hostname ...]     e.g. deploy/make-certs.sh certs web01 web02
#
# Re-running keeps the CA and every existing certificate and adds the missing ones (a new host).
# Keys are written readable by their owner only. Keep ca.key off the compose host once done.
set -euo pipefail

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}
if [ "${1:-}" = "" ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  usage
  [ "${1:-}" = "" ] && exit 2 || exit 0
fi
command -v openssl >/dev/null 2>&1 || {
  echo "make-certs: openssl is needed (Debian: apt-get install openssl)" >&2
  exit 1
}

dir=$1
shift
# The frontend's name on the compose network; clients check it (TEMPORAL_TLS_SERVER_NAME).
server_name=${SPAWNGUARD_TEMPORAL_SERVER_NAME:-temporal}
days=${SPAWNGUARD_CERT_DAYS:-825}
mkdir -p "$dir"
umask 077

if [ ! -f "$dir/ca.pem" ]; then
  echo "make-certs: CA $dir/ca.pem"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=spawnguard private CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue <name> <server|client> [DNS SANs...]
issue() {
  local name=$1 usage=$2
  shift 2
  [ -f "$dir/$name.pem" ] && return 0
  local sans="DNS:$name" san
  for san in "$@"; do sans="$sans,DNS:$san"; done
  local eku=clientAuth
  [ "$usage" = server ] && eku=serverAuth,clientAuth
  echo "make-certs: $usage certificate $dir/$name.pem"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -sha256 \
    -days "$days" -out "$dir/$name.pem" \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$eku" "$sans") \
    2>/dev/null
  rm -f "$dir/$name.csr"
}

issue "$server_name" server localhost
for part in spawnguard-central spawnguard-ingest temporal-ui temporal-admin; do
  issue "$part" client
done
for host in "$@"; do
  if ! printf '%s' "$host" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$'; then
    echo "make-certs: '$host' is not a host name" >&2
    exit 2
  fi
  issue "spawnguard-host-$(printf '%s' "$host" | tr 'A-Z' 'a-z')" client
done
# Certificates are public; the containers read them as another user.
chmod 644 "$dir"/*.pem
