"""The LTX client against the simulator over real HTTP."""

import io
import logging
import shutil
from decimal import Decimal

import pytest

from generations import media
from generations.ltx import errors, rules
from generations.ltx.client import LTXClient
from generations.ltx.schemas import AudioToVideo, ImageToVideo, Retake, TextToVideo
from tests import mediafiles


@pytest.fixture
def client(simulator):
    return LTXClient(simulator.url, simulator.api_key, read_timeout=60)


T2V = TextToVideo(
    prompt="A red kite over a beach", model="ltx-2-fast", duration=6, resolution="1920x1080"
)


def test_text_to_video_streams_to_a_path(client, tmp_path, simulator):
    dest = tmp_path / "videos" / "kite.mp4"
    result = client.generate(T2V, dest)
    assert result.request_id == simulator.records()[-1]["request_id"]
    assert result.size_bytes == dest.stat().st_size
    info = media.probe(dest)
    assert (info.width, info.height, info.fps, info.frames, info.has_audio) == (
        1920,
        1080,
        25,
        150,
        True,
    )
    assert not [p for p in dest.parent.iterdir() if p.name != "kite.mp4"]  # no temp files


def test_generate_to_a_file_object(client, small_renders):
    buffer = io.BytesIO()
    result = client.generate(T2V, buffer)
    assert buffer.getvalue()[4:8] == b"ftyp"
    assert result.size_bytes == len(buffer.getvalue())


def test_generate_hands_the_body_to_a_function(client, small_renders):
    """What a storage's save takes: a readable file, read in whatever pieces it likes."""
    kept = io.BytesIO()
    result = client.generate(T2V, lambda body: shutil.copyfileobj(body, kept, 1000))
    assert kept.getvalue()[4:8] == b"ftyp"
    assert result.size_bytes == len(kept.getvalue())


def test_a_body_cut_short_fails_its_reader_as_lost_however_the_reader_reports_it(
    start_simulator, small_renders
):
    sim = start_simulator(drop_rate=1.0)
    read = []

    def uploading(body):
        try:
            while data := body.read(5 * 1024 * 1024):
                read.append(len(data))
        except Exception as exc:  # as boto3's upload might report it
            raise RuntimeError("the upload failed") from exc

    with pytest.raises(errors.ResponseLostError) as caught:
        LTXClient(sim.url, sim.api_key).generate(T2V, uploading)
    assert caught.value.possibly_charged


def test_upload_then_image_and_audio_to_video(client, tmp_path, small_renders):
    image = mediafiles.make_image(tmp_path, "PNG", size=(320, 180))
    audio = mediafiles.make_audio(tmp_path, "m4a", seconds=2.2)
    image_upload = client.upload(image, "image/png")
    audio_upload = client.upload(audio, "audio/x-m4a")
    assert image_upload.storage_uri.startswith("ltx://uploads/")
    assert image_upload.expires_at.tzinfo is not None
    assert "upload_url" not in repr(image_upload)  # a signed URL is a credential
    client.generate(
        ImageToVideo(
            image_uri=image_upload.storage_uri,
            prompt="waves",
            model="ltx-2-pro",
            duration=6,
            resolution="1920x1080",
        ),
        tmp_path / "i2v.mp4",
    )
    result = client.generate(
        AudioToVideo(
            audio_uri=audio_upload.storage_uri, image_uri=image_upload.storage_uri, prompt=""
        ),
        tmp_path / "a2v.mp4",
    )
    assert result.size_bytes > 0


def test_retake(client, tmp_path):
    video = mediafiles.make_video(tmp_path, "mp4", size=(320, 180), frames=80)
    upload = client.upload(video, "video/mp4")
    client.generate(
        Retake(
            video_uri=upload.storage_uri,
            start_time=0.5,
            duration=2,
            prompt="a wave",
            mode="replace_audio",
        ),
        tmp_path / "retake.mp4",
    )
    info = media.probe(tmp_path / "retake.mp4")
    assert (info.width, info.height, info.frames) == (320, 180, 80)


def test_invalid_requests_never_leave_the_machine(client, simulator, tmp_path):
    with pytest.raises(rules.RequestInvalid, match="supports durations"):
        client.generate(
            TextToVideo(prompt="x", model="ltx-2-pro", duration=20, resolution="1920x1080"),
            tmp_path / "never.mp4",
        )
    assert simulator.records() == []
    assert not (tmp_path / "never.mp4").exists()


@pytest.mark.parametrize(
    ("options", "cls", "error_type", "status"),
    [
        ({"filter_words": ["kite"]}, errors.ContentFilteredError, "content_filtered_error", 422),
        (
            {"credits": Decimal("0.01")},
            errors.InsufficientFundsError,
            "insufficient_funds_error",
            402,
        ),
        ({"fail_rate": 1.0, "fail_status": 500}, errors.APIError, "api_error", 500),
        (
            {"fail_rate": 1.0, "fail_status": 503},
            errors.ServiceUnavailableError,
            "service_unavailable",
            503,
        ),
        ({"fail_rate": 1.0, "fail_status": 504}, errors.TimeoutError, "timeout", 504),
    ],
)
def test_api_errors_become_exceptions(start_simulator, tmp_path, options, cls, error_type, status):
    sim = start_simulator(**options)
    client = LTXClient(sim.url, sim.api_key)
    with pytest.raises(cls) as caught:
        client.generate(T2V, tmp_path / "out.mp4")
    error = caught.value
    assert (error.error_type, error.status) == (error_type, status)
    assert error.request_id == sim.records()[-1]["request_id"]
    assert not (tmp_path / "out.mp4").exists()


