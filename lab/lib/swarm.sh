# The Swarm lab: `lab/lab --swarm up|heal|down|status|faults|fault NAME` (lab/README.md, "The Swarm lab").
# Sourced by lab/lab, whose helpers it reuses and partly redefines (cid, dump_state, restart_worker). The stack runs
# on a single-node Swarm of a SECOND Docker engine (its own data root, exec root, socket and pidfile): `swarm init`
# on the engine that runs the compose lab breaks the compose lab's published ports.
# shellcheck shell=bash

SWARM_SOCK=/var/run/docker-swarm.sock
SWARM_HOST="unix://$SWARM_SOCK"
SWARM_PIDFILE=/var/run/docker-swarm.pid
SWARM_DATA=/var/lib/docker-swarm
SWARM_EXEC=/var/run/docker-swarm
SWARM_TEMPLATE="$LAB_DIR/stack-swarm/docker-compose.yml"
SWARM_RUN="$LAB_DIR/run-swarm"
SWARM_CACHE="$CACHE/swarm"
SWARM_SERVICES=(redis jaeger backend worker prometheus frontend)
SWARM_IMAGES=(redis jaeger backend prometheus frontend)  # what the services run (python is only a parent)
# The compose lab's ports (the runbooks' defaults), unless DIAGNOSE_LAB_SWARM_PORT_OFFSET moves every published port
# up by that much: then the Swarm lab runs beside a compose lab, and diagnose needs BACKEND_PUBLIC_URL and the others.
SWARM_PORT_OFFSET=${DIAGNOSE_LAB_SWARM_PORT_OFFSET:-0}
[[ "$SWARM_PORT_OFFSET" =~ ^[0-9]{1,5}$ ]] && [ "$SWARM_PORT_OFFSET" -le 40000 ] \
  || die "DIAGNOSE_LAB_SWARM_PORT_OFFSET must be a number from 0 to 40000, not '$SWARM_PORT_OFFSET'"
shifted() { echo $(( $1 + SWARM_PORT_OFFSET )); }
SWARM_PORTS=("$(shifted 8050)" "$(shifted 8501)" "$(shifted 9090)" "$(shifted 16686)")
BACKEND=http://127.0.0.1:$(shifted 8050)
FRONTEND=http://127.0.0.1:$(shifted 8501)
PROMETHEUS=http://127.0.0.1:$(shifted 9090)
JAEGER=http://127.0.0.1:$(shifted 16686)

# The shared helpers (state, redis_cli, frontend_call, logs_since, ...) call `docker`: here it is the second engine.
# The first engine is reached only through `first`, and the Swarm itself only through `sd`, which names its socket.
export DOCKER_HOST="$SWARM_HOST"
unset DOCKER_CONTEXT
first() { env -u DOCKER_HOST docker "$@"; }
sd() { command docker -H "$SWARM_HOST" "$@"; }
first_answers() { first info >/dev/null 2>&1; }
swarm_answers() { timeout 10 docker -H "$SWARM_HOST" info >/dev/null 2>&1; }

