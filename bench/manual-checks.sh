#!/usr/bin/env bash
# The seed's manual checks, one after another, as an on-call would type them in the stack's folder.
# Baseline for `diagnose --all` (bench/run, figure "manual"). Prints one line per check; never stops early.
# Usage: bench/manual-checks.sh [BACKEND_URL]   (run in the folder of docker-compose.yml)
set -u
backend=${1:-http://localhost:8050}
checks=0 failed=0
check() {  # NAME COMMAND...: runs it through bash, reports ok/FAIL
  local name=$1; shift
  checks=$((checks + 1))
  if bash -c "$*" >/dev/null 2>&1; then echo "ok   $name"; else echo "FAIL $name"; failed=$((failed + 1)); fi
}
check "redis answers PING"          "docker-compose exec -T redis redis-cli ping | grep -qx PONG"
check "backend /health answers 200" "curl -fsS -m 5 $backend/health"
check "backend /ready answers 200"  "curl -fsS -m 5 $backend/ready"
check "compose config resolves"     "docker-compose config -q"
check "every service is Up"         "! docker-compose ps | tail -n +3 | grep -v ' Up '"
check "backend logs: no import error" "! docker-compose logs backend | grep -E 'ModuleNotFoundError|ImportError|Error loading ASGI app'"
check "worker logs: no import error"  "! docker-compose logs worker | grep -E 'ModuleNotFoundError|ImportError|Unable to load celery application'"
echo "$checks checks, $failed failed"
