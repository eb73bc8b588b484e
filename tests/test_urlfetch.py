"""generations.jobs.urlfetch: which addresses count as public, the link's form, and real fetches.

The fetches run over real TLS on loopback: a threaded HTTPS server with a throwaway certificate
for "media.test", an injected resolver that maps the name to the server's address, and the
test-only allowance for that loopback address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time

import pytest

from generations.jobs.urlfetch import FetchError, fetch, is_public_address
from tests.https_media import PHOTO, Local, Seen, answers

# -- the address rules ---------------------------------------------------------------------

NOT_PUBLIC = {
    "10/8": "10.0.0.1",
    "172.16/12": "172.31.255.254",
    "192.168/16": "192.168.1.1",
    "loopback v4": "127.0.0.1",
    "loopback v4 elsewhere in 127/8": "127.255.0.7",
    "loopback v6": "::1",
    "link-local v4 (cloud metadata)": "169.254.169.254",
    "link-local v6": "fe80::1",
    "CGNAT 100.64/10": "100.64.0.1",
    "CGNAT top": "100.127.255.254",
    "unspecified v4": "0.0.0.0",  # noqa: S104 (an address to judge, not to bind)
    "this network 0/8": "0.1.2.3",
    "unspecified v6": "::",
    "multicast v4": "224.0.0.1",
    "multicast v4 SSDP": "239.255.255.250",
    "multicast v6 link": "ff02::1",
    "multicast v6 global": "ff0e::1",
    "reserved 240/4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "benchmarking 198.18/15": "198.19.0.1",
    "benchmarking v6": "2001:2::1",
    "documentation TEST-NET-1": "192.0.2.1",
    "documentation TEST-NET-2": "198.51.100.1",
    "documentation TEST-NET-3": "203.0.113.1",
    "documentation v6": "2001:db8::1",
    "documentation v6 3fff::/20": "3fff::1",
    "6to4 relay anycast": "192.88.99.1",
    "unique-local fc00::/7": "fd12:3456::1",
    "site-local fec0::/10": "fec0::1",
    "discard-only 100::/64": "100::1",
    "IPv4-mapped private": "::ffff:10.0.0.1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped metadata": "::ffff:169.254.169.254",
    "IPv4-compatible private": "::10.0.0.1",
    "IPv4-compatible public (deprecated form)": "::93.184.216.34",
    "6to4 wrapping 10.0.0.1": "2002:a00:1::1",
    "6to4 wrapping 127.0.0.1": "2002:7f00:1::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "Teredo with a private server": "2001:0:a00:1::1",
    "NAT64 wrapping 10.0.0.1": "64:ff9b::a00:1",
    "NAT64 wrapping 127.0.0.1": "64:ff9b::7f00:1",
    "NAT64 wrapping metadata": "64:ff9b::a9fe:a9fe",
    "local-use NAT64 wrapping a private address": "64:ff9b:1::a00:1",
    "local-use NAT64 wrapping a public address": "64:ff9b:1::5db8:d822",
}

PUBLIC = {
    "v4": "93.184.216.34",
    "v4 resolver": "8.8.8.8",
    "v6": "2606:2800:220:1::",
    "v6 resolver": "2001:4860:4860::8888",
    "IPv4-mapped public": "::ffff:93.184.216.34",
    "NAT64 wrapping a public address (DNS64)": "64:ff9b::5db8:d822",
    "6to4 wrapping a public address": "2002:5db8:d822::1",
}


@pytest.mark.parametrize("address", NOT_PUBLIC.values(), ids=NOT_PUBLIC.keys())
def test_addresses_off_the_public_internet_are_refused(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC.values(), ids=PUBLIC.keys())
def test_public_addresses_are_allowed(address):
    assert is_public_address(ipaddress.ip_address(address))


# -- the link's form and its resolution ----------------------------------------------------


def resolving_to(*addresses: str):
    def resolver(host, port, *args, **kwargs):
        return answers(*addresses, port=port)

    return resolver


def never_resolve(host, *args, **kwargs):
    raise AssertionError(f"{host} should not have been resolved")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://media.example.com/a.png", "scheme"),
        ("ftp://media.example.com/a.png", "scheme"),
        ("ltx://uploads/abc-123", "scheme"),
        ("data:image/png;base64,AAAA", "scheme"),
        ("media.example.com/a.png", "scheme"),
        ("https://10.0.0.5/a.png", "ip_literal"),
        ("https://93.184.216.34/a.png", "ip_literal"),
        ("https://93.184.216.34./a.png", "ip_literal"),
        ("https://[::1]/a.png", "ip_literal"),
        ("https://[::ffff:127.0.0.1]/a.png", "ip_literal"),
        ("https://127.1/a.png", "ip_literal"),
        ("https://0x7f.0.0.1/a.png", "ip_literal"),
        ("https://2130706433/a.png", "ip_literal"),
        ("https://localhost/a.png", "host"),
        ("https://media/a.png", "host"),
        ("https:///a.png", "host"),
        ("https://media.example.com:99999/a.png", "url"),
        ("https://media.example.com:0/a.png", "url"),
        ("https://media..example.com/a.png", "url"),
        ("https://[::1/a.png", "url"),
    ],
)
def test_links_of_the_wrong_form_are_refused_before_any_lookup(url, code, tmp_path):
    with pytest.raises(FetchError) as caught:
        fetch(url, tmp_path / "out", kind="image", resolver=never_resolve)
    assert caught.value.code == code
    assert caught.value.message == str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_link_with_a_password_is_refused_without_repeating_it(tmp_path):
    with pytest.raises(FetchError) as caught:
        fetch(
            "https://ann:hunter2@media.example.com/a.png?sig=s3cret",
            tmp_path / "out",
            kind="image",
            resolver=never_resolve,
        )
    assert caught.value.code == "credentials"
    assert "hunter2" not in caught.value.message
    assert "s3cret" not in caught.value.message


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("93.184.216.34", "10.0.0.5"),
        ("10.0.0.5", "93.184.216.34"),
        ("2606:2800:220:1::", "::ffff:127.0.0.1"),
        ("93.184.216.34", "fd00::5"),
    ],
    ids=["private", "public-then-private", "private-then-public", "v6-mapped", "ula"],
)
def test_a_name_resolving_to_any_private_address_is_refused(addresses, tmp_path):
    # No connection is tried: pytest-socket would refuse one to the public address anyway.
    with pytest.raises(FetchError) as caught:
        fetch(
            "https://media.example.com/a.png",
            tmp_path / "out",
            kind="image",
            resolver=resolving_to(*addresses),
        )
    assert caught.value.code == "private_address"
    assert "media.example.com" in caught.value.message
    assert "10.0.0.5" not in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_name_that_does_not_resolve_is_reported(tmp_path):
    def unknown(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for resolver in (unknown, resolving_to()):
        with pytest.raises(FetchError) as caught:
            fetch(
                "https://nowhere.example.com/a.png", tmp_path / "o", kind="image", resolver=resolver
            )
        assert caught.value.code == "dns"
        assert "nowhere.example.com could not be found" in caught.value.message


def test_unknown_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="kind must be one of"):
        fetch("https://media.example.com/a", tmp_path / "o", kind="text", resolver=never_resolve)


@pytest.fixture
def out_dir(tmp_path):
    """A directory that must hold nothing but what a successful fetch wrote."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def fetch_error(local: Local, path: str, dest, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        local.fetch(path, dest, **kwargs)
    return caught.value


