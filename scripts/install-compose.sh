#!/usr/bin/env bash
# Install a compose binary from Debian's packages so `make test` can validate docker-compose.yml
# (`docker-compose config` needs no Docker engine). Idempotent: does nothing when `docker compose`
# (v2 plugin) or `docker-compose` is already there. Needs root (or sudo) and the Debian mirrors.
set -euo pipefail

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    echo "compose present: $(docker compose version)"
    exit 0
fi
if command -v docker-compose >/dev/null 2>&1; then
    echo "compose present: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-compose: need root (or sudo) to apt-get install docker-compose" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
echo "compose installed: $(docker-compose --version)"
