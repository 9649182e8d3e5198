"""A TCP listener on 127.0.0.1:PORT that forwards each connection to a unix socket (the Docker engine's), so a
test can reach the local engine as DOCKER_HOST=tcp://127.0.0.1:PORT.

Usage: tcp_relay.py PORT SOCKET [--tls CERT KEY CA [--no-client-certificate]] [--accepts FILE]

--tls terminates TLS with CERT and KEY and requires a client certificate signed by CA, as dockerd --tlsverify does;
with --no-client-certificate it asks for none, as dockerd --tls does.
--accepts appends a line to FILE for each TCP connection accepted (before any handshake), so a test can count them."""
import argparse
import select
import socket
import ssl
import threading

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("target")
parser.add_argument("--tls", nargs=3, metavar=("CERT", "KEY", "CA"))
parser.add_argument("--no-client-certificate", action="store_true")
parser.add_argument("--accepts")
options = parser.parse_args()

context = None
if options.tls:
    certificate, key, authority = options.tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    context.load_verify_locations(authority)
    context.verify_mode = ssl.CERT_NONE if options.no_client_certificate else ssl.CERT_REQUIRED

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", options.port))
server.listen(64)


def relay(client, upstream):
    """Copies both ways on one thread (an SSL socket must not be read and written from two threads at once) until
    either side ends; TLS cannot be half-closed, so the first end closes both."""
    peer = {client: upstream, upstream: client}
    while True:
        ready = [client] if isinstance(client, ssl.SSLSocket) and client.pending() else []
        if not ready:
            ready, _, _ = select.select([client, upstream], [], [])
        for source in ready:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                return
            try:
                peer[source].sendall(data)
            except OSError:
                return


def handle(connection):
    client = connection
    upstream = socket.socket(socket.AF_UNIX)
    try:
        if context:
            # The handshake happens here, on the connection's thread, so a client that fails it never blocks accept.
            connection.settimeout(10)
            client = context.wrap_socket(connection, server_side=True)
            client.settimeout(None)
        upstream.connect(options.target)
        relay(client, upstream)
    except OSError:
        pass
    finally:
        if isinstance(client, ssl.SSLSocket):
            try:
                client.settimeout(1)
                client.unwrap()
            except (OSError, ValueError):
                pass
        client.close()
        upstream.close()


while True:
    accepted, _ = server.accept()
    if options.accepts:
        with open(options.accepts, "a") as log:
            log.write("accepted\n")
    threading.Thread(target=handle, args=(accepted,), daemon=True).start()
