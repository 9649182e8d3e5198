"""Lab backend: shaped like the real stack's FastAPI app (app.main:app).

GET  /health     200 {"status":"ok"} (503/500 if the process cannot write its heartbeat)
GET  /ready      200 {"status":"ready"}; 503 {"detail":"Missing env vars: [...]"} or
                 503 {"detail":"Redis not reachable"}
GET  /metrics    Prometheus text format
POST /tasks/add  enqueue the Celery task `add` (?x=&y=&count=&wait=seconds)
"""
import os
import threading
import time

import redis
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse

app = FastAPI(title="diagnose-lab backend")

REQUIRED_ENV = ["REDIS_URL", "GEMINI_API_KEY"]
HEARTBEAT = "/tmp/backend-heartbeat"
REDIS_TIMEOUT = 2.0  # seconds; /ready must never hang long
_started = time.time()
_counts = {}
_lock = threading.Lock()


def _count(path, code):
    with _lock:
        _counts[(path, code)] = _counts.get((path, code), 0) + 1


def _redis_ping(url):
    """PING with a hard deadline: socket timeouts do not cover DNS, which takes
    10 s to fail for a stopped service on a compose network."""
    result = {}

    def run():
        try:
            client = redis.Redis.from_url(
                url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
            result["ok"] = bool(client.ping())
        except Exception as exc:  # noqa: BLE001 - any failure means not reachable
            result["error"] = f"{type(exc).__name__}: {exc}"

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(REDIS_TIMEOUT + 0.5)
    if t.is_alive():
        return False, "timeout"
    return result.get("ok", False), result.get("error", "")


@app.get("/health")
def health():
    # A real process check: the service writes a heartbeat file. A read-only
    # filesystem (fault backend-unhealthy) makes this fail with a 500.
    try:
        with open(HEARTBEAT, "w") as fh:
            fh.write(str(time.time()))
    except OSError as exc:
        print(f"health: heartbeat write failed: {exc}", flush=True)
        _count("/health", 500)
        raise HTTPException(status_code=500, detail=f"heartbeat write failed: {exc}")
    _count("/health", 200)
    return {"status": "ok"}


@app.get("/ready")
def ready():
    missing = [name for name in REQUIRED_ENV if not os.getenv(name)]
    if missing:
        _count("/ready", 503)
        raise HTTPException(status_code=503, detail=f"Missing env vars: {missing}")
    ok, err = _redis_ping(os.environ["REDIS_URL"])
    if not ok:
        print(f"ready: redis ping failed: {err}", flush=True)
        _count("/ready", 503)
        raise HTTPException(status_code=503, detail="Redis not reachable")
    _count("/ready", 200)
    return {"status": "ready"}


@app.post("/tasks/add")
def enqueue_add(x: int = 1, y: int = 2, count: int = 1, wait: float = 0.0):
    from app.workers.tasks import add

    results = [add.delay(x, y) for _ in range(max(1, min(count, 1000)))]
    body = {"queued": len(results), "ids": [r.id for r in results][:5]}
    if wait > 0:
        try:
            body["result"] = results[-1].get(timeout=min(wait, 10.0))
        except Exception as exc:  # noqa: BLE001
            _count("/tasks/add", 504)
            raise HTTPException(status_code=504, detail=f"task not done: {type(exc).__name__}: {exc}")
    _count("/tasks/add", 200)
    return body


@app.get("/metrics", response_class=PlainTextResponse)
def metrics():
    lines = [
        "# HELP lab_backend_up Always 1 while the backend serves requests.",
        "# TYPE lab_backend_up gauge",
        "lab_backend_up 1",
        "# HELP process_start_time_seconds Start time of the process since unix epoch.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {_started:.3f}",
        "# HELP http_requests_total Requests served, by path and status code.",
        "# TYPE http_requests_total counter",
    ]
    with _lock:
        for (path, code), n in sorted(_counts.items()):
            lines.append(f'http_requests_total{{path="{path}",code="{code}"}} {n}')
    return "\n".join(lines) + "\n"
