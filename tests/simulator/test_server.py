"""The simulator over real HTTP, spoken to with plain `requests` as any API user would."""

import json
import socket
import struct
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from generations import media
from generations.ltx import rules
from generations.simulator import DEMO_API_KEY, render
from tests import mediafiles
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


def post(sim, endpoint, payload, *, key=DEMO_API_KEY, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(f"{sim.url}/v1/{endpoint}", json=payload, headers=headers, **kwargs)


def t2v(**fields):
    return {
        "prompt": "A lighthouse at dusk, waves rolling in",
        "model": "ltx-2-fast",
        "duration": 6,
        "resolution": "1920x1080",
        **fields,
    }


def assert_error(response, status, error_type, words=""):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert words in body["error"]["message"]
    assert len(response.headers["x-request-id"]) >= 16


def save(response, path) -> media.MediaInfo:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "video/mp4"
    path.write_bytes(response.content)
    return media.probe(path)


# -- auth, envelope, request ids -----------------------------------------------------------


def test_auth_errors(simulator):
    assert_error(
        post(simulator, "text-to-video", t2v(), key=None),
        401,
        "authentication_error",
        "Missing authorization header",
    )
    response = requests.post(
        f"{simulator.url}/v1/text-to-video", json=t2v(), headers={"Authorization": "Token abc"}
    )
    assert_error(response, 401, "authentication_error", "Malformed")
    assert_error(
        post(simulator, "text-to-video", t2v(), key="wrong"),
        401,
        "authentication_error",
        "Invalid API key",
    )
    assert_error(post(simulator, "upload", None, key="wrong"), 401, "authentication_error")


def test_request_ids_are_unique_on_every_response(simulator):
    ids = set()
    for key in (None, "wrong", DEMO_API_KEY):
        response = post(simulator, "text-to-video", {"model": "x"}, key=key)
        ids.add(response.headers["x-request-id"])
    ids.add(requests.get(f"{simulator.url}/nowhere").headers["x-request-id"])
    assert len(ids) == 4


def test_unknown_endpoint_and_bad_json(simulator):
    response = post(simulator, "image-to-image", t2v())
    assert response.status_code == 404 and response.json()["type"] == "error"
    response = requests.post(
        f"{simulator.url}/v1/text-to-video",
        data=b"{not json",
        headers={"Authorization": f"Bearer {DEMO_API_KEY}", "Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_request_error", "valid JSON")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (t2v(prompt=None), "prompt is required"),
        (t2v(duration=12, model="ltx-2-pro"), "supports durations of 6, 8, 10"),
        (t2v(fps=30), "supports fps 25 or 50"),
        (t2v(resolution="1280x720"), "resolution must be one of"),
        (t2v(camera_motion="zoom_in"), "camera_motion must be one of"),
    ],
)
def test_validation_errors_are_specific(simulator, payload, words):
    payload = {k: v for k, v in payload.items() if v is not None}
    assert_error(post(simulator, "text-to-video", payload), 400, "invalid_request_error", words)


def test_oversized_body_is_refused_by_the_infrastructure_not_as_json(simulator):
    payload = t2v(prompt="x" * (21 * rules.MB))
    response = post(simulator, "text-to-video", payload)
    assert response.status_code == 413
    assert "x-request-id" in response.headers
    with pytest.raises(ValueError):
        response.json()


# -- the support matrix, exhaustively ------------------------------------------------------


