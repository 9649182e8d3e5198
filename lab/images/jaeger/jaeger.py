"""Stand-in for Jaeger all-in-one (Jaeger is not packaged in Debian).

UI/query port 16686: GET / -> 200 small HTML page, GET /api/services -> JSON in
Jaeger's shape. UDP 6831 (agent, compact thrift): datagrams are counted and dropped.
"""
import json
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPANS = {"datagrams": 0}


def udp_sink():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 6831))
    while True:
        sock.recv(65535)
        SPANS["datagrams"] += 1


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body, ctype):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/api/services"):
            body = {"data": ["jaeger-query"], "total": 1, "limit": 0, "offset": 0, "errors": None}
            return self._send(200, json.dumps(body), "application/json")
        if self.path == "/" or self.path.startswith("/search"):
            return self._send(200, "<!doctype html><title>Jaeger UI (diagnose-lab stand-in)</title>"
                              f"<p>Jaeger stand-in. UDP datagrams received: {SPANS['datagrams']}</p>",
                              "text/html; charset=utf-8")
        return self._send(404, "404 page not found\n", "text/plain; charset=utf-8")

    def log_message(self, fmt, *args):
        pass


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=udp_sink, daemon=True).start()
    server = ThreadingHTTPServer(("0.0.0.0", 16686), Handler)
    server.daemon_threads = True
    print("jaeger stand-in: query UI on :16686, agent UDP on :6831", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