# ---------------------------------------------------------------- probes (redefined for Swarm tasks)
task_containers() {  # SERVICE [docker ps filter...]: the service's task containers, newest first
  local service=$1; shift
  sd ps -aq --filter "label=com.docker.stack.namespace=$PROJECT" \
    --filter "label=com.docker.swarm.service.name=${PROJECT}_$service" "$@" 2>/dev/null || true
}
cid() {  # the running task container of a service, else its newest one
  local c; c=$(task_containers "$1" --filter status=running | head -n1)
  [ -n "$c" ] || c=$(task_containers "$1" | head -n1)
  echo "$c"
}
no_container_running() { [ -z "$(task_containers "$1" --filter status=running)" ]; }
dump_state() {
  sd stack ps "$PROJECT" --no-trunc --format '  {{.Name}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}' 2>/dev/null \
    | head -n 30 >&2 || true
}
# The tasks the orchestrator wants running (desired running, or ready: waiting out the restart delay), as
# "STATE|ERROR" lines (STATE: Running, Pending, Rejected, ...).
live_tasks() {
  sd service ps --no-trunc --filter desired-state=running --filter desired-state=ready \
    --format '{{.CurrentState}}|{{.Error}}' "${PROJECT}_$1" 2>/dev/null || true
}
all_tasks() { sd service ps --no-trunc --format '{{.CurrentState}}|{{.Error}}' "${PROJECT}_$1" 2>/dev/null || true; }
live_task_is() { live_tasks "$1" | grep -E "^$2" | grep -qF -- "$3"; }  # SERVICE STATE ERROR_TEXT
some_task_is() { all_tasks "$1" | grep -E "^$2" | grep -qF -- "$3"; }
replicas_wanted() { sd service inspect -f '{{.Spec.Mode.Replicated.Replicas}}' "${PROJECT}_$1" 2>/dev/null || true; }
update_state() { sd service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "${PROJECT}_$1" 2>/dev/null || true; }
service_logs_have() {  # SERVICE SINCE TEXT: the logs of all its tasks since SINCE (unix seconds)
  sd service logs --raw --since "$2" "${PROJECT}_$1" 2>&1 | grep -F -- "$3" >/dev/null
}
stack_exists() { [ -n "$(sd service ls -q --filter "label=com.docker.stack.namespace=$PROJECT" 2>/dev/null)" ]; }
stack_converged() {  # every service runs exactly one task, no update under way
  local tasks s
  tasks=$(sd stack ps "$PROJECT" --filter desired-state=running --format '{{.Name}} {{.CurrentState}}' 2>/dev/null) || return 1
  for s in "${SWARM_SERVICES[@]}"; do
    [ "$(grep -c "^${PROJECT}_$s\.1 " <<<"$tasks")" = 1 ] || return 1
    grep -q "^${PROJECT}_$s\.1 Running" <<<"$tasks" || return 1
    case "$(update_state "$s")" in ''|completed|rollback_completed) ;; *) return 1 ;; esac
  done
}
stack_gone() { [ -z "$(sd ps -aq --filter "label=com.docker.stack.namespace=$PROJECT")" ] \
                 && ! sd network inspect "${PROJECT}_default" >/dev/null 2>&1; }

restart_worker() {
  sd service update --detach --force "${PROJECT}_worker" >"$SWARM_CACHE/service-update.log" 2>&1 \
    || { cat "$SWARM_CACHE/service-update.log" >&2; die "docker service update --force ${PROJECT}_worker failed"; }
  sleep 1
  wait_until "the worker's new task to run" 60 stack_converged
}

# ---------------------------------------------------------------- the second engine
swarm_engine_pid() {  # the second engine's dockerd, from its pidfile (never a process found by name)
  local pid
  pid=$(cat "$SWARM_PIDFILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-H $SWARM_HOST" || return 1
  echo "$pid"
}
process_gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

ensure_swarm_engine() {
  if ! swarm_answers; then
    command -v dockerd >/dev/null || die "dockerd is not installed"
    if ! swarm_engine_pid >/dev/null; then
      mkdir -p "$SWARM_DATA" "$SWARM_EXEC" "$SWARM_CACHE"
      log "starting the second engine: dockerd on $SWARM_SOCK, data in $SWARM_DATA (log $SWARM_CACHE/dockerd.log)"
      # exec: no shell stays behind waiting for it. Without the lock descriptors and the caller's stdout and stderr:
      # a daemon that inherited them would hold the lab's locks, and a pipe reading this script, for ever.
      (cd / && exec nohup setsid dockerd --data-root "$SWARM_DATA" --exec-root "$SWARM_EXEC" \
         --pidfile "$SWARM_PIDFILE" -H "$SWARM_HOST" --iptables=false --bridge=none) \
        >>"$SWARM_CACHE/dockerd.log" 2>&1 </dev/null 8>&- 9>&- &
    fi
    wait_until "the second engine to answer on $SWARM_SOCK (log: $SWARM_CACHE/dockerd.log)" 60 swarm_answers
  fi
  # Never the first engine: swarm init there breaks the compose lab.
  local root; root=$(sd info -f '{{.DockerRootDir}}' 2>/dev/null || true)
  [ "$root" = "$SWARM_DATA" ] || die "the engine on $SWARM_SOCK keeps its data in '$root', not $SWARM_DATA: not the lab's second engine"
}

stop_swarm_engine() {
  local pid cpid
  pid=$(swarm_engine_pid) || { log "the second engine is not running"; return 0; }
  cpid=$(cat "$SWARM_EXEC/containerd/containerd.pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || true
  if ! poll 30 process_gone "$pid"; then
    log "the second engine (pid $pid) did not stop within 30s of TERM: KILL"
    kill -KILL "$pid" 2>/dev/null || true
    poll 10 process_gone "$pid" || die "the second engine (pid $pid) survived KILL"
  fi
  # Its own containerd (started by it, under its exec root) stops with it; if it was killed, stop that one too.
  if [[ "$cpid" =~ ^[0-9]+$ ]] && ! process_gone "$cpid" \
       && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -qF -- "$SWARM_EXEC/"; then
    kill -TERM "$cpid" 2>/dev/null || true
    poll 10 process_gone "$cpid" || kill -KILL "$cpid" 2>/dev/null || true
  fi
}

ensure_swarm() {  # a single-node Swarm, this engine its manager
  local st; st=$(sd info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null || true)
  case "$st" in
    "active true") return 0 ;;
    inactive*) ;;
    *) log "the second engine's Swarm state is '$st': leaving it first"; sd swarm leave --force >/dev/null 2>&1 || true ;;
  esac
  sd swarm init --advertise-addr 127.0.0.1 >"$SWARM_CACHE/swarm-init.log" 2>&1 \
    || { cat "$SWARM_CACHE/swarm-init.log" >&2; die "docker swarm init on the second engine failed"; }
  log "swarm initialised on the second engine (single node, 127.0.0.1)"
}