@pytest.mark.usefixtures("small_renders")
def test_every_supported_combination_is_accepted_and_neighbours_refused(simulator):
    image = mediafiles.data_uri(
        Path(mediafiles.make_image(simulator.state.data_dir, "PNG")).read_bytes(), "image/png"
    )
    accepted = refused = 0
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEMO_API_KEY}"
    for (model, resolution, fps), durations in rules.SUPPORT_MATRIX.items():
        neighbours = {d + 1 for d in durations} | {d - 1 for d in durations} | {4, 22}
        for endpoint in ("text-to-video", "image-to-video"):
            extra = {"image_uri": image} if endpoint == "image-to-video" else {}
            for duration in durations:
                payload = t2v(model=model, resolution=resolution, fps=fps, duration=duration)
                response = session.post(f"{simulator.url}/v1/{endpoint}", json={**payload, **extra})
                assert response.status_code == 200, (endpoint, model, resolution, fps, duration)
                assert response.content[4:8] == b"ftyp"
                accepted += 1
            for duration in sorted(neighbours - set(durations)):
                payload = t2v(model=model, resolution=resolution, fps=fps, duration=duration)
                response = session.post(f"{simulator.url}/v1/{endpoint}", json={**payload, **extra})
                assert response.status_code == 400, (endpoint, model, resolution, fps, duration)
                refused += 1
            for other_fps in (24, 30, 60):
                payload = t2v(model=model, resolution=resolution, fps=other_fps)
                response = session.post(f"{simulator.url}/v1/{endpoint}", json={**payload, **extra})
                assert response.status_code == 400
                refused += 1
    assert accepted == 2 * 41
    assert refused > accepted


# -- real videos ---------------------------------------------------------------------------


def test_text_to_video_returns_the_requested_mp4(simulator, tmp_path):
    info = save(post(simulator, "text-to-video", t2v(duration=8)), tmp_path / "out.mp4")
    assert (info.width, info.height, info.fps, info.frames) == (1920, 1080, 25, 200)
    assert info.video_codec == "h264"
    assert info.duration == pytest.approx(8, abs=0.05)
    assert info.has_audio and info.audio_codec == "aac"


def test_silent_50fps_video(simulator, tmp_path):
    payload = t2v(duration=6, fps=50, generate_audio=False, model="ltx-2-pro")
    info = save(post(simulator, "text-to-video", payload), tmp_path / "out.mp4")
    assert (info.fps, info.frames, info.has_audio) == (50, 300, False)


@pytest.mark.usefixtures("small_renders")
def test_larger_resolutions_reach_the_renderer(simulator, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(
        render,
        "render_generation",
        lambda dest, **kw: seen.append(kw) or Path(dest).write_bytes(b"\0\0\0\x18ftypisom"),
    )
    post(simulator, "text-to-video", t2v(resolution="3840x2160", fps=50, duration=10))
    assert (seen[0]["width"], seen[0]["height"], seen[0]["fps"], seen[0]["frames"]) == (
        3840,
        2160,
        50,
        500,
    )


def test_image_to_video_starts_on_the_image(simulator, tmp_path):
    image = mediafiles.make_image(tmp_path, "JPEG", size=(640, 360), color=(220, 20, 20))
    payload = t2v(image_uri=mediafiles.data_uri(image.read_bytes(), "image/jpeg"))
    out = tmp_path / "out.mp4"
    info = save(post(simulator, "image-to-video", payload), out)
    assert (info.width, info.height, info.frames) == (1920, 1080, 150)
    import av

    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_image().resize((16, 9))
    r, g, b = frame.getpixel((8, 4))[:3]
    assert r > 150 and g < 90 and b < 90


def test_image_to_video_ends_on_the_last_frame_under_current(simulator, tmp_path, settings):
    settings.LTX_CAPABILITIES = "current"
    red = mediafiles.make_image(tmp_path, "JPEG", size=(360, 640), color=(220, 20, 20))
    blue = mediafiles.make_image(tmp_path, "PNG", size=(360, 640), color=(20, 20, 220))
    payload = t2v(
        model="ltx-2-3-pro",
        resolution="1080x1920",
        fps=24,
        duration=2,
        image_uri=mediafiles.data_uri(red.read_bytes(), "image/jpeg"),
        last_frame_uri=mediafiles.data_uri(blue.read_bytes(), "image/png"),
    )
    out = tmp_path / "out.mp4"
    info = save(post(simulator, "image-to-video", payload), out)
    assert (info.width, info.height, info.frames) == (1080, 1920, 48)
    import av

    with av.open(str(out)) as container:
        frames = [frame.to_image().resize((9, 16)) for frame in container.decode(video=0)]
    r, g, b = frames[0].getpixel((4, 8))[:3]
    assert r > 150 and g < 90 and b < 90
    r, g, b = frames[-1].getpixel((4, 8))[:3]
    assert b > 150 and r < 90 and g < 90
    # A model that does not take it, and the contract, which knows no such field.
    refused = post(simulator, "image-to-video", {**payload, "model": "ltx-2-5-pro"})
    assert_error(refused, 400, "invalid_request_error", "ltx-2-5-pro does not take last_frame_uri")
    settings.LTX_CAPABILITIES = "contract"
    contract = {
        **payload,
        "model": "ltx-2-pro",
        "resolution": "1920x1080",
        "fps": 25,
        "duration": 6,
    }
    assert_error(
        post(simulator, "image-to-video", contract), 400, "invalid_request_error", "last_frame_uri"
    )


def test_audio_to_video_lasts_as_long_as_the_audio(simulator, tmp_path):
    audio = mediafiles.make_audio(tmp_path, "m4a", seconds=3.4)
    payload = {"audio_uri": mediafiles.data_uri(audio.read_bytes(), "audio/mp4"), "prompt": "rain"}
    info = save(post(simulator, "audio-to-video", payload), tmp_path / "out.mp4")
    assert (info.width, info.height, info.fps) == (1920, 1080, 25)
    assert info.frames == 85
    assert info.has_audio


def test_audio_to_video_with_image_and_empty_prompt(simulator, tmp_path):
    audio = mediafiles.make_audio(tmp_path, "wav-mp3", seconds=2.0)
    image = mediafiles.make_image(tmp_path, "PNG")
    payload = {
        "audio_uri": mediafiles.data_uri(audio.read_bytes(), "audio/wav"),
        "image_uri": mediafiles.data_uri(image.read_bytes(), "image/png"),
        "prompt": "",
    }
    info = save(post(simulator, "audio-to-video", payload), tmp_path / "out.mp4")
    # MP3 pads its frames: the video follows the audio's real length, not the nominal 2 s.
    assert info.frames == round(media.probe(audio).duration * 25)


def test_pcm_wav_is_refused_plainly(simulator, tmp_path):
    audio = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=1.0)
    payload = {"audio_uri": mediafiles.data_uri(audio.read_bytes(), "audio/wav"), "prompt": "rain"}
    assert_error(post(simulator, "audio-to-video", payload), 400, "invalid_request_error", "PCM")


