#!/usr/bin/env bash
# Build the relayer image from the repository's git-tracked files (`make image`).
#
# usage: build-image.sh [TAG]         (default TAG: conflux-bridge-relayer:local)
#
# The build context is a copy of the files git tracks (with their working-tree content):
# nothing untracked or ignored (ops/secrets/, .env, databases, .venv) can reach the image,
# whatever the builder. The base image (debian:bookworm-slim) is pulled, or built once
# with debootstrap (scripts/build-base-image.sh) and reused. BuildKit builds (the Docker
# 20.10 CLI of Debian's docker.io, /usr/bin/docker, has it built in), RUN steps on the host
# network (an engine started with --bridge=none has no other). If this machine's
# certificate store holds extra CAs (a TLS-intercepting proxy), the bundle is handed to
# pip as a build secret, mounted for that step only.
# Engine: DOCKER_HOST if set, else the default socket if an engine answers there, else a
# private one (scripts/dockerd.sh, data in the machine's cache), left running; the last line
# printed says which, for `docker run`.
set -euo pipefail

tag=${1:-conflux-bridge-relayer:local}
repo=$(cd "$(dirname "$0")/../.." && pwd)
scripts=$repo/ops/scripts

if [[ -z "${DOCKER_HOST:-}" ]] && ! timeout 10 docker version >/dev/null 2>&1; then
    DOCKER_HOST=$("$scripts/dockerd.sh" start)
fi
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}

# BuildKit: the docker CLI with it built in (Debian's 20.10), or one with the buildx plugin.
docker_cli=docker
if ! docker buildx version >/dev/null 2>&1 && [[ -x /usr/bin/docker ]]; then
    docker_cli=/usr/bin/docker
fi

"$scripts/build-base-image.sh" debian:bookworm-slim

context=$(mktemp -d /tmp/relayer-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
git -C "$repo" ls-files -z --cached | (cd "$repo" && tar --null --no-recursion -T - -cf -) |
    tar -C "$context" -xf -

secret=()
ca=${BUILD_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}
[[ -s "$ca" ]] && secret=(--secret "id=build-ca,src=$ca")

DOCKER_BUILDKIT=1 "$docker_cli" build --network host "${secret[@]}" \
    -f "$context/ops/Dockerfile" -t "$tag" "$context"
echo "build-image: $tag built (DOCKER_HOST=$DOCKER_HOST)"
