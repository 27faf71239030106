#!/usr/bin/env bash
# A private Docker engine for machines where none runs (no systemd: CI, these dev boxes).
#
# usage: dockerd.sh start [ROOT]   start one (or find it running); prints its DOCKER_HOST
#        dockerd.sh stop [ROOT]    stop the one started in ROOT (SIGTERM, then waits)
#        dockerd.sh host [ROOT]    print its DOCKER_HOST (running or not)
# ROOT defaults to $RELAYER_DOCKER_ROOT, else /var/cache/conflux-bridge/docker: the
# machine's cache, shared by every clone on it (CI's fresh clones too). Everything
# persistent lives there: data/ (images, the build cache, volumes: kept between runs, so
# the base image and the image layers are built once per machine), docker.sock,
# dockerd.pid, dockerd.log. Clear it with `dockerd.sh stop && rm -rf "$ROOT"`.
# The engine runs as Debian's docker.io recommends for these machines: no iptables, no
# default bridge (containers use the host network), its own exec root, so it can run next
# to another engine. Needs root.
set -euo pipefail

cmd=${1:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
root=${2:-${RELAYER_DOCKER_ROOT:-/var/cache/conflux-bridge/docker}}
mkdir -p "$root"
root=$(cd "$root" && pwd)
sock=$root/docker.sock
host=unix://$sock
pidfile=$root/dockerd.pid
# a short exec root of its own (containerd's socket paths must stay under 108 bytes)
exec_root=/run/dockerd-$(printf '%s' "$root" | cksum | cut -d' ' -f1)

answering() {
    DOCKER_HOST=$host timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

case $cmd in
host)
    echo "$host"
    ;;
start)
    if answering; then
        echo "$host"
        exit 0
    fi
    PATH=$PATH:/usr/sbin:/sbin
    command -v dockerd >/dev/null 2>&1 || {
        echo "dockerd.sh: dockerd not found (Debian: apt-get install docker.io, or make install)" >&2
        exit 1
    }
    rm -f "$sock"
    setsid dockerd --iptables=false --ip6tables=false --bridge=none \
        --data-root "$root/data" --exec-root "$exec_root" --pidfile "$pidfile" \
        -H "$host" >>"$root/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        if answering; then
            echo "$host"
            exit 0
        fi
        sleep 0.5
    done
    echo "dockerd.sh: the engine did not answer in 60 s; $root/dockerd.log:" >&2
    tail -n 20 "$root/dockerd.log" >&2
    exit 1
    ;;
stop)
    [[ -s "$pidfile" ]] || exit 0
    pid=$(<"$pidfile")
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.5
    done
    echo "dockerd.sh: dockerd $pid still running after 30 s" >&2
    exit 1
    ;;
*)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