def test_image_that_is_not_an_image_is_refused(simulator, tmp_path):
    audio = mediafiles.make_audio(tmp_path, "mp3", seconds=1.0)
    payload = t2v(image_uri=mediafiles.data_uri(audio.read_bytes(), "image/png"))
    assert_error(
        post(simulator, "image-to-video", payload), 400, "invalid_request_error", "image_uri"
    )


def test_retake_keeps_the_length_of_the_input(simulator, tmp_path):
    video = mediafiles.make_video(tmp_path, "mp4", size=(640, 360), fps=25, frames=100)
    payload = {
        "video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"),
        "prompt": "the cat jumps",
        "start_time": 3,
        "duration": 5,  # beyond the end: clamped, not refused
        "mode": "replace_video",
    }
    info = save(post(simulator, "retake", payload), tmp_path / "out.mp4")
    assert (info.width, info.height, info.fps, info.frames) == (640, 360, 25, 100)


def test_retake_refuses_a_video_under_73_frames(simulator, tmp_path):
    video = mediafiles.make_video(tmp_path, "mp4", fps=25, frames=60)
    payload = {
        "video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"),
        "start_time": 0,
        "duration": 2,
    }
    assert_error(post(simulator, "retake", payload), 400, "invalid_request_error", "73 to 505")


def test_retake_refuses_a_vp9_video(simulator, tmp_path):
    video = mediafiles.make_video(tmp_path, "webm", codec="vp9", frames=80, audio=False)
    payload = {
        "video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"),
        "start_time": 0,
        "duration": 2,
    }
    assert_error(post(simulator, "retake", payload), 400, "invalid_request_error", "video_uri")


# -- uploads -------------------------------------------------------------------------------


