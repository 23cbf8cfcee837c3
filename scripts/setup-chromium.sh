#!/bin/sh
# Make this machine able to run the browser tests (tests/browser) with Debian's Chromium, as root.
#
# Why a script: Playwright's own browser download cannot reach its hosts from the machines
# the tests run on, so the tests drive the system browser instead. CI runs `make test` on a
# clean clone as root with only Debian's mirrors reachable; tests/browser/conftest.py calls
# this from a session fixture, so that machine installs Chromium by itself. Idempotent: it
# installs only what is missing, and prints the browser's path on its last line.
#
# Usage: scripts/setup-chromium.sh
set -eu

browser=/usr/bin/chromium
# Fonts: without any, a headless page renders its text as boxes in screenshots.
missing=""
[ -x "$browser" ] || missing="$missing chromium"
dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q "ok installed" || missing="$missing fonts-dejavu-core"

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup-chromium: missing:$missing; run this script as root to install them" >&2
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

echo "$browser"