# ---------------------------------------------------------------- ports and images
# The compose lab publishes the same ports on the first engine; Swarm binds them on 0.0.0.0.
check_ports() {
  local held=""
  if first_answers; then
    held=$(first ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Ports}}' 2>/dev/null \
             | grep -E ":($(IFS='|'; echo "${SWARM_PORTS[*]}"))->" || true)
  fi
  [ -z "$held" ] || die "the compose lab (first engine) holds the lab's ports (${SWARM_PORTS[*]}): run 'lab/lab down' first
$held"
  swarm_answers && stack_exists && return 0  # the stack's own tasks hold them
  local p line
  for p in "${SWARM_PORTS[@]}"; do
    line=$(ss -ltnpH "sport = :$p" 2>/dev/null || true)
    [ -z "$line" ] || die "port $p, which the Swarm lab publishes, is in use: $line"
  done
}

image_parent() { local e; for e in "${IMAGE_ORDER[@]}"; do [ "${e%%:*}" = "$1" ] && echo "${e#*:}"; done; }
stale_swarm_images() {  # the lab images the second engine lacks, or has from other sources
  local name
  for name in "${SWARM_IMAGES[@]}"; do
    [ "$(sd image inspect -f '{{index .Config.Labels "diagnose-lab.hash"}}' "diagnose-lab-$name:latest" 2>/dev/null)" \
        = "$(image_hash "$name" "$(image_parent "$name")")" ] || echo "$name"
  done
}