# -- fetches -------------------------------------------------------------------------------


def test_a_file_is_fetched_to_a_path(local, out_dir):
    dest = out_dir / "photo.png"
    result = local.fetch("/photo?caption=été 1", dest)
    assert dest.read_bytes() == PHOTO
    assert local.resolved == ["media.test"]
    assert local.server.seen[0].path == "/photo?caption=%C3%A9t%C3%A9%201"
    assert result.address == "127.0.0.1"
    assert result.size_bytes == len(PHOTO)
    assert result.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert [p.name for p in out_dir.iterdir()] == ["photo.png"]


def test_the_connection_goes_to_the_vetted_address_with_the_name_for_tls_and_host(
    local, out_dir, monkeypatch
):
    # A rebinding name: public-looking first, private on every later lookup.
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        return answers("127.0.0.1" if len(lookups) == 1 else "10.0.0.5", port=port)

    connected = []
    original_connect = socket.socket.connect

    def recording_connect(sock, address):
        connected.append(address[:2])
        return original_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    result = local.fetch("/photo", out_dir / "photo.png", resolver=rebinding)
    assert lookups == ["media.test"]
    assert connected == [("127.0.0.1", local.server.port)]
    assert result.address == "127.0.0.1"
    assert local.server.sni == ["media.test"]
    assert local.server.seen == [Seen("/photo", f"media.test:{local.server.port}", "127.0.0.1")]


def test_an_ipv6_address(serve, out_dir):
    local = serve(host="::1")
    result = local.fetch("/photo", out_dir / "photo.png")
    assert result.address == "::1"
    assert local.server.seen[0].host_header == f"media.test:{local.server.port}"


