"""Hostile files, through the forms and the JSON API as people send them: each refused with a
clear message, and nothing half-saved (no MediaAsset or Generation row, no file in storage, no
leftover in var/incoming or in Django's upload temporary directory).

The full picture, with what is tested elsewhere:
- by content, not name or MIME type: tests/test_media.py (a PNG named .mp4, an MP4 named
  .mp3, an MP3 given as an image, HEIC, SVG and GIF recognised and refused, unsupported
  codecs); tests/test_assets.py::test_a_link_is_judged_by_its_content_not_its_name;
- truncated and corrupt files: tests/test_media.py (truncated MP4, files cut in half whose
  header survives, a PNG with a damaged header, a truncated JPEG, random bytes, text, empty);
- decompression bombs: tests/test_media.py::test_decompression_bomb_is_refused_without_decoding
  and the megapixel limit;
- sizes: tests/test_assets.py (an image over the API's limit offered a re-encode, one far over
  it refused while it streams through the service), tests/test_api.py (a JSON body over the
  limit is 413);
- links people give: tests/test_urlfetch.py (http, IP literals, localhost, private, loopback,
  link-local and IPv6-mapped addresses, names resolving to private addresses, redirects,
  bodies over the limit, endless chunked and slow-drip bodies, a body shorter than announced)
  and tests/test_assets.py (the same through the service and the form);
- JSON bodies and queries of any shape: tests/test_api.py (hypothesis), tests/test_properties.py.

Here: the same files end to end through the generate form and the API (lying name and type,
truncated, corrupt, bomb), with nothing left behind; and an upload over the size limit
stopped while it streams in (generations/uploads.py), reading no more than the limit and
holding no more than a few chunks in memory.
"""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.urls import reverse

from generations.jobs import queue as job_queue
from generations.jobs.models import Generation, MediaAsset
from generations.ltx import rules
from generations.projects import tokens as token_service
from tests import mediafiles

T2V_FIELDS = {
    "prompt_text": "A lighthouse at dusk",
    "model": "ltx-2-fast",
    "resolution": "1920x1080",
    "fps": "25",
    "duration": "6",
}


@pytest.fixture
def places(settings, tmp_path, monkeypatch):
    """Storage, var/ and Django's upload temporary directory of this test's own, to check
    that nothing is left in any of them."""
    monkeypatch.setattr(job_queue, "run_send_on_commit", lambda *args: None)
    media, var, uploads = tmp_path / "media", tmp_path / "var", tmp_path / "uploads"
    for folder in (media, var, uploads):
        folder.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
    }
    settings.VAR_DIR = var
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # bigger uploads go to a temporary file
    return {"media": media, "var": var, "uploads": uploads}


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def nothing_left(places) -> None:
    assert not MediaAsset.objects.exists()
    assert not Generation.objects.exists()
    for name, folder in places.items():
        assert files_in(folder) == [], f"left in {name}: {files_in(folder)}"


def page_message(response) -> str:
    return response.content.decode()


# -- lying, broken and explosive files through the form -----------------------------------------


def _mp3_as_png(d):
    data = mediafiles.make_audio(d, "mp3", seconds=0.5).read_bytes()
    return "image", SimpleUploadedFile("still.png", data, "image/png")


def _html_as_jpeg(d):
    html = b"<!doctype html><html><script>alert(1)</script></html>" * 20
    return "image", SimpleUploadedFile("photo.jpg", html, "image/jpeg")


def _elf_as_mp3(d):
    return "audio", SimpleUploadedFile(
        "song.mp3", b"\x7fELF\x02\x01\x01" + b"\0" * 4000, "audio/mpeg"
    )


def _png_as_mp4(d):
    data = mediafiles.make_image(d, "PNG", size=(320, 180)).read_bytes()
    return "video", SimpleUploadedFile("clip.mp4", data, "video/mp4")


def _truncated_mp4(d):
    video = mediafiles.make_video(d, size=(64, 36), frames=25)
    return "video", SimpleUploadedFile(
        "clip.mp4", mediafiles.truncated_copy(video).read_bytes(), "video/mp4"
    )


def _corrupt_png(d):
    data = bytearray(mediafiles.make_image(d, "PNG").read_bytes())
    data[29] ^= 0xFF
    return "image", SimpleUploadedFile("still.png", bytes(data), "image/png")


