#!/usr/bin/env bash
# Install Debian's chromium for the report's headless-browser test. Idempotent:
# does nothing when a chromium binary is already on PATH. Needs root (or sudo)
# and access to the Debian package mirrors; no browser download of its own.
set -euo pipefail

for bin in chromium chromium-browser; do
    if command -v "$bin" >/dev/null 2>&1; then
        echo "chromium present: $(command -v "$bin") ($("$bin" --version 2>/dev/null || echo 'version unknown'))"
        exit 0
    fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-chromium: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium installed: $(command -v chromium) ($(chromium --version 2>/dev/null || true))"