def test_the_next_vetted_address_is_tried_when_one_does_not_answer(serve, out_dir):
    # Nothing listens on ::1 at this IPv4 server's port: the fetch moves on to 127.0.0.1.
    v4 = serve()
    allowed = frozenset(ipaddress.ip_address(a) for a in ("::1", "127.0.0.1"))
    result = fetch(
        v4.url("/photo"),
        out_dir / "again.png",
        kind="image",
        resolver=resolving_to("::1", "127.0.0.1"),
        _ssl_context=v4.context,
        _allow_addresses=allowed,
    )
    assert result.address == "127.0.0.1"


def test_loopback_is_refused_without_the_test_allowance(local, out_dir):
    with pytest.raises(FetchError) as caught:
        fetch(
            local.url("/photo"),
            out_dir / "photo.png",
            kind="image",
            resolver=local.resolver,
            _ssl_context=local.context,
        )
    assert caught.value.code == "private_address"
    assert local.server.seen == []


def test_a_certificate_for_another_name_is_refused(serve, out_dir):
    local = serve(cert_for="other.test")
    error = fetch_error(local, "/photo", out_dir / "photo.png")
    assert error.code == "tls"
    assert "media.test" in error.message
    assert local.server.seen == []
    assert list(out_dir.iterdir()) == []


def test_the_default_context_does_not_trust_a_private_ca(local, out_dir):
    error = fetch_error(local, "/photo", out_dir / "photo.png", _ssl_context=None)
    assert error.code == "tls"
    assert local.server.seen == []


@pytest.mark.parametrize("path", ["/moved", "/found"])
def test_redirects_are_refused(local, out_dir, path):
    error = fetch_error(local, path, out_dir / "photo.png")
    assert error.code == "redirect"
    assert error.message.startswith(f"{local.url(path)} redirects to another address")
    assert [seen.path for seen in local.server.seen] == [path]  # and nothing followed
    assert list(out_dir.iterdir()) == []


def test_an_http_error_is_explained_without_the_body_or_the_query(local, out_dir):
    error = fetch_error(local, "/missing?token=s3cret", out_dir / "photo.png")
    assert error.code == "http_status"
    assert error.message.startswith(f"{local.url('/missing')} answered HTTP 404 Not Found;")
    assert "secret-body-text" not in error.message
    assert "s3cret" not in error.message
    assert list(out_dir.iterdir()) == []


def test_a_body_over_the_limit_is_cut_without_reading_it_all(local, out_dir):
    error = fetch_error(local, "/huge", out_dir / "photo.png", max_bytes=200_000)
    assert error.code == "too_large"
    assert "larger than 200,000 bytes, the limit for image links" in error.message
    assert local.server.sent["/huge"] < 4_000_000  # of 64 MB
    assert list(out_dir.iterdir()) == []


def test_an_announced_length_over_the_limit_is_refused_before_the_body(local, out_dir):
    # The server sends no body at all: reading one would end in a timeout, not this.
    started = time.monotonic()
    error = fetch_error(local, "/huge-length", out_dir / "clip.mp4", kind="video", timeout=3)
    assert error.code == "too_large"
    assert "larger than 32 MB, the limit for video links" in error.message
    assert time.monotonic() - started < 1
    assert list(out_dir.iterdir()) == []


def test_an_endless_chunked_body_is_cut_at_the_limit(local, out_dir):
    error = fetch_error(local, "/chunked", out_dir / "song.mp3", kind="audio", max_bytes=100_000)
    assert error.code == "too_large"
    assert local.server.sent["/chunked"] < 4_000_000
    assert list(out_dir.iterdir()) == []


def test_a_slow_drip_is_cut_at_the_overall_deadline(local, out_dir):
    started = time.monotonic()
    error = fetch_error(local, "/drip", out_dir / "photo.png", timeout=1)
    elapsed = time.monotonic() - started
    assert error.code == "timeout"
    assert "did not arrive within 1 second, the limit for image links" in error.message
    assert 0.9 < elapsed < 1.8
    assert 10 < local.server.sent["/drip"] < 100  # bytes were flowing all along
    assert list(out_dir.iterdir()) == []


def test_a_body_shorter_than_announced_is_an_error(local, out_dir):
    error = fetch_error(local, "/short", out_dir / "photo.png")
    assert error.code == "network"
    assert list(out_dir.iterdir()) == []


def test_a_failed_fetch_leaves_an_existing_file_alone(local, out_dir):
    dest = out_dir / "photo.png"
    dest.write_bytes(b"the old photo")
    fetch_error(local, "/huge", dest, max_bytes=1000)
    assert dest.read_bytes() == b"the old photo"
    assert [p.name for p in out_dir.iterdir()] == ["photo.png"]