def _png_bomb(d):
    data = mediafiles.make_png_bomb(d, (20000, 20000)).read_bytes()
    return "image", SimpleUploadedFile("tiny.png", data, "image/png")


HOSTILE_FILES = {
    # name: (make, what the message must say)
    "mp3 named .png, sent as image/png": (_mp3_as_png, "this is an MP3 audio file"),
    "HTML named .jpg, sent as image/jpeg": (_html_as_jpeg, "could not be read as an image"),
    "a program named .mp3": (_elf_as_mp3, "could not be read as an image, video or audio"),
    "PNG named .mp4, sent as video/mp4": (_png_as_mp4, "PNG image"),
    "truncated MP4": (_truncated_mp4, "truncated or corrupt"),
    "PNG with a broken header": (_corrupt_png, "PNG image could not be read"),
    "decompression bomb": (_png_bomb, "too many pixels"),
}
ENDPOINT_FOR = {"image": "image-to-video", "audio": "audio-to-video", "video": "retake"}


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_the_form_refuses_hostile_files_and_keeps_nothing(
    case, client, project, editor, places, tmp_path
):
    make, words = HOSTILE_FILES[case]
    made = tmp_path / "made"
    made.mkdir()
    field, upload = make(made)
    client.force_login(editor)
    data = {
        **T2V_FIELDS,
        "endpoint": ENDPOINT_FOR[field],
        "start_time": "0",
        "section_duration": "2",
        field: upload,
    }
    tracemalloc.start()
    try:
        response = client.post(reverse("generation_new", args=[project.uuid]), data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400
    assert words in page_message(response), page_message(response)[:2000]
    nothing_left(places)
    # The bomb's 400 million pixels (1.2 GB decoded) were never decoded.
    assert peak < 50_000_000, peak


@pytest.mark.parametrize("case", ["mp3 named .png, sent as image/png", "decompression bomb"])
def test_the_api_refuses_hostile_files_and_keeps_nothing(
    case, client, project, editor, places, tmp_path
):
    make, words = HOSTILE_FILES[case]
    field, upload = make(tmp_path)
    _, token = token_service.token_create(user=editor, name="script")
    response = client.post(
        f"/api/v1/projects/{project.uuid}/generations/",
        {
            "endpoint": "image-to-video",
            "prompt": "A lighthouse",
            "model": "ltx-2-fast",
            "resolution": "1920x1080",
            "duration": "6",
            "image": upload,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    error = response.json()["error"]
    assert response.status_code == 400, error
    assert words in " ".join(error.get("fields", {}).get("image", [])), error
    nothing_left(places)


# -- over the size limit --------------------------------------------------------------------------


@pytest.fixture
def small_limit(monkeypatch):
    """A 1 MB limit (2 MB for images, which may be re-encoded), so tests send a few MB."""
    monkeypatch.setattr(rules, "UPLOAD_MAX_BYTES", 1 * rules.MB)


def test_an_oversized_upload_gets_a_clear_page_and_nothing_is_kept(
    client, project, editor, places, small_limit
):
    client.force_login(editor)
    too_big = SimpleUploadedFile("long.mp4", b"\0" * (3 * rules.MB), "video/mp4")
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {"endpoint": "retake", "start_time": "0", "section_duration": "2", "video": too_big},
    )
    assert response.status_code == 413
    text = page_message(response)
    assert "over 1 MB, the most ltxweb takes for a video" in text
    assert "trim it or encode it at a lower bitrate" in text
    nothing_left(places)


class EndlessUpload(io.RawIOBase):
    """A multipart body that claims `size` bytes and makes them only as they are read."""

    def __init__(self, boundary: str, field: str, size: int, fields: dict[str, str]):
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="huge.png"\r\nContent-Type: image/png\r\n\r\n'
        )
        self.head = head.encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.length = size
        self.position = 0

    def readable(self):
        return True

    def readinto(self, buffer) -> int:
        remaining = self.length - self.position
        n = min(len(buffer), remaining)
        if n <= 0:
            return 0
        for i in range(n):  # head, then zeros, then the tail, without holding the body
            at = self.position + i
            if at < len(self.head):
                buffer[i] = self.head[at]
            elif at >= self.length - len(self.tail):
                buffer[i] = self.tail[at - (self.length - len(self.tail))]
            else:
                buffer[i] = 0
        self.position += n
        return n


def _send(environ_extra: dict, body: EndlessUpload, path: str) -> tuple[str, bytes]:
    boundary = "ltxwebboundary"
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(body.length),
        "wsgi.input": io.BufferedReader(body, buffer_size=64 * 1024),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **environ_extra,
    }
    status = []
    # As Django's test client does: the test's database connection stays open throughout.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = WSGIHandler()(environ, lambda s, headers, exc_info=None: status.append(s))
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return status[0], content


