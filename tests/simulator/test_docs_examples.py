"""The curl and Python examples of the API docs, run as written against the simulator.

Only the base URL and the key are swapped; `https://example.com/...` inputs are served by
a local file server that the simulator is allowed to fetch from, as the real API would fetch
them from the internet.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from generations import media
from generations.simulator import DEMO_API_KEY
from tests import mediafiles

DOCS = Path(__file__).resolve().parents[3] / "shared" / "ltx-api" / "ltx-2-api-docs.md"
API = "https://api.ltx.video"


def examples(language):
    if not DOCS.exists():
        return []
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S)
    return [block for block in blocks if API in block]


def example_id(code):
    endpoint = re.search(rf"{API}/v1/([a-z-]+)", code).group(1)
    return endpoint


@pytest.fixture
def docs_simulator(start_simulator, file_server, tmp_path):
    www = file_server.root
    mediafiles.make_image(www, "JPEG", size=(640, 360), color=(250, 140, 40), name="sunset.jpg")
    mediafiles.make_image(www, "JPEG", size=(640, 360), color=(60, 90, 200), name="image.jpg")
    # "audio.wav": a WAV the API accepts (MP3 inside; PCM would be refused).
    mediafiles.make_audio(www, "wav-mp3", seconds=3.0, name="audio.wav")
    mediafiles.make_video(www, "mp4", size=(640, 360), fps=25, frames=200, name="input.mp4")
    return start_simulator(allow_fetch_hosts={"example.com": file_server.address})


def run_example(code, sim, cwd, language):
    code = code.replace(API, sim.url).replace("YOUR_API_KEY", DEMO_API_KEY)
    command = ["bash", "-c", code] if language == "bash" else [sys.executable, "-c", code]
    return subprocess.run(command, cwd=cwd, capture_output=True, timeout=120)


def test_the_docs_are_beside_the_project():
    assert DOCS.exists(), f"{DOCS} is missing: the tests read the API docs from shared/"
    assert len(examples("bash")) == 3
    assert len(examples("python")) == 6


@pytest.mark.parametrize("code", examples("bash"), ids=example_id)
def test_curl_example(code, docs_simulator, tmp_path):
    result = run_example(code, docs_simulator, tmp_path, "bash")
    assert result.returncode == 0, result.stderr
    outputs = list(tmp_path.glob("*.mp4"))
    if outputs:
        path = outputs[0]
    else:  # no -o: the MP4 came out on stdout
        path = tmp_path / "stdout.mp4"
        path.write_bytes(result.stdout)
    info = media.probe(path)
    assert (info.width, info.height, info.fps, info.frames) == (1920, 1080, 25, 200)


@pytest.mark.parametrize("code", examples("python"), ids=example_id)
def test_python_example(code, docs_simulator, tmp_path):
    if "v1/upload" in code:
        mediafiles.make_video(tmp_path, "mp4", frames=80, name="my-video.mp4")
    result = run_example(code, docs_simulator, tmp_path, "python")
    assert result.returncode == 0, result.stderr.decode()
    records = docs_simulator.records()
    assert records and all(r["status"] == 200 for r in records), records
    for path in tmp_path.glob("*_video.mp4"):
        info = media.probe(path)
        # A retake keeps its input's size (input.mp4 is 640x360); the others are 1080p.
        size = (640, 360) if path.name == "edited_video.mp4" else (1920, 1080)
        assert (info.width, info.height, info.fps) == (*size, 25)
        assert info.video_codec == "h264" and info.has_audio
    if "v1/upload" in code:
        # Each line is written once its answer is sent, so the two may come in either order.
        assert sorted(r["endpoint"] for r in records) == ["storage", "upload"]
