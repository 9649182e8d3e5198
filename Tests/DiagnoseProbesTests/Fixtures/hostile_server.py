#!/usr/bin/env python3
"""A misbehaving TCP server for tests of network probes. Listens on loopback only.

Usage: hostile_server.py MODE --port-file PATH [--host 127.0.0.1|::1] [--reply TEXT] [--prefix TEXT]

Modes:
  silent   accept and never answer
  drip     answer with --reply (default +PONG\\r\\n), one byte per second
  endless  answer with --prefix (default nothing), then an endless RESP-looking reply (an array of 10 000 bulk
           strings of 1000 bytes, repeated); with an HTTP head as --prefix it is an endless HTTP body
  random   answer with random bytes, forever
  reset    read the request, then reset the connection (RST)
  abort    reset the connection (RST) right after accepting it, reading nothing
  http     answer like an HTTP server: 400 Bad Request, then close
  resp     answer each read with --reply as given (escapes such as \\r\\n are decoded)
  full     listen with a backlog of 0 and fill it with unaccepted connections, so further SYNs are dropped

The chosen port is written to --port-file once the server is ready. Stop it by killing its pid.
"""
import argparse
import os
import random
import socket
import struct
import threading
import time


def serve(conn, mode, reply, prefix):
    try:
        if mode == "silent":
            while conn.recv(65536):
                pass
        elif mode == "drip":
            conn.recv(65536)
            for byte in reply:
                conn.sendall(bytes([byte]))
                time.sleep(1)
            while conn.recv(65536):
                pass
        elif mode == "endless":
            conn.recv(65536)
            conn.sendall(prefix)
            element = b"$1000\r\n" + b"A" * 1000 + b"\r\n"
            while True:
                conn.sendall(b"*10000\r\n" + element * 10000)
        elif mode == "random":
            conn.recv(65536)
            generator = random.Random(42)
            while True:
                conn.sendall(bytes(generator.getrandbits(8) for _ in range(4096)))
        elif mode == "reset":
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "abort":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif mode == "http":
            conn.recv(65536)
            body = b"<html><body>400 Bad Request</body></html>\n"
            conn.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
        elif mode == "resp":
            while conn.recv(65536):
                conn.sendall(reply)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["silent", "drip", "endless", "random", "reset", "abort", "http", "resp", "full"])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"])
    parser.add_argument("--reply", default="+PONG\\r\\n")
    parser.add_argument("--prefix", default="")
    options = parser.parse_args()
    reply = options.reply.encode().decode("unicode_escape").encode("latin-1")
    prefix = options.prefix.encode().decode("unicode_escape").encode("latin-1")

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((options.host, 0))
    port = listener.getsockname()[1]

    fillers = []
    if options.mode == "full":
        listener.listen(0)
        for _ in range(3):
            filler = socket.socket(family, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect((options.host, port))
            except BlockingIOError:
                pass
            fillers.append(filler)
        time.sleep(0.2)
    else:
        listener.listen(64)

    temporary = options.port_file + ".tmp"
    with open(temporary, "w") as file:
        file.write(str(port))
    os.rename(temporary, options.port_file)

    if options.mode == "full":
        while True:
            time.sleep(3600)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, options.mode, reply, prefix), daemon=True).start()


if __name__ == "__main__":
    main()
