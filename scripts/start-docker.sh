#!/usr/bin/env bash
# Starts the Docker engine when it is not running, and waits (at most 30 s) until it answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
echo "setup: starting dockerd" >&2
nohup setsid dockerd --iptables=false --bridge=none >/var/log/dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 0.5
done
echo "setup: dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
exit 1
