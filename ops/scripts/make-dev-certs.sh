#!/usr/bin/env bash
# Make a development / test PKI for the bridge's MQTT broker with openssl:
#   OUT_DIR/ca.key, OUT_DIR/ca.crt                 a CA (10 years)
#   OUT_DIR/broker.key, OUT_DIR/broker.crt         the broker, SAN localhost, 127.0.0.1,
#                                                  mosquitto (+ BROKER_SANS)
#   OUT_DIR/clients/NAME.key, .../NAME.crt         one client certificate per NAME (mutual TLS)
#
# usage: make-dev-certs.sh OUT_DIR [CLIENT_NAME ...]
#   BROKER_SANS="DNS:broker.bridge.example,IP:10.0.0.5" adds names to the broker cert.
#   DAYS=825 sets the validity of the leaf certificates.
#
# Existing files are never overwritten: an existing CA is reused to sign new leaves, so
# running it again with more client names adds them. For production, use your own CA (an
# HSM-backed or offline one); this script is for development, tests and the compose demo.
set -euo pipefail

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
[[ "$1" != "-h" && "$1" != "--help" ]] || usage
command -v openssl >/dev/null 2>&1 || { echo "make-dev-certs: openssl not found" >&2; exit 1; }

out=$1
shift
days=${DAYS:-825}
sans="DNS:localhost,IP:127.0.0.1,DNS:mosquitto${BROKER_SANS:+,${BROKER_SANS}}"

umask 077
mkdir -p "$out/clients"

# leaf CN KEY CRT EXTENSIONS: an EC P-256 key and a certificate signed by the CA.
leaf() {
    local cn=$1 key=$2 crt=$3 ext=$4
    if [[ -e "$crt" ]]; then
        echo "make-dev-certs: keeping existing $crt" >&2
        return 0
    fi
    local tmp
    tmp=$(mktemp -d)
    openssl ecparam -name prime256v1 -genkey -noout -out "$key" 2>/dev/null
    openssl req -new -key "$key" -subj "/CN=${cn}" -out "$tmp/req.csr"
    printf '%b\n' "$ext" >"$tmp/ext.cnf"
    openssl x509 -req -in "$tmp/req.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
        -CAcreateserial -CAserial "$out/ca.srl" -days "$days" -sha256 \
        -extfile "$tmp/ext.cnf" -out "$crt" 2>/dev/null
    rm -rf "$tmp"
    chmod 600 "$key"
    chmod 644 "$crt"
    echo "make-dev-certs: wrote $crt (CN=${cn})" >&2
}

if [[ ! -e "$out/ca.crt" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key" 2>/dev/null
    openssl req -new -x509 -key "$out/ca.key" -subj "/CN=conflux-bridge dev CA" \
        -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$out/ca.crt"
    chmod 644 "$out/ca.crt"
    echo "make-dev-certs: wrote $out/ca.crt" >&2
fi

leaf mosquitto "$out/broker.key" "$out/broker.crt" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}"

for name in "$@"; do
    if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ ]]; then
        echo "make-dev-certs: bad client name '$name' (letters, digits, . _ - only)" >&2
        exit 2
    fi
    leaf "$name" "$out/clients/$name.key" "$out/clients/$name.crt" \
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth"
done
