#!/usr/bin/env bash
# Make sure the base image of ops/Dockerfile exists in the Docker engine: debian:bookworm-slim.
#
# usage: build-base-image.sh [TAG]      (default TAG: debian:bookworm-slim)
#
# 1. the engine already has TAG: nothing to do (built once, reused);
# 2. else try `docker pull TAG` (a normal machine: the official image);
# 3. else (no registry reachable) build it the way the official Debian images are built:
#    `debootstrap --variant=minbase bookworm` from the Debian mirror this machine's apt
#    already uses (MIRROR= to choose another), slimmed like the official -slim images
#    (no docs, man pages or locales; empty apt lists), then `docker import` as TAG.
# Needs root (debootstrap) and the docker CLI talking to an engine (DOCKER_HOST).
set -euo pipefail

tag=${1:-debian:bookworm-slim}
suite=bookworm

command -v docker >/dev/null 2>&1 || { echo "build-base-image: docker CLI not found" >&2; exit 1; }
if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "build-base-image: $tag present" >&2
    exit 0
fi
if timeout 60 docker pull "$tag" >/dev/null 2>&1; then
    echo "build-base-image: pulled $tag" >&2
    exit 0
fi
command -v debootstrap >/dev/null 2>&1 || [[ -x /usr/sbin/debootstrap ]] || {
    echo "build-base-image: cannot pull $tag and debootstrap is missing (apt-get install debootstrap)" >&2
    exit 1
}
PATH=$PATH:/usr/sbin:/sbin

# The mirror apt already uses (deb822 or one-line sources), else deb.debian.org.
mirror=${MIRROR:-$(
    { grep -hoE '^URIs: *https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed 's/^URIs: *//'
      grep -hoE '^deb +https?://[^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        2>/dev/null | awk '{print $2}'
    } | head -n1 || true
)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

rootfs=$(mktemp -d /tmp/base-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "build-base-image: debootstrap --variant=minbase $suite from $mirror (about a minute)" >&2
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 20 "$rootfs.log" >&2
    rm -f "$rootfs.log"
    exit 1
}
rm -f "$rootfs.log"

# What the official debian:*-slim images do: keep docs, man pages and locales out of
# every later `apt-get install`, and ship without apt lists or cached packages.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror}-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
find "$rootfs/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
    "$rootfs"/tmp/* "$rootfs"/root/.bash_history
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "debootstrap --variant=minbase $suite $mirror" - "$tag" >/dev/null
echo "build-base-image: built $tag with debootstrap" >&2
