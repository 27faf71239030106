#!/usr/bin/env bash
# Build the Mosquitto password file of the bridge broker with mosquitto_passwd.
#
# usage: make-broker-users.sh USERS_FILE PASSWORD_FILE_OUT
#
# USERS_FILE has one broker user per line, "NAME SECRET" ('#' starts a comment, so a
# password containing '#' goes in a file):
#   0x5b38da6a701c568545dcfcb03fcb875f56beddc4 @secrets/broker-validator-1.password
#   0xab8483f64d9c6d1ecf9b849ae677dd3315835cb2 a-literal-password-of-12+-chars
#   healthcheck @secrets/broker-healthcheck.password
# NAME is a validator's signer address (0x + 40 hex; written in lower case, because the
# ACL pattern `%u` must equal the signer level of its topics, which is lower case) or a
# service user (lower-case letters, digits, - and _; give it its own ACL lines).
# SECRET is the password itself, or @FILE to read it from FILE (the same file the relayer
# reads as broker.password_file; trailing newlines are stripped, as the relayer does).
# Passwords need at least 12 characters and no newline.
#
# The output is replaced atomically and is mode 600: only hashes (PBKDF2-SHA512) are in
# it, no plain passwords, but keep it private anyway. Reload the broker after a change
# (SIGHUP, or restart the container).
set -euo pipefail

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
command -v mosquitto_passwd >/dev/null 2>&1 || {
    echo "make-broker-users: mosquitto_passwd not found (Debian: apt-get install mosquitto)" >&2
    exit 1
}

users=$1
out=$2
[[ -r "$users" ]] || { echo "make-broker-users: cannot read $users" >&2; exit 1; }

umask 077
tmp=$(mktemp "$(dirname "$out")/.passwd.XXXXXX")
trap 'rm -f "$tmp"' EXIT

declare -A seen=()
count=0
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
    lineno=$((lineno + 1))
    line=${line%%#*}
    read -r name secret extra <<<"$line" || true
    [[ -n "${name:-}" ]] || continue
    where="$users:$lineno"
    if [[ -z "${secret:-}" || -n "${extra:-}" ]]; then
        echo "make-broker-users: $where: expected 'NAME SECRET'" >&2
        exit 2
    fi
    if [[ "$name" =~ ^0[xX][0-9a-fA-F]{40}$ ]]; then
        name="0x$(tr 'A-F' 'a-f' <<<"${name:2}")"
    elif [[ ! "$name" =~ ^[a-z][a-z0-9_-]{0,63}$ ]]; then
        echo "make-broker-users: $where: '$name' is neither 0x + 40 hex nor a service user name" >&2
        exit 2
    fi
    if [[ -n "${seen[$name]:-}" ]]; then
        echo "make-broker-users: $where: $name appears twice" >&2
        exit 2
    fi
    seen[$name]=1
    if [[ "$secret" == @* ]]; then
        file=${secret:1}
        [[ -r "$file" ]] || { echo "make-broker-users: $where: cannot read $file" >&2; exit 1; }
        password=$(<"$file")
        password=${password%%$'\n'}
        password=${password%$'\r'}
    else
        password=$secret
    fi
    if [[ ${#password} -lt 12 || "$password" == *$'\n'* ]]; then
        echo "make-broker-users: $where: the password of $name needs 12+ characters, one line" >&2
        exit 2
    fi
    printf '%s:%s\n' "$name" "$password" >>"$tmp"
    count=$((count + 1))
done <"$users"

[[ $count -gt 0 ]] || { echo "make-broker-users: no users in $users" >&2; exit 2; }
# -U hashes the plain "name:password" file in place: no password on a command line.
mosquitto_passwd -U "$tmp"
chmod 600 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "make-broker-users: wrote $count user(s) to $out" >&2