def test_authentication_error(simulator, tmp_path):
    client = LTXClient(simulator.url, "not-the-key")
    with pytest.raises(errors.AuthenticationError, match="Invalid API key"):
        client.generate(T2V, tmp_path / "out.mp4")


def test_rate_and_concurrency_limits_carry_retry_after(start_simulator, tmp_path):
    sim = start_simulator(rate_limit_per_minute=1)
    client = LTXClient(sim.url, sim.api_key)
    client.create_upload()
    with pytest.raises(errors.RateLimitError) as caught:
        client.create_upload()
    assert caught.value.retry_after >= 1
    assert caught.value.retryable


def test_lost_response_is_possibly_charged_and_leaves_no_file(
    start_simulator, tmp_path, small_renders
):
    sim = start_simulator(drop_rate=1.0)
    client = LTXClient(sim.url, sim.api_key)
    dest = tmp_path / "videos" / "out.mp4"
    with pytest.raises(errors.ResponseLostError) as caught:
        client.generate(T2V, dest)
    assert caught.value.possibly_charged
    assert caught.value.request_id == sim.records()[-1]["request_id"]
    assert list(dest.parent.iterdir()) == []  # neither the video nor a partial file


def test_connection_refused_is_not_charged(tmp_path):
    client = LTXClient("http://127.0.0.1:9", "key", connect_timeout=2)
    with pytest.raises(errors.ConnectionFailedError) as caught:
        client.generate(T2V, tmp_path / "out.mp4")
    assert not caught.value.possibly_charged


@pytest.mark.parametrize("route", ["_create_upload", "_receive_upload"])
@pytest.mark.parametrize("fault", ["reset", "timeout", "cut"])
def test_a_lost_upload_answer_cost_nothing(simulator, lose_answers, tmp_path, route, fault):
    """Issue #20: only a generation is billed, so a lost answer to POST /v1/upload or to its
    PUT is a connection failure (retried as one), never possibly charged."""
    lost = lose_answers(route, fault=fault)
    client = LTXClient(simulator.url, simulator.api_key, read_timeout=0.5)
    image = mediafiles.make_image(tmp_path, "PNG", size=(32, 18))
    with pytest.raises(errors.ConnectionFailedError) as caught:
        client.upload(image, "image/png")
    assert lost == [route]
    assert not caught.value.possibly_charged
    assert "cost nothing" in caught.value.message
    assert client.upload(image, "image/png").storage_uri.startswith("ltx://uploads/")


def test_read_timeout_may_have_been_charged(start_simulator, tmp_path, small_renders):
    sim = start_simulator(latency=2)
    client = LTXClient(sim.url, sim.api_key, read_timeout=0.5)
    with pytest.raises(errors.ResponseLostError, match="No answer") as caught:
        client.generate(T2V, tmp_path / "out.mp4")
    assert caught.value.possibly_charged


def test_upload_refuses_files_over_100_mb_before_sending(client, simulator):
    class Huge(io.RawIOBase):
        def seekable(self):
            return True

        def tell(self):
            return 0

        def seek(self, offset, whence=0):
            return rules.UPLOAD_MAX_BYTES + 1 if whence == 2 else 0

    with pytest.raises(rules.RequestInvalid, match="limited to 100 MB"):
        client.upload(Huge(), "video/mp4")
    assert simulator.records() == []


def test_the_key_is_never_logged_or_shown(simulator, tmp_path, caplog):
    client = LTXClient(simulator.url, "secret-key-123")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(errors.AuthenticationError) as caught:
        client.generate(T2V, tmp_path / "out.mp4")
    assert "secret-key-123" not in repr(client)
    assert "secret-key-123" not in str(caught.value)
    assert "secret-key-123" not in caplog.text


def test_result_carries_the_size_of_what_was_written(client, tmp_path, small_renders):
    dest = tmp_path / "v.mp4"
    result = client.generate(T2V, dest)
    assert result.size_bytes == dest.stat().st_size > 0


def test_a_body_over_the_cap_is_not_kept(client, tmp_path, small_renders):
    dest = tmp_path / "videos" / "v.mp4"
    with pytest.raises(errors.ResponseLostError, match="over our limit"):
        client.generate(T2V, dest, max_bytes=1000)
    assert list(dest.parent.iterdir()) == []


def test_a_failed_put_never_shows_its_signed_url(tmp_path):
    """The storage URL is signed: its query is a credential, and error messages reach a job's
    page. A PUT to a port where nothing listens fails without showing it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Api(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server name
            body = json.dumps(
                {
                    "upload_url": "http://127.0.0.1:9/put?X-Amz-Signature=SECRET-SIGNATURE",
                    "storage_uri": "ltx://uploads/1",
                    "expires_at": "2030-01-01T00:00:00Z",
                    "required_headers": {},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = LTXClient(f"http://127.0.0.1:{server.server_port}", "key", connect_timeout=2)
        image = mediafiles.make_image(tmp_path, "PNG")
        with pytest.raises(errors.ConnectionFailedError) as caught:
            client.upload(str(image), "image/png")
    finally:
        server.shutdown()
    assert "SECRET-SIGNATURE" not in str(caught.value)
    assert not caught.value.possibly_charged
