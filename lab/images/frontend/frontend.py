"""Stand-in for the Streamlit frontend: GET / calls $BACKEND_URL/health.

200 with the backend's answer, or 502 with the error text (e.g.
"[Errno 99] Cannot assign requested address"). GET /_stcore/health -> 200 "ok"
(Streamlit's own health path).
"""
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND_URL = os.getenv("BACKEND_URL", "http://backend:8000").rstrip("/")
DEADLINE = 4.0  # seconds; DNS failures inside compose networks take 10 s


def call_backend():
    result = {}

    def run():
        try:
            with urllib.request.urlopen(BACKEND_URL + "/health", timeout=3) as resp:
                result["ok"] = (resp.status, resp.read().decode())
        except urllib.error.HTTPError as exc:
            result["err"] = f"HTTP {exc.code} from {BACKEND_URL}/health: {exc.read().decode(errors='replace')}"
        except urllib.error.URLError as exc:
            result["err"] = f"{exc.reason}"
        except Exception as exc:  # noqa: BLE001
            result["err"] = f"{type(exc).__name__}: {exc}"

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(DEADLINE)
    if t.is_alive():
        return None, f"timed out after {DEADLINE:.0f}s calling {BACKEND_URL}/health"
    return result.get("ok"), result.get("err")


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/_stcore/health"):
            return self._send(200, "ok")
        if self.path == "/" or self.path.startswith("/?"):
            ok, err = call_backend()
            if ok:
                return self._send(200, json.dumps({"backend_url": BACKEND_URL, "backend": json.loads(ok[1])}),
                                  "application/json")
            print(f"frontend: cannot reach backend at {BACKEND_URL}: {err}", flush=True)
            return self._send(502, f"Cannot reach backend at {BACKEND_URL}: {err}\n")
        return self._send(404, "not found\n")

    def log_message(self, fmt, *args):
        sys.stdout.write("frontend: %s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Streamlit's own variable for its port (`--server.port`), so a fault can move it as it would move Streamlit.
    port = int(os.getenv("STREAMLIT_SERVER_PORT", "8501"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    print(f"frontend stand-in listening on :{port}, BACKEND_URL={BACKEND_URL}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