def upload(sim, path, content_type):
    created = post(sim, "upload", None)
    assert created.status_code == 200
    info = created.json()
    assert set(info) == {"upload_url", "storage_uri", "expires_at", "required_headers"}
    with open(path, "rb") as fh:
        put = requests.put(
            info["upload_url"],
            data=fh,
            headers={"Content-Type": content_type, **info["required_headers"]},
        )
    return info, put


def test_upload_flow_then_use_the_storage_uri(simulator, tmp_path):
    image = mediafiles.make_image(tmp_path, "WEBP", size=(320, 180))
    info, put = upload(simulator, image, "image/webp")
    assert put.status_code == 200
    assert info["storage_uri"].startswith("ltx://uploads/")
    payload = t2v(image_uri=info["storage_uri"], duration=6)
    saved = save(post(simulator, "image-to-video", payload), tmp_path / "out.mp4")
    assert saved.frames == 150


def test_upload_url_needs_its_signature_and_headers(simulator, tmp_path):
    image = mediafiles.make_image(tmp_path, "PNG")
    info = post(simulator, "upload", None).json()
    tampered = info["upload_url"].replace("signature=", "signature=0")
    response = requests.put(
        tampered,
        data=image.read_bytes(),
        headers={"Content-Type": "image/png", **info["required_headers"]},
    )
    assert response.status_code == 403
    response = requests.put(
        info["upload_url"], data=image.read_bytes(), headers={"Content-Type": "image/png"}
    )
    assert response.status_code == 400
    assert "x-goog-content-length-range" in response.text


def test_unknown_storage_uri_is_refused(simulator):
    payload = t2v(image_uri="ltx://uploads/does-not-exist")
    assert_error(
        post(simulator, "image-to-video", payload), 400, "invalid_request_error", "was not found"
    )


def test_upload_url_and_file_expire(start_simulator, tmp_path):
    sim = start_simulator(upload_url_ttl=1, file_ttl=2)
    image = mediafiles.make_image(tmp_path, "PNG")
    info, put = upload(sim, image, "image/png")
    assert put.status_code == 200
    late = post(sim, "upload", None).json()
    time.sleep(2.1)
    response = requests.put(
        late["upload_url"],
        data=image.read_bytes(),
        headers={"Content-Type": "image/png", **late["required_headers"]},
    )
    assert response.status_code == 403 and "expired" in response.text
    assert_error(
        post(sim, "image-to-video", t2v(image_uri=info["storage_uri"])),
        400,
        "invalid_request_error",
        "has expired",
    )


# -- https inputs --------------------------------------------------------------------------


def test_https_inputs_only_from_allowed_hosts_without_redirects(
    start_simulator, file_server, tmp_path
):
    mediafiles.make_image(file_server.root, "PNG", name="still.png")
    (file_server.root / "moved").mkdir()  # a directory: the file server redirects to moved/
    sim = start_simulator(allow_fetch_hosts={"media.example.com": file_server.address})
    ok = post(sim, "image-to-video", t2v(image_uri="https://media.example.com/still.png"))
    assert ok.status_code == 200
    assert_error(
        post(sim, "image-to-video", t2v(image_uri="https://other.example.com/a.png")),
        400,
        "invalid_request_error",
        "not publicly accessible",
    )
    assert_error(
        post(sim, "image-to-video", t2v(image_uri="https://media.example.com/moved")),
        400,
        "invalid_request_error",
        "redirects",
    )
    assert_error(
        post(sim, "image-to-video", t2v(image_uri="https://media.example.com/none.png")),
        400,
        "invalid_request_error",
        "HTTP 404",
    )


def test_https_input_over_the_size_limit(start_simulator, file_server, monkeypatch):
    monkeypatch.setitem(rules.HTTPS_MAX_BYTES, "image", 1000)
    mediafiles.make_image(file_server.root, "PNG", size=(200, 200), noise=True, name="big.png")
    sim = start_simulator(allow_fetch_hosts={"media.example.com": file_server.address})
    assert_error(
        post(sim, "image-to-video", t2v(image_uri="https://media.example.com/big.png")),
        400,
        "invalid_request_error",
        "larger than",
    )


# -- limits and faults ---------------------------------------------------------------------