def test_an_oversized_api_upload_is_stopped_at_the_limit_while_it_streams(
    project, editor, places, small_limit
):
    """200 MB announced and sent: refused after about 2 MB (the image limit) was read, and
    memory stays at a few chunks, far below either size."""
    _, token = token_service.token_create(user=editor, name="script")
    body = EndlessUpload(
        "ltxwebboundary",
        "image",
        200 * rules.MB,
        {"endpoint": "image-to-video", "prompt": "A lighthouse"},
    )
    tracemalloc.start()
    try:
        status, content = _send(
            {"HTTP_AUTHORIZATION": f"Bearer {token}"},
            body,
            f"/api/v1/projects/{project.uuid}/generations/",
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status.startswith("413"), (status, content[:500])
    assert b"over 2 MB, the most ltxweb takes for an image" in content
    assert body.position < 3 * rules.MB, f"read {body.position} bytes of {body.length}"
    assert peak < 8 * rules.MB, peak
    nothing_left(places)


def test_an_oversized_form_upload_is_stopped_at_the_limit_while_it_streams(
    client, project, editor, places, small_limit
):
    client.force_login(editor)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # Within what the whole form may carry (an image, audio and video at their limits), so
    # the body is read, and stopped where the image passes its own limit.
    body = EndlessUpload(
        "ltxwebboundary",
        "image",
        4 * rules.MB + rules.MB // 2,
        {"endpoint": "image-to-video", "prompt_text": "A lighthouse"},
    )
    tracemalloc.start()
    try:
        status, content = _send(
            {"HTTP_COOKIE": cookie}, body, f"/projects/{project.uuid}/generations/new/"
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status.startswith("413"), status
    assert b"the most ltxweb takes for an image" in content
    assert body.position < 3 * rules.MB
    assert peak < 8 * rules.MB, peak
    nothing_left(places)


def test_a_body_larger_than_the_page_takes_is_refused_before_it_is_read(
    client, project, editor, places, small_limit
):
    client.force_login(editor)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    fields = {"endpoint": "image-to-video", "prompt_text": "A lighthouse"}
    upload = EndlessUpload("ltxwebboundary", "image", 200 * rules.MB, fields)
    url = f"/projects/{project.uuid}/generations/new/"
    status, content = _send({"HTTP_COOKIE": cookie}, upload, url)
    assert status.startswith("413") and b"larger than this page takes" in content
    assert upload.position == 0
    # A page that takes no files refuses more than a form's worth, signed in or not.
    files = EndlessUpload("ltxwebboundary", "image", 90 * rules.MB, {"username": "a"})
    status, _ = _send({}, files, "/login/")
    assert status.startswith("413") and files.position == 0
    nothing_left(places)


def test_an_upload_from_someone_not_signed_in_is_not_read(project, places, small_limit):
    upload = EndlessUpload("ltxwebboundary", "image", 2 * rules.MB, {"endpoint": "x"})
    status, _ = _send({}, upload, f"/projects/{project.uuid}/generations/new/")
    assert status.startswith("302") and upload.position == 0
    nothing_left(places)


def test_uploads_within_the_limit_still_work(client, project, editor, places, tmp_path):
    """The limit handler passes files through untouched: an upload over the memory
    threshold (so through a temporary file) is kept whole."""
    client.force_login(editor)
    image = mediafiles.make_image(tmp_path, "PNG", size=(640, 360), noise=True)
    assert image.stat().st_size > 64 * 1024
    response = client.post(
        reverse("generation_new", args=[project.uuid]),
        {
            **T2V_FIELDS,
            "endpoint": "image-to-video",
            "image": SimpleUploadedFile("still.png", image.read_bytes(), "image/png"),
        },
    )
    assert response.status_code == 302, page_message(response)[:2000]
    asset = MediaAsset.objects.get()
    assert asset.size_bytes == image.stat().st_size
    assert asset.file.read() == image.read_bytes()
    assert files_in(places["uploads"]) == []
