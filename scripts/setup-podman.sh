#!/bin/sh
# Make this machine able to run the container tests with podman, as root.
#
# Why a script: CI runs `make test` on a clean clone, as root, with only Debian's mirrors
# reachable; the test suite calls this from a session fixture so that machine installs
# podman (plus runc and a static busybox for the test image) by itself. Idempotent: it
# installs only what is missing and rewrites one small config file.
#
# Usage: scripts/setup-podman.sh [CONTAINERS_CONF_PATH]
#   Prints `export CONTAINERS_CONF=...` on its last line: podman reads that file.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
conf=${1:-$repo/.cache/podman/containers.conf}

missing=""
command -v podman >/dev/null 2>&1 || missing="$missing podman"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
# The test image holds nothing but /bin/busybox, so it must not need a libc.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || missing="$missing busybox-static"

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-podman: missing:$missing; run this script as root to install them" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Other sessions may hold the dpkg lock: wait for it rather than fail.
    apt_opts="-y -q -o DPkg::Lock::Timeout=300"
    # shellcheck disable=SC2086
    if ! apt-get install $apt_opts --no-install-recommends $missing >&2; then
        apt-get update -q -o DPkg::Lock::Timeout=300 >&2
        # shellcheck disable=SC2086
        apt-get install $apt_opts --no-install-recommends $missing >&2
    fi
fi

# Debian's podman sets an nproc ulimit that a root process inside a container without
# CAP_SYS_RESOURCE (as on these machines) may not set: "setrlimit RLIMIT_NPROC not permitted".
mkdir -p "$(dirname "$conf")"
printf '[containers]\ndefault_ulimits = []\n' > "$conf.tmp"
mv "$conf.tmp" "$conf"
# Keep the default location out of git without touching the repository's .gitignore.
case "$conf" in
    "$repo/.cache/"*) [ -f "$repo/.cache/.gitignore" ] || echo '*' > "$repo/.cache/.gitignore" ;;
esac

echo "export CONTAINERS_CONF=$conf"
