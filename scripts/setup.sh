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
command -v cmark >/dev/null || need+=(cmark)  # the CommonMark renderer the output sanitizer tests read the report through
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
# The redis probe's consumption tests run a real Celery worker (Debian's, with kombu's Redis transport).
command -v celery >/dev/null || need+=(celery python3-celery)
/usr/bin/python3 -c 'import redis' 2>/dev/null || need+=(python3-redis)
# The ssh engine tests start a real OpenSSH server on loopback (their own config and throwaway keys, stopped by pid).
[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || need+=(openssh-server)
# The real consumers of the output formats, which the tests call: promtool (Debian ships it in prometheus), xmllint.
# The real consumers of the output formats, which the tests call: promtool (Debian ships it in prometheus), xmllint,
# and python3's jsonschema for the published JSON Schemas (docs/schemas/validate.py).
command -v promtool >/dev/null || need+=(prometheus)
command -v xmllint >/dev/null || need+=(libxml2-utils)
python3 -c 'import jsonschema' >/dev/null 2>&1 || need+=(python3-jsonschema)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
    # Only promtool is wanted: the package's server would hold port 9090, which the lab's Prometheus publishes.
    if [[ " ${need[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    # Nor the package's sshd on port 22: the tests start their own.
    if [[ " ${need[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null; then
        systemctl disable --now ssh >/dev/null 2>&1 || true
    fi
fi
if ! command -v docker-compose >/dev/null || ! command -v dockerd >/dev/null; then
    echo "setup: installing docker.io and docker-compose" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose docker.io >/dev/null
fi

# Compose v2 beside v1: Debian bookworm packages only v1 (the lab and the tests drive both). Debian trixie's
# docker-compose 2.x package is one static binary (libc6 >= 2.34): its .deb is downloaded from trixie for a moment,
# pinned so that nothing else can move, and only the binary is unpacked into the docker CLI's plugin folder.
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
if ! [ -x "$plugin" ] || ! "$plugin" version >/dev/null 2>&1; then
    echo "setup: installing compose v2 (the docker CLI plugin) from Debian trixie's docker-compose package" >&2
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    list=/etc/apt/sources.list.d/diagnose-trixie.sources pin=/etc/apt/preferences.d/diagnose-trixie
    work=$(mktemp -d) && chmod 0755 "$work"  # apt's download user must be able to write there
    trap 'rm -rf "$work" "$list" "$pin"' EXIT
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "${mirror:-http://deb.debian.org/debian}" >"$list"
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >"$pin"
    apt-get update -q -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
    (cd "$work" && apt-get download -q docker-compose/trixie >/dev/null)
    dpkg -x "$work"/docker-compose_*.deb "$work/root"
    install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
    rm -rf "$work" "$list" "$pin"
    trap - EXIT
fi
echo "setup: compose v1 $(docker-compose version --short 2>/dev/null || echo missing), v2 $(docker compose version --short 2>/dev/null || echo missing)" >&2

scripts/start-docker.sh