IMAGES_CHANGED=no
ensure_swarm_images() {
  local stale refs=() name
  mapfile -t stale < <(stale_swarm_images)
  [ ${#stale[@]} -gt 0 ] || return 0
  for name in "${stale[@]}"; do refs+=("diagnose-lab-$name:latest"); done
  if first_answers; then
    log "images ${stale[*]}: built on the first engine where missing (lab/lab's ensure_images), then copied over"
    (
      unset DOCKER_HOST
      exec 8>"$CACHE/lock"  # the compose lab's lock, for the build only
      flock -w 300 8 || die "another lab/lab command holds $CACHE/lock for 300s"
      ensure_images
    )
    local t; t=$(date +%s.%N)
    # One save for all: the layers they share travel once.
    first save "${refs[@]}" | sd load >"$SWARM_CACHE/image-load.log" 2>&1 \
      || { cat "$SWARM_CACHE/image-load.log" >&2; die "docker save | docker load of ${refs[*]} failed"; }
    log "copied ${refs[*]} to the second engine in $(elapsed "$t")"
  else
    # Starting the first engine would restart the compose lab's containers (restart: unless-stopped) on its ports.
    log "the first engine is not running: building ${stale[*]} on the second engine instead"
    (export DOCKER_HOST="$SWARM_HOST"; ensure_images)
  fi
  mapfile -t stale < <(stale_swarm_images)
  [ ${#stale[@]} -eq 0 ] || die "the second engine still lacks the current images of: ${stale[*]}"
  IMAGES_CHANGED=yes
}

# ---------------------------------------------------------------- run dir and deploy
sync_swarm_run_dir() {  # lab/run-swarm/ := the templates
  mkdir -p "$SWARM_RUN" "$SWARM_CACHE"
  if [ "$SWARM_PORT_OFFSET" = 0 ]; then
    cp "$SWARM_TEMPLATE" "$SWARM_RUN/docker-compose.yml"
  else
    python3 -c 'import re, sys
text = open(sys.argv[1]).read()
sys.stdout.write(re.sub(r"published: (\d+)", lambda m: "published: %d" % (int(m.group(1)) + int(sys.argv[2])), text))' \
      "$SWARM_TEMPLATE" "$SWARM_PORT_OFFSET" >"$SWARM_RUN/docker-compose.yml"
  fi
  cp "$STACK/env" "$SWARM_RUN/.env"
  cp "$STACK/prometheus.yml" "$SWARM_RUN/prometheus.yml"
  rm -f "$SWARM_CACHE/current-fault"
}

# docker stack reads no .env (the stack file takes its variables with env_file), and substitutes any ${VAR} from the
# CLI's environment: the caller's GEMINI_API_KEY and the like are kept out of it.
stack_deploy() {
  (cd "$SWARM_RUN" && env -u GEMINI_API_KEY -u GEMINI_MODEL -u LAB_UNSET_VAR -u REDIS_URL -u APP_ENV \
     timeout 180 docker -H "$SWARM_HOST" stack deploy --detach=true --prune --resolve-image never \
     -c docker-compose.yml "$PROJECT") >"$SWARM_CACHE/stack-deploy.log" 2>&1 \
    || { cat "$SWARM_CACHE/stack-deploy.log" >&2; die "docker stack deploy failed"; }
}

swarm_wait_healthy() {
  # An update starts a moment after the spec changed: give it that moment before asking whether it is done.
  sleep 1
  wait_until "every service of the stack to run its one task (docker stack ps $PROJECT)" 150 stack_converged
  wait_healthy
  wait_until "frontend $FRONTEND/_stcore/health to answer ok" 30 body_has "$FRONTEND/_stcore/health" ok
  wait_until "backend $BACKEND/health to return 200" 30 code_is "$BACKEND/health" 200
}

swarm_heal() {
  check_ports
  ensure_swarm_engine
  ensure_swarm
  sync_swarm_run_dir
  if [ "$IMAGES_CHANGED" = yes ] && stack_exists; then
    # The services name the images by tag: a spec that did not change would keep the old image's tasks.
    log "images changed: removing the deployed stack so every task starts from them"
    sd stack rm "$PROJECT" >/dev/null
    wait_until "the old stack's tasks and network to go" 90 stack_gone
  fi
  stack_deploy
  reset_images
  swarm_wait_healthy
}

# `docker stack deploy` keeps a service's image when the file names the same one as at the last deploy (the
# com.docker.stack.image label): a `docker service update --image` survives a redeploy. Put the file's image back.
reset_images() {
  local s want have
  for s in "${SWARM_SERVICES[@]}"; do
    want=$(sd service inspect -f '{{index .Spec.Labels "com.docker.stack.image"}}' "${PROJECT}_$s" 2>/dev/null || true)
    have=$(sd service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "${PROJECT}_$s" 2>/dev/null || true)
    [ -n "$want" ] && [ "$want" != "$have" ] || continue
    log "$s runs image $have, the stack file says $want: docker service update --image $want"
    service_change update --detach --no-resolve-image --image "$want" "${PROJECT}_$s"
  done
}

# ---------------------------------------------------------------- commands
swarm_up() {
  check_ports
  ensure_swarm_engine
  ensure_swarm_images
  swarm_heal
  # The lab's own superseded images, once no task uses them; nothing else.
  [ "$IMAGES_CHANGED" = no ] || sd image prune -f --filter label=diagnose-lab.hash >/dev/null 2>&1 || true
  log "up: stack $PROJECT healthy on the Swarm of $SWARM_SOCK after $(elapsed "$T0")"
}

swarm_cmd_heal() {
  [ -d "$SWARM_RUN" ] || die "lab/run-swarm/ does not exist: run 'lab/lab --swarm up' first"
  swarm_heal
  log "heal: stack $PROJECT healthy after $(elapsed "$T0")"
}

swarm_down() {
  if swarm_answers; then
    if stack_exists; then
      sd stack rm "$PROJECT" >"$SWARM_CACHE/stack-rm.log" 2>&1 \
        || { cat "$SWARM_CACHE/stack-rm.log" >&2; die "docker stack rm $PROJECT failed"; }
      wait_until "the stack's tasks and network to go" 90 stack_gone
    fi
    if [ "$(sd info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != inactive ]; then
      sd swarm leave --force >"$SWARM_CACHE/swarm-leave.log" 2>&1 \
        || { cat "$SWARM_CACHE/swarm-leave.log" >&2; die "docker swarm leave --force failed"; }
    fi
  fi
  stop_swarm_engine
  rm -rf "$SWARM_RUN"
  rm -f "$SWARM_CACHE/current-fault"
  log "down: stack removed, swarm left, second engine stopped after $(elapsed "$T0")"
}

swarm_status() {
  local pid; pid=$(swarm_engine_pid || true)
  if ! swarm_answers; then
    echo "second engine: not running${pid:+ (pid $pid does not answer)}   run dir: $([ -d "$SWARM_RUN" ] && echo "$SWARM_RUN" || echo absent)"
    return 0
  fi
  echo "second engine: pid ${pid:-?} on $SWARM_SOCK   swarm: $(sd info -f '{{.Swarm.LocalNodeState}}')   stack: $PROJECT   run dir: $([ -d "$SWARM_RUN" ] && echo "$SWARM_RUN" || echo absent)   fault: $(cat "$SWARM_CACHE/current-fault" 2>/dev/null || echo none)"
  stack_exists || { echo "  stack $PROJECT: not deployed"; return 0; }
  sd stack services "$PROJECT" --format '  {{.Name}}\t{{.Replicas}}\t{{.Image}}' | sort
  echo "  tasks the orchestrator wants running, then each service's latest other task:"
  local s
  for s in "${SWARM_SERVICES[@]}"; do
    sd service ps --no-trunc --filter desired-state=running --filter desired-state=ready \
      --format '    {{.Name}}\t{{.CurrentState}}\t{{.Error}}' "${PROJECT}_$s" 2>/dev/null || true
    sd service ps --no-trunc --filter desired-state=shutdown \
      --format '    {{.Name}}\t{{.CurrentState}} (shut down)\t{{.Error}}' "${PROJECT}_$s" 2>/dev/null | head -n1 || true
  done
  printf '  backend /health %s  /ready %s  frontend /_stcore/health %s  prometheus %s  jaeger %s  LLEN celery %s\n' \
    "$(http_code "$BACKEND/health")" "$(http_code "$BACKEND/ready")" "$(http_code "$FRONTEND/_stcore/health")" \
    "$(http_code "$PROMETHEUS/-/ready")" "$(http_code "$JAEGER/")" \
    "$(running redis && redis_cli llen celery || echo -)"
}

SWARM_FAULTS=(
  "worker-unplaceable|worker constrained to node.labels.diagnose-lab-zone==nowhere: its task Pending, 'no suitable node'"
  "worker-scaled-zero|docker service scale diagnose-lab_worker=0: 0/0 replicas, no worker container"
  "worker-failing|worker's args name a Celery app module that does not exist: 'Unable to load celery application', tasks failed with exit 2"
  "backend-image-missing|backend's image set to diagnose-lab-backend:missing: its task Rejected 'No such image', no backend runs"
  "redis-scaled-zero|docker service scale diagnose-lab_redis=0: no redis task, backend /ready 503"
)

swarm_faults() {
  local f
  for f in "${SWARM_FAULTS[@]}"; do printf '%-22s %s\n' "${f%%|*}" "${f#*|}"; done
}

service_change() {  # docker service ARGS..., without waiting for the service to converge
  sd service "$@" >"$SWARM_CACHE/service-fault.log" 2>&1 \
    || { cat "$SWARM_CACHE/service-fault.log" >&2; die "docker service $* failed"; }
}

swarm_fault() {
  local name=${1:-} f known=no
  [ -n "$name" ] || die "usage: lab/lab --swarm fault NAME (see lab/lab --swarm faults)"
  for f in "${SWARM_FAULTS[@]}"; do [ "${f%%|*}" = "$name" ] && known=yes; done
  [ "$known" = yes ] || die "unknown Swarm fault '$name' (see lab/lab --swarm faults)"
  [ -d "$SWARM_RUN" ] || die "lab/run-swarm/ does not exist: run 'lab/lab --swarm up' first"
  swarm_heal
  local t1 since
  t1=$(date +%s.%N); since=$(date +%s)
  log "healthy after $(elapsed "$T0"); injecting $name"
  case "$name" in
    worker-unplaceable)
      service_change update --detach --constraint-add node.labels.diagnose-lab-zone==nowhere "${PROJECT}_worker"
      wait_until "a worker task Pending with 'no suitable node'" 40 live_task_is worker Pending "no suitable node"
      wait_until "no worker container running" 40 no_container_running worker
      ;;
    worker-scaled-zero)
      service_change scale --detach "${PROJECT}_worker=0"
      wait_until "the worker service to want 0 replicas" 20 eval '[ "$(replicas_wanted worker)" = 0 ]'
      wait_until "no worker container running" 40 no_container_running worker
      wait_until "no worker task the orchestrator wants running" 20 eval '[ -z "$(live_tasks worker)" ]'
      ;;
    worker-failing)
      service_change update --detach \
        --args "python -m celery -A app.workers.nonexistent_module.celery worker --loglevel=info --concurrency=1" \
        "${PROJECT}_worker"
      wait_until "the worker's log to say 'Unable to load celery application'" 60 \
        service_logs_have worker "$since" "Unable to load celery application"
      wait_until "the worker's log to show the ModuleNotFoundError" 30 service_logs_have worker "$since" "ModuleNotFoundError"
      wait_until "a worker task Failed with 'task: non-zero exit (2)'" 60 some_task_is worker Failed "task: non-zero exit (2)"
      ;;
    backend-image-missing)
      service_change update --detach --no-resolve-image --image diagnose-lab-backend:missing "${PROJECT}_backend"
      wait_until "a backend task Rejected with 'No such image'" 60 some_task_is backend Rejected "No such image"
      wait_until "no backend container running" 40 no_container_running backend
      wait_until "127.0.0.1:8050 to refuse connections" 20 code_is "$BACKEND/health" 000
      ;;
    redis-scaled-zero)
      service_change scale --detach "${PROJECT}_redis=0"
      wait_until "the redis service to want 0 replicas" 20 eval '[ "$(replicas_wanted redis)" = 0 ]'
      wait_until "no redis container running" 40 no_container_running redis
      wait_until "backend /ready to return 503" 40 code_is "$BACKEND/ready" 503
      ;;
  esac
  echo "$name" >"$SWARM_CACHE/current-fault"
  log "fault $name in place: injected in $(elapsed "$t1") (total $(elapsed "$T0"))"
}

swarm_lock() {  # one mutating Swarm lab command at a time (the compose lab has its own lock)
  mkdir -p "$SWARM_CACHE"
  exec 9>"$SWARM_CACHE/lock"
  flock -w 300 9 || die "another lab/lab --swarm command holds $SWARM_CACHE/lock for 300s"
}

swarm_main() {
  local cmd=${1:-}
  case "$cmd" in up|heal|down|fault) swarm_lock ;; esac
  case "$cmd" in
    up) swarm_up ;;
    heal) swarm_cmd_heal ;;
    down) swarm_down ;;
    status) swarm_status ;;
    faults) swarm_faults ;;
    fault) shift; swarm_fault "${1:-}" ;;
    *) echo "usage: lab/lab --swarm up|heal|down|status|faults|fault NAME" >&2; exit 2 ;;
  esac
}
