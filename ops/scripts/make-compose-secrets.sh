#!/usr/bin/env bash
# Make every secret ops/docker-compose.yml mounts, for a local five-validator test net:
#   secrets/validator-N.keystore.json + .password   attesting keys (relayer keys new)
#   secrets/broker-validator-N.password              broker passwords
#   secrets/broker-client-validator-N.crt/.key       broker client certificates (mutual TLS)
#   secrets/db-N.password, secrets/db-N.pgpass       PostgreSQL password (server, client)
#   secrets/broker-ca.pem, broker.crt, broker.key    broker PKI (scripts/make-dev-certs.sh)
#   secrets/broker-passwd                            hashed users (scripts/make-broker-users.sh)
#   secrets/broker-healthcheck.*                     the broker healthcheck's login
#   .env                                             VALIDATOR_N_ADDRESS (lower-case hex)
#
# usage: scripts/make-compose-secrets.sh   (from ops/; RELAYER=/path/to/relayer to choose
#        the CLI, default: `relayer` on PATH, else ../.venv/bin/relayer)
# Existing files are kept, so running it again is safe. Run as root to also hand each file
# to the uid that reads it in its container (relayer 10001, mosquitto 1883, postgres 999).
# For production: each operator makes only their own key and passwords, the broker
# operator uses a real CA; see ops/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/secrets
relayer=${RELAYER:-$(command -v relayer || echo "$here/../.venv/bin/relayer")}
[[ -x "$relayer" ]] || { echo "make-compose-secrets: relayer CLI not found (set RELAYER=)" >&2; exit 1; }
jurisdictions=(HK SG AE HK SG)

umask 077
mkdir -p "$out"

random_password() {
    openssl rand -base64 32 | tr -d '/+=\n' | cut -c1-32
}

# keep FILE if it exists, else write a fresh random password into it
password_file() {
    [[ -e "$1" ]] || random_password >"$1"
}

give() {  # give UID FILE...: chown when running as root (compose v1 ignores secret uid/mode)
    local uid=$1
    shift
    if [[ $(id -u) -eq 0 ]]; then
        chown "$uid:$uid" "$@"
    fi
}

"$here/scripts/make-dev-certs.sh" "$out/pki" validator-1 validator-2 validator-3 validator-4 \
    validator-5 healthcheck
cp -n "$out/pki/ca.crt" "$out/broker-ca.pem"
cp -n "$out/pki/broker.crt" "$out/broker.crt"
cp -n "$out/pki/broker.key" "$out/broker.key"
cp -n "$out/pki/clients/healthcheck.crt" "$out/broker-healthcheck.crt"
cp -n "$out/pki/clients/healthcheck.key" "$out/broker-healthcheck.key"
password_file "$out/broker-healthcheck.password"
chmod 644 "$out/broker-ca.pem"

users=$(mktemp)
trap 'rm -f "$users"' EXIT
echo "healthcheck @$out/broker-healthcheck.password" >>"$users"
env_lines=()
for i in 1 2 3 4 5; do
    keystore=$out/validator-$i.keystore.json
    password_file "$out/validator-$i.password"
    if [[ ! -e "$keystore" ]]; then
        "$relayer" keys new --jurisdiction "${jurisdictions[$((i - 1))]}" --out "$keystore" \
            --password-file "$out/validator-$i.password" >/dev/null
    fi
    address=$("$relayer" keys address "$keystore" | tr 'A-F' 'a-f')
    env_lines+=("VALIDATOR_${i}_ADDRESS=$address")

    password_file "$out/broker-validator-$i.password"
    echo "$address @$out/broker-validator-$i.password" >>"$users"
    cp -n "$out/pki/clients/validator-$i.crt" "$out/broker-client-validator-$i.crt"
    cp -n "$out/pki/clients/validator-$i.key" "$out/broker-client-validator-$i.key"

    password_file "$out/db-$i.password"
    [[ -e "$out/db-$i.pgpass" ]] || printf 'db-%s:5432:relayer:relayer:%s\n' "$i" \
        "$(<"$out/db-$i.password")" >"$out/db-$i.pgpass"

    give 10001 "$keystore" "$out/validator-$i.password" "$out/broker-validator-$i.password" \
        "$out/broker-client-validator-$i.crt" "$out/broker-client-validator-$i.key" \
        "$out/db-$i.pgpass"
    give 999 "$out/db-$i.password"
    echo "validator $i (${jurisdictions[$((i - 1))]}): $address" >&2
done
"$here/scripts/make-broker-users.sh" "$users" "$out/broker-passwd"
give 1883 "$out/broker.crt" "$out/broker.key" "$out/broker-passwd" \
    "$out/broker-healthcheck.crt" "$out/broker-healthcheck.key" "$out/broker-healthcheck.password"

if [[ ! -e "$here/.env" ]]; then
    {
        echo "# Made by scripts/make-compose-secrets.sh; read by docker-compose from ops/."
        printf '%s\n' "${env_lines[@]}"
        echo "# The deployed contracts (the relayers refuse to start without code there):"
        echo "# BRIDGE_VAULT=0x..."
        echo "# BRIDGE_GATEWAY=0x..."
    } >"$here/.env"
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "make-compose-secrets: not root, so files keep your uid; the containers read them as" \
        "10001 (relayer), 1883 (mosquitto), 999 (postgres): chown them accordingly" >&2
fi
echo "make-compose-secrets: secrets in $out, addresses in $here/.env" >&2
