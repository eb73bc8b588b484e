"""generations.core.media_response: files served with HTTP range requests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.test import RequestFactory

from generations.core.media_response import CHUNK_SIZE, ranged_file_response

SIZE = 1000
# Every byte differs from its neighbours, so an off-by-one shows.
CONTENT = bytes(i % 251 for i in range(SIZE))

# Closing a response sends request_finished, which closes stale database connections:
# that touches the database once another test has opened a connection.
pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(CONTENT)
    return path


def serve(path: Path, method: str = "get", **options):
    """The response and its still-open file, for a request with `options` as headers."""
    headers = options.pop("headers", {})
    request = getattr(RequestFactory(), method)("/media/clip.mp4", headers=headers)
    file = path.open("rb")
    options.setdefault("content_type", "video/mp4")
    options.setdefault("filename", "clip.mp4")
    response = ranged_file_response(request, file, size=path.stat().st_size, **options)
    return response, file


def body(response) -> bytes:
    """Everything the response sends, then closes it, as the server does."""
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_whole_file(stored):
    response, file = serve(stored)
    assert response.status_code == 200
    assert response.streaming
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"] == 'inline; filename="clip.mp4"'
    assert response["Cache-Control"] == "private, max-age=3600"
    assert not response.has_header("Content-Range")
    assert body(response) == CONTENT
    assert file.closed


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=5-5", 5, 5),
        ("bytes=900-", 900, 999),
        ("bytes=0-", 0, 999),
        ("bytes=-100", 900, 999),
        ("bytes=-1", 999, 999),
        ("bytes=990-5000", 990, 999),  # an end past the file stops at its end
        ("bytes=-5000", 0, 999),  # a suffix longer than the file is the whole file
        ("Bytes=10-19", 10, 19),  # the unit is case-insensitive
    ],
)
def test_single_range(stored, header, first, last):
    response, file = serve(stored, headers={"Range": header})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == CONTENT[first : last + 1]
    assert file.closed


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=5000-", "bytes=-0"])
def test_range_past_the_end_is_not_satisfiable(stored, header):
    response, file = serve(stored, headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response["Content-Length"] == "0"
    assert body(response) == b""
    assert file.closed


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=-",
        "bytes=",
        "bytes=5-2",  # ends before it starts
        "bytes=5000-10",  # the same, even though it starts past the end
        "bytes=1-2-3",
        "bytes 0-10",
        "items=0-10",
        "bytes=0-99999999999999999999999999",  # absurdly long number
        "bytes=0-1,5-6",  # several ranges
        "bytes=0-1, -5",
    ],
)
def test_malformed_or_multiple_ranges_get_the_whole_file(stored, header):
    response, file = serve(stored, headers={"Range": header})
    assert response.status_code == 200
    assert not response.has_header("Content-Range")
    assert response["Content-Length"] == str(SIZE)
    assert body(response) == CONTENT
    assert file.closed


def test_if_range_gets_the_whole_file(stored):
    # No validators are ever sent, so a client's If-Range cannot match one of ours.
    headers = {"Range": "bytes=0-9", "If-Range": '"some-etag"'}
    response, _ = serve(stored, headers=headers)
    assert response.status_code == 200
    assert body(response) == CONTENT


def test_head_sends_headers_only(stored):
    response, file = serve(stored, "head")
    assert response.status_code == 200
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == b""
    assert file.closed


def test_head_ignores_range(stored):
    # RFC 9110 defines range requests for GET only.
    response, _ = serve(stored, "head", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response["Content-Length"] == str(SIZE)
    assert body(response) == b""


def test_file_is_closed_when_the_response_is_closed_unread(stored):
    # The client went away before a byte was sent.
    response, file = serve(stored, headers={"Range": "bytes=10-"})
    assert not file.closed
    response.close()
    assert file.closed


def test_attachment_with_a_filename_that_needs_encoding(stored):
    response, _ = serve(stored, filename="Renard «neige» ❄.mp4", as_attachment=True)
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Renard%20%C2%ABneige%C2%BB%20%E2%9D%84.mp4"
    )
    response.close()


@pytest.mark.parametrize(
    ("filename", "disposition"),
    [
        ('say "hi".mp4', r'inline; filename="say \"hi\".mp4"'),
        ("line\r\nSet-Cookie: x.mp4", "inline; filename*=utf-8''line%0D%0ASet-Cookie%3A%20x.mp4"),
        ("videos/2025/clip.mp4", 'inline; filename="clip.mp4"'),
        (None, "inline"),
    ],
)
def test_filenames_are_made_safe(stored, filename, disposition):
    response, _ = serve(stored, filename=filename)
    assert response["Content-Disposition"] == disposition
    response.close()


def test_cache_lifetime_is_an_hour_and_never_public(stored):
    response, _ = serve(stored, headers={"Range": "bytes=0-9"})
    assert response["Cache-Control"] == "private, max-age=3600"
    response.close()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    response, _ = serve(empty)
    assert (response.status_code, response["Content-Length"]) == (200, "0")
    assert body(response) == b""
    response, _ = serve(empty, headers={"Range": "bytes=0-"})
    assert (response.status_code, response["Content-Range"]) == (416, "bytes */0")
    response.close()


def test_large_file_is_streamed_in_chunks(tmp_path):
    path = tmp_path / "large.mp4"
    size = 20 * 1024 * 1024
    with path.open("wb") as file:
        for index in range(size // CHUNK_SIZE):
            file.write(index.to_bytes(4, "big") * (CHUNK_SIZE // 4))
    expected = hashlib.sha256(path.read_bytes()).hexdigest()

    response, file = serve(path)
    assert response.streaming
    digest, chunks, largest = hashlib.sha256(), 0, 0
    for chunk in response.streaming_content:
        digest.update(chunk)
        chunks += 1
        largest = max(largest, len(chunk))
    response.close()
    assert digest.hexdigest() == expected
    assert largest <= CHUNK_SIZE
    assert chunks == size // CHUNK_SIZE
    assert file.closed


def test_range_in_the_middle_of_a_large_file(tmp_path):
    path = tmp_path / "large.mp4"
    data = bytes(range(256)) * (12 * 1024 * 1024 // 256)
    path.write_bytes(data)
    first, last = 5_000_001, 9_123_456
    response, _ = serve(path, headers={"Range": f"bytes={first}-{last}"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert body(response) == data[first : last + 1]