def test_rate_limit(start_simulator):
    sim = start_simulator(rate_limit_per_minute=2)
    assert post(sim, "upload", None).status_code == 200
    assert post(sim, "upload", None).status_code == 200
    response = post(sim, "upload", None)
    assert_error(response, 429, "rate_limit_error")
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_concurrency_limit(start_simulator, small_renders):
    sim = start_simulator(concurrency_limit=2, latency=1.0)
    responses = []

    def go():
        responses.append(post(sim, "text-to-video", t2v()))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429]
    limited = [r for r in responses if r.status_code == 429]
    for response in limited:
        assert_error(response, 429, "concurrency_limit_error")
        assert int(response.headers["Retry-After"]) >= 1
    assert sim.state.peak_in_flight == 2
    records = [r for r in sim.records() if r["endpoint"] == "text-to-video"]
    assert len(records) == 4
    ok = [r for r in records if r["status"] == 200]
    assert ok[0]["start"] < ok[1]["end"] and ok[1]["start"] < ok[0]["end"]  # overlapped


def test_a_slow_generation_does_not_block_others(start_simulator, small_renders):
    sim = start_simulator(latency=1.5)
    started = time.monotonic()
    slow = threading.Thread(target=lambda: post(sim, "text-to-video", t2v()))
    slow.start()
    time.sleep(0.2)
    assert post(sim, "upload", None).status_code == 200
    assert time.monotonic() - started < 1.4
    slow.join()


@pytest.mark.parametrize(
    ("status", "error_type"), [(500, "api_error"), (503, "service_unavailable"), (504, None)]
)
def test_fault_injection(start_simulator, status, error_type):
    sim = start_simulator(fail_rate=1.0, fail_status=status)
    response = post(sim, "text-to-video", t2v())
    assert response.status_code == status
    if error_type:
        assert_error(response, status, error_type)
    else:  # a gateway timeout: no envelope
        assert "x-request-id" in response.headers
        with pytest.raises(ValueError):
            response.json()


def test_credits_run_out_with_402(start_simulator, small_renders):
    sim = start_simulator(credits=Decimal("0.60"))
    assert post(sim, "text-to-video", t2v(duration=8, model="ltx-2-fast")).status_code == 200
    assert sim.state.balance == Decimal("0.28")
    response = post(sim, "text-to-video", t2v(duration=8, model="ltx-2-pro"))
    assert_error(response, 402, "insufficient_funds_error", "Required: 0.48")
    assert sim.state.balance == Decimal("0.28")  # a refusal costs nothing


def test_failed_generations_are_not_charged(start_simulator):
    sim = start_simulator(credits=Decimal("1.00"), fail_rate=1.0, fail_status=503)
    assert post(sim, "text-to-video", t2v()).status_code == 503
    assert sim.state.balance == Decimal("1.00")


def test_filter_words(start_simulator):
    sim = start_simulator(filter_words=["explosion"])
    response = post(sim, "text-to-video", t2v(prompt="A huge EXPLOSION in the city"))
    assert_error(response, 422, "content_filtered_error", "policy")


def test_drop_rate_cuts_the_body(start_simulator, small_renders):
    sim = start_simulator(drop_rate=1.0)
    response = requests.post(
        f"{sim.url}/v1/text-to-video",
        json=t2v(),
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
        stream=True,
    )
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        b"".join(response.iter_content(65536))
    assert sim.records()[-1]["dropped"] is True


def _send_raw(sim, head: str, body: bytes) -> socket.socket:
    host, port = sim.server.server_address[:2]
    sock = socket.create_connection((host, port))
    sock.sendall(head.replace("\n", "\r\n").encode() + body)
    return sock


def test_record_keeps_a_generation_whose_client_went_away(start_simulator, small_renders):
    sim = start_simulator(latency=1.0)
    body = json.dumps(t2v()).encode()
    sock = _send_raw(
        sim,
        f"POST /v1/text-to-video HTTP/1.1\nHost: sim\nAuthorization: Bearer {DEMO_API_KEY}\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}\n\n",
        body,
    )
    wait_until(lambda: sim.state.in_flight == 1, timeout=10, interval=0.01, message="started")
    # Closed with a reset, as when the client's process is killed while its answer is made.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    [record] = sim.records()
    assert record["endpoint"] == "text-to-video"
    assert record["ended"] == "client disconnected"


