"""A real HTTPS server on loopback that poses as "media.test", for fetching users' links.

A throwaway CA and certificates, a threaded server with routes that misbehave in the ways a
hostile or broken host does, and `Local`, which fetches from it with an injected resolver and
the test-only allowance for its loopback address. Tests import the fixtures they use.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generations.jobs.urlfetch import fetch


def answers(*addresses: str, port: int = 443) -> list[tuple]:
    """getaddrinfo's answer for these addresses."""
    result = []
    for address in addresses:
        if ":" in address:
            result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
        else:
            result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
    return result


# -- a local HTTPS server ------------------------------------------------------------------


@dataclass
class TLSFiles:
    ca_pem: str
    chains: dict[str, tuple[str, str]]  # host name -> (certificate file, key file)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> TLSFiles:
    """A throwaway CA and certificates from it for media.test and other.test."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ltxweb test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    chains = {}
    for name in ("media.test", "other.test"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        chains[name] = (str(cert_file), str(key_file))
    return TLSFiles(ca_cert.public_bytes(serialization.Encoding.PEM).decode(), chains)


PHOTO = bytes(range(256)) * 400  # 102,400 bytes
SECRET_BODY = b"<html>secret-body-text</html>"


@dataclass
class Seen:
    path: str
    host_header: str
    local_address: str


class MediaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):
        server: MediaServer = self.server
        server.seen.append(Seen(self.path, self.headers["Host"], self.connection.getsockname()[0]))
        if self.path.split("?")[0] in server.files:
            content_type, data = server.files[self.path.split("?")[0]]
            headers = {"Content-Type": content_type, "Content-Length": str(len(data))}
            with contextlib.suppress(OSError):
                self.answer(200, headers, data)
            return
        route = getattr(self, "route_" + self.path.split("?")[0].strip("/").replace("-", "_"))
        with contextlib.suppress(OSError):  # the client hung up, as it should on most routes
            route()

    def send_body(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        self.server.sent[self.path] = self.server.sent.get(self.path, 0) + len(data)

    def answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.send_body(body)

    def route_photo(self):
        self.answer(200, {"Content-Type": "image/png", "Content-Length": str(len(PHOTO))}, PHOTO)

    def route_moved(self):
        self.answer(301, {"Location": "https://media.test/photo", "Content-Length": "0"})

    def route_found(self):
        self.answer(302, {"Location": "https://elsewhere.test/photo", "Content-Length": "0"})

    def route_missing(self):
        headers = {"Content-Type": "text/html", "Content-Length": str(len(SECRET_BODY))}
        self.answer(404, headers, SECRET_BODY)

    def route_huge(self):
        # No Content-Length: the body ends when the connection does, 64 MB later.
        self.close_connection = True
        self.answer(200, {"Content-Type": "image/png", "Connection": "close"})
        for _ in range(1024):
            self.send_body(b"x" * 65536)

    def route_huge_length(self):
        # Announce a billion bytes, then wait for the client to hang up without sending any.
        self.answer(200, {"Content-Type": "video/mp4", "Content-Length": str(10**9)})
        self.connection.settimeout(5)
        self.connection.recv(1)

    def route_chunked(self):
        # An endless chunked body.
        self.close_connection = True
        self.answer(200, {"Content-Type": "audio/mpeg", "Transfer-Encoding": "chunked"})
        chunk = b"y" * 16384
        while True:
            self.send_body(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def route_drip(self):
        # A byte every 20 ms: no single read ever waits long, the whole never ends in time.
        self.close_connection = True
        self.answer(200, {"Content-Type": "image/png", "Content-Length": "100000"})
        while True:
            self.send_body(b"z")
            time.sleep(0.02)

    def route_short(self):
        # Promises more than it sends, then hangs up.
        self.close_connection = True
        self.answer(200, {"Content-Type": "image/png", "Content-Length": "1000"}, b"only ten b")


class MediaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, cert: tuple[str, str]):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), MediaHandler)
        self.host = host
        self.port = self.server_address[1]
        self.seen: list[Seen] = []
        self.sent: dict[str, int] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # path -> (content type, body)
        self.sni: list[str | None] = []
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(*cert)
        self.context.sni_callback = lambda sock, name, context: self.sni.append(name)

    def finish_request(self, request, client_address):
        # Small send buffers, so that what `sent` counts is close to what the client read.
        request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:
            return  # the client refused the certificate
        with tls:
            super().finish_request(tls, client_address)

    def handle_error(self, request, client_address):
        pass


@dataclass
class Local:
    """Fetches from a MediaServer as "media.test"."""

    server: MediaServer
    context: ssl.SSLContext
    resolved: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"https://media.test:{self.server.port}{path}"

    def resolver(self, host, port, *args, **kwargs):
        self.resolved.append(host)
        return answers(self.server.host, port=port)

    def serve_file(self, path: str, content_type: str, data: bytes) -> str:
        """Serve `data` at `path`; its https link."""
        self.server.files[path] = (content_type, data)
        return self.url(path)

    def fetch(self, path: str, dest, **kwargs):
        kwargs.setdefault("kind", "image")
        kwargs.setdefault("resolver", self.resolver)
        kwargs.setdefault("_ssl_context", self.context)
        allowed = frozenset({ipaddress.ip_address(self.server.host)})
        return fetch(self.url(path), dest, _allow_addresses=allowed, **kwargs)


@pytest.fixture
def serve(tls_files):
    """Start a MediaServer: `serve(host="127.0.0.1", cert_for="media.test")`."""
    servers = []

    def start(host: str = "127.0.0.1", cert_for: str = "media.test") -> Local:
        server = MediaServer(host, tls_files.chains[cert_for])
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        servers.append(server)
        return Local(server, ssl.create_default_context(cadata=tls_files.ca_pem))

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local(serve) -> Local:
    return serve()
