"""Fetch a file from an https link a user gave, under the API's rules for links ("Input
Formats") and with no way into our network: every address the name resolves to must be public,
the connection goes to exactly the address checked (so DNS rebinding cannot redirect it), and
one deadline bounds the whole fetch. Not requests-hardened: it checks only the first address
and has no size limit or overall deadline."""

from __future__ import annotations

import contextlib
import hashlib
import http
import http.client
import ipaddress
import os
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from requests.utils import requote_uri

from generations.ltx.rules import (
    HTTPS_FETCH_TIMEOUT_SECONDS,
    HTTPS_MAX_BYTES,
    MB,
    UPLOAD_MAX_BYTES,
    RequestInvalid,
    parse_media_uri,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "ltxweb-media-fetch/1"

# Networks that `is_global` (Python 3.11) calls global although nothing public lives there:
# the deprecated 6to4 relay anycast, and IPv6 documentation (RFC 9637, newer than Python 3.11).
_NOT_PUBLIC = (ipaddress.ip_network("192.88.99.0/24"), ipaddress.ip_network("3fff::/20"))
# IPv6 forms that carry an IPv4 address inside them.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d; also :: and ::1
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # reaches the IPv4 address in its tail
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # a private translator, by definition


class FetchError(ValueError):
    """`message` says why and what would work instead, never with a query string, a password
    or a response body; `code` names the reason for programs."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FetchResult:
    address: str  # the IP address the file was fetched from
    size_bytes: int
    sha256: str


def is_public_address(address: IPAddress) -> bool:
    """Whether an address is on the public internet, and so are any IPv4 addresses it wraps."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            # ::ffff:a.b.c.d is a.b.c.d, reached over IPv4.
            return is_public_address(address.ipv4_mapped)
        if address in _NAT64_WELL_KNOWN:
            # DNS64 gives public names such addresses; the translator forwards to the tail.
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        if address in _IPV4_COMPATIBLE or address in _NAT64_LOCAL_USE or address.is_site_local:
            return False
        # 6to4 tunnels to its embedded address; Teredo names a server and a client address.
        wrapped = [address.sixtofour, *(address.teredo or ())]
        if any(v4 is not None and not is_public_address(v4) for v4 in wrapped):
            return False
    if any(address in network for network in _NOT_PUBLIC):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_reserved
        or address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def fetch(
    url: str,
    dest: str | os.PathLike,
    *,
    kind: str,
    max_bytes: int | None = None,
    timeout: float | None = None,
    resolver=socket.getaddrinfo,
    _ssl_context: ssl.SSLContext | None = None,
    _allow_addresses: frozenset[IPAddress] = frozenset(),
) -> FetchResult:
    """Download `url` to the path `dest`, written only once the whole file has arrived; limits
    default to the API's for `kind`. `_ssl_context` and `_allow_addresses` are for tests only."""
    if kind not in HTTPS_MAX_BYTES:
        raise ValueError(f"kind must be one of {', '.join(HTTPS_MAX_BYTES)} (got {kind!r})")
    link = _Link.parse(url, kind)
    addresses = _resolve(link, resolver, _allow_addresses)
    transfer = _Transfer(
        link,
        kind,
        max_bytes=HTTPS_MAX_BYTES[kind] if max_bytes is None else max_bytes,
        timeout=HTTPS_FETCH_TIMEOUT_SECONDS[kind] if timeout is None else timeout,
    )
    return transfer.run(addresses, dest, _ssl_context or ssl.create_default_context())


@dataclass(frozen=True)
class _Link:
    """The parts of a checked https link that the fetch needs."""

    host: str  # ASCII (IDNA) form, used for DNS, SNI, the certificate and the Host header
    port: int
    target: str  # path and query, percent-encoded as the request line needs
    shown: str  # for messages: scheme, host and path, without a password or query

    @classmethod
    def parse(cls, url: str, kind: str) -> _Link:
        try:
            parts = urlsplit(url)
        except ValueError:  # such as an unclosed [ in the host
            raise FetchError("url", "This is not a valid web address") from None
        if parts.scheme != "https":
            started = f" (this one starts with {parts.scheme}:)" if parts.scheme else ""
            raise FetchError(
                "scheme",
                f"Only https links can be fetched{started}; give the https address of the "
                "file, or upload it instead",
            )
        shown = f"https://{parts.netloc.rpartition('@')[2]}{parts.path}"
        host = parts.hostname or ""
        if _is_ip_address(host):
            raise FetchError(
                "ip_literal",
                f"{shown} uses an IP address; give the link with the site's domain name (such "
                "as https://media.example.com/...), or upload the file instead",
            )
        try:
            # The form rules the API itself applies ("Input Formats").
            parse_media_uri(url, field=f"{kind}_uri")
        except RequestInvalid:
            raise FetchError(
                "host",
                f"{shown} does not name a public website; give a link with the site's domain "
                "name (such as media.example.com), or upload the file instead",
            ) from None
        if parts.username is not None or parts.password is not None:
            raise FetchError(
                "credentials",
                "Links with a user name or password cannot be fetched; give a public link to "
                "the file, or upload it instead",
            )
        try:
            port = 443 if parts.port is None else parts.port
            if port == 0:
                raise ValueError("nothing listens on port 0")
            ascii_host = host.encode("idna").decode("ascii")
        except (ValueError, UnicodeError):
            raise FetchError("url", f"{shown} is not a valid web address") from None
        target = requote_uri(parts.path or "/")
        if parts.query:
            target += f"?{requote_uri(parts.query)}"
        return cls(ascii_host, port, target, shown)

    def request_headers(self) -> dict[str, str]:
        return {
            "Host": self.host if self.port == 443 else f"{self.host}:{self.port}",
            "User-Agent": _USER_AGENT,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
            "Connection": "close",
        }


def _is_ip_address(host: str) -> bool:
    """An IP address, including spellings such as 127.1 or 0x7f.0.0.1 that resolvers accept."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    try:
        socket.inet_aton(host.rstrip("."))
    except (OSError, ValueError):
        return False
    return True


def _resolve(link: _Link, resolver, allowed: frozenset[IPAddress]) -> list[IPAddress]:
    """Every address the name resolves to, refusing them all if any one is not public."""
    try:
        answers = resolver(link.host, link.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        answers = []
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canonname, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            address = ipaddress.ip_address(sockaddr[0])
        except ValueError:
            raise _private_address_error(link) from None
        if address not in allowed and not is_public_address(address):
            raise _private_address_error(link)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError("dns", f"{link.host} could not be found; check the link for typos")
    return addresses


def _private_address_error(link: _Link) -> FetchError:
    # The address itself stays out of the message: it would tell a user about our network.
    return FetchError(
        "private_address",
        f"{link.host} points to a private or reserved network address, not the public "
        "internet; give a publicly reachable link, or upload the file instead",
    )


class _Transfer:
    """One fetch of a checked link: connection, answer and body, within the size and time limits."""

    def __init__(self, link: _Link, kind: str, *, max_bytes: int, timeout: float):
        self.link = link
        self.kind = kind
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.watchdog: _Watchdog | None = None

    def run(self, addresses: list[IPAddress], dest, context) -> FetchResult:
        address, tls_socket = self._connect(addresses, context)
        self.watchdog = _Watchdog(tls_socket, self.deadline)
        connection = _PinnedConnection(self.link.host, self.link.port, tls_socket)
        try:
            with self._network_errors():
                connection.request("GET", self.link.target, headers=self.link.request_headers())
                response = connection.getresponse()
            # Closing the response too: it holds the socket open after the connection lets go.
            with contextlib.closing(response):
                self._check_response(response)
                digest = hashlib.sha256()
                with _open_destination(dest) as out:
                    for chunk in self._body(response):
                        out.write(chunk)
                        digest.update(chunk)
                    size = out.tell()
        finally:
            connection.close()
            self.watchdog.stop()
        return FetchResult(str(address), size, digest.hexdigest())

    def _connect(self, addresses, context) -> tuple[IPAddress, ssl.SSLSocket]:
        """TLS to the first vetted address that answers; SNI and certificate check the name."""
        for address in addresses:
            family = socket.AF_INET if address.version == 4 else socket.AF_INET6
            remaining = self._remaining()
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(remaining)
                sock.connect((str(address), self.link.port))
            except OSError:
                sock.close()
                continue
            try:
                # The handshake gets what is left of the time; the watchdog takes over after it.
                sock.settimeout(self._remaining())
                return address, context.wrap_socket(sock, server_hostname=self.link.host)
            except ssl.SSLCertVerificationError as exc:
                raise FetchError(
                    "tls",
                    f"{self.link.host} did not present a valid certificate "
                    f"({exc.verify_message}); give a link on a site with a valid https "
                    "certificate, or upload the file instead",
                ) from None
            except TimeoutError:
                raise self._timeout_error() from None
            except OSError:
                raise FetchError(
                    "tls",
                    f"Could not set up a secure connection to {self.link.host}; check that the "
                    "link opens in a browser, or upload the file instead",
                ) from None
            finally:
                sock.close()  # a no-op once wrap_socket has taken the connection over
        if time.monotonic() >= self.deadline:
            raise self._timeout_error()
        raise FetchError(
            "connect",
            f"Could not connect to {self.link.host}; check that the link opens in a browser, "
            "or upload the file instead",
        )

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._timeout_error()
        return remaining

    def _check_response(self, response: http.client.HTTPResponse) -> None:
        status = response.status
        if 300 <= status < 400:
            raise FetchError(
                "redirect",
                f"{self.link.shown} redirects to another address; give the final address of "
                "the file, or upload it instead",
            )
        if status != 200:
            raise _status_error(self.link, status)
        # http.client reads Content-Length into `length` (None when absent, invalid or chunked).
        if response.length is not None and response.length > self.max_bytes:
            raise self._too_large_error()

    def _body(self, response: http.client.HTTPResponse):
        """The body in chunks, reading at most one byte past the limit."""
        expected = response.length
        size = 0
        while True:
            with self._network_errors():
                chunk = response.read1(min(_CHUNK_BYTES, self.max_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large_error()
            yield chunk
        if self.watchdog.fired:
            # Cutting a body without a length at the deadline looks like its normal end.
            raise self._timeout_error()
        if expected is not None and size < expected:
            # read1 reports a connection closed before Content-Length bytes as a plain end.
            raise self._network_error()

    @contextlib.contextmanager
    def _network_errors(self):
        try:
            yield
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError) or self.watchdog.fired:
                raise self._timeout_error() from None
            raise self._network_error() from None

    def _too_large_error(self) -> FetchError:
        return FetchError(
            "too_large",
            f"{self.link.shown} is larger than {_size(self.max_bytes)}, the limit for "
            f"{self.kind} links; upload the file instead (uploads may be up to "
            f"{_size(UPLOAD_MAX_BYTES)})",
        )

    def _timeout_error(self) -> FetchError:
        return FetchError(
            "timeout",
            f"{self.link.shown} did not arrive within {self.timeout:g} "
            f"second{'' if self.timeout == 1 else 's'}, the limit for {self.kind} links; upload "
            "the file instead, or use a faster host",
        )

    def _network_error(self) -> FetchError:
        return FetchError(
            "network",
            f"The connection to {self.link.host} broke off before the whole file arrived; try "
            "again, or upload the file instead",
        )


class _PinnedConnection(http.client.HTTPConnection):
    """http.client over the TLS socket `_Transfer` opened: it never resolves or connects itself."""

    def __init__(self, host: str, port: int, tls_socket: ssl.SSLSocket):
        super().__init__(host, port)
        self._tls_socket = tls_socket

    def connect(self) -> None:
        self.sock = self._tls_socket


class _Watchdog:
    """Cuts the connection at the deadline: socket timeouts bound each read, not the fetch (a
    byte a second never trips them). It shuts down a duplicate descriptor, so it never touches
    the SSLSocket in use."""

    def __init__(self, tls_socket: ssl.SSLSocket, deadline: float):
        self.fired = False
        self._guard = socket.socket(fileno=os.dup(tls_socket.fileno()))
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True  # before the shutdown, so whoever sees the cut also sees why
        with contextlib.suppress(OSError):
            self._guard.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._timer.cancel()
        self._timer.join()
        self._guard.close()


@contextlib.contextmanager
def _open_destination(dest):
    """A file to write the body to: `dest` gets it only once it is complete."""
    path = Path(dest)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(partial, "xb") as out:
            yield out
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _status_error(link: _Link, status: int) -> FetchError:
    # The standard phrase, not the server's: that text is the server's to choose.
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "(an unusual status)"
    if status == 404:
        advice = "check that the link is right and the file is still there"
    elif status in (401, 403):
        advice = "the file is not public; make it public, or upload it instead"
    else:
        advice = "check that the link opens in a browser, or upload the file instead"
    return FetchError("http_status", f"{link.shown} answered HTTP {status} {phrase}; {advice}")


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n:,} bytes"