def test_record_keeps_an_upload_cut_short(simulator):
    info = post(simulator, "upload", None).json()
    assert len(simulator.records()) == 1  # and the upload's request has ended
    path = info["upload_url"].removeprefix(simulator.url)
    [(name, value)] = info["required_headers"].items()
    sock = _send_raw(
        simulator,
        f"PUT {path} HTTP/1.1\nHost: sim\nContent-Type: image/png\nContent-Length: 1000\n"
        f"{name}: {value}\n\n",
        b"x" * 10,
    )
    wait_until(lambda: simulator.state.active_requests == 1, interval=0.01, message="reading")
    sock.shutdown(socket.SHUT_WR)  # the client stops sending, 990 bytes short
    records = simulator.records()
    sock.close()
    assert [(r["endpoint"], r["ended"]) for r in records] == [
        ("upload", "answered"),
        ("storage", "client disconnected"),
    ]
    assert records[1]["status"] is None


def test_record_has_a_line_per_request(start_simulator, small_renders):
    sim = start_simulator()
    post(sim, "text-to-video", t2v())
    post(sim, "text-to-video", {"model": "nope"})
    post(sim, "upload", None, key="wrong")
    records = sim.records()
    # A line is written once its answer is sent, so the next request's may come first.
    assert sorted((r["endpoint"], r["status"]) for r in records) == [
        ("text-to-video", 200),
        ("text-to-video", 400),
        ("upload", 401),
    ]
    for record in records:
        assert record["end"] >= record["start"]
        assert len(record["request_id"]) == 32


# -- the command line ----------------------------------------------------------------------


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "ltxsim"],
        [sys.executable, "-m", "generations.simulator"],
    ],
)
def test_command_line_serves_with_its_options(command, tmp_path):
    port = _free_port()
    record = tmp_path / "record.jsonl"
    process = subprocess.Popen(
        [
            *command,
            "--port",
            str(port),
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--filter-words",
            "forbidden",
            "--record",
            str(record),
            "--rate-limit",
            "100/min",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/v1/text-to-video"
        refused = requests.post(
            url, json=t2v(prompt="forbidden"), headers={"Authorization": "Bearer k2"}
        )
        assert refused.status_code == 422
        wrong_key = requests.post(url, json=t2v(), headers={"Authorization": "Bearer demo"})
        assert wrong_key.status_code == 401

        # Each line is written once its answer has gone (so in either order), and the health
        # checks have theirs. Only whole lines are read.
        def statuses():
            lines = [json.loads(line) for line in record.read_text().split("\n")[:-1]]
            return sorted(r["status"] for r in lines if r["endpoint"] == "text-to-video")

        wait_until(lambda: len(statuses()) == 2, timeout=10, interval=0.05, message="record")
        assert statuses() == [401, 422]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "ltxsim"],
        [sys.executable, "-m", "generations.simulator"],
    ],
)
def test_command_line_plays_the_profile_it_is_given(command, tmp_path):
    bad = subprocess.run(
        [*command, "--profile", "tomorrow"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "LTX_CAPABILITIES must be contract or current" in bad.stderr
    port = _free_port()
    process = subprocess.Popen(
        [
            *command,
            "--port",
            str(port),
            "--api-key",
            "k1",
            "--filter-words",
            "forbidden",
            "--profile",
            "current",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30, message="simulator"
        )
        portrait = t2v(prompt="forbidden", model="ltx-2-3-fast", resolution="1080x1920", fps=48)
        answer = requests.post(
            f"http://127.0.0.1:{port}/v1/text-to-video",
            json=portrait,
            headers={"Authorization": "Bearer k1"},
            timeout=10,
        )
        # Past the request's checks (portrait, 48 fps, a newer model): refused for its words.
        assert answer.status_code == 422
        assert answer.json()["error"]["type"] == "content_filtered_error", answer.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url):
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False
