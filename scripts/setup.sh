#!/usr/bin/env bash
# Installs what diagnose's build, tests and lab need on a fresh Debian machine, and starts the Docker engine.
# Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v curl-config >/dev/null || need+=(libcurl4-openssl-dev)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
if ! command -v docker-compose >/dev/null || ! command -v dockerd >/dev/null; then
    echo "setup: installing docker.io and docker-compose" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose docker.io >/dev/null
fi

scripts/start-docker.sh
