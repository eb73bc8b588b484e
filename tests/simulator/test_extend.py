"""The simulator's /v1/extend, spoken to over HTTP under the `current` profile: a real MP4, the
input's frames plus the seconds added at its start or end, at the input's size and frame rate,
with audio when the input has it; refused by content as the API refuses."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import av
import pytest

from tests import mediafiles
from tests.simulator.test_render import difference, video_frames
from tests.simulator.test_server import assert_error, post

CREDITS = Decimal("10")


@pytest.fixture(autouse=True)
def current(settings):
    """The in-process simulator plays the profile the app's setting chooses."""
    settings.LTX_CAPABILITIES = "current"


@pytest.fixture
def simulator(start_simulator):
    return start_simulator(credits=CREDITS)


def decoded(path) -> dict:
    """What the answer holds, read by decoding it with PyAV."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info = {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": video.average_rate,
            "frames": sum(1 for _ in container.decode(video)),
            "audio_seconds": None,
        }
    with av.open(str(path)) as container:
        if container.streams.audio:
            samples = sum(frame.samples for frame in container.decode(audio=0))
            info["audio_seconds"] = samples / container.streams.audio[0].codec_context.sample_rate
    return info


def extended(simulator, tmp_path, video, **fields):
    payload = {"video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"), **fields}
    response = post(simulator, "extend", payload)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "video/mp4"
    out = tmp_path / "extended.mp4"
    out.write_bytes(response.content)
    return out


def test_extend_at_the_end_adds_the_seconds_after_the_inputs_frames(simulator, tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=80)
    out = extended(simulator, tmp_path, video, duration=2, prompt="the kite lands")

    info = decoded(out)
    assert (info["width"], info["height"], info["fps"]) == (320, 180, 25)
    assert info["frames"] == 80 + 50
    assert info["audio_seconds"] == pytest.approx(130 / 25, abs=0.05)
    before, after = video_frames(video), video_frames(out)
    assert max(difference(a, b) for a, b in zip(before, after[:80], strict=False)) < 8
    assert all(difference(after[79], frame) > 8 for frame in after[80:])
    # Billed by the seconds added (2 s at retake's figure), not by the whole video.
    assert simulator.records()[-1]["cost"] == "0.20"
    assert simulator.state.balance == CREDITS - Decimal("0.20")


def test_extend_at_the_start_puts_the_new_seconds_first(simulator, tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=80)
    out = extended(simulator, tmp_path, video, duration=3, mode="start", context=2)

    info = decoded(out)
    assert info["frames"] == 75 + 80
    assert info["audio_seconds"] == pytest.approx(155 / 25, abs=0.05)
    before, after = video_frames(video), video_frames(out)
    assert max(difference(a, b) for a, b in zip(before, after[75:], strict=True)) < 8
    assert all(difference(after[75], frame) > 8 for frame in after[:75])


def test_a_silent_portrait_input_stays_silent_at_its_own_rate(simulator, tmp_path):
    video = mediafiles.make_video(
        tmp_path, size=(180, 320), fps=Fraction(24), frames=80, audio=False
    )
    out = extended(simulator, tmp_path, video, duration=2.5)

    info = decoded(out)
    assert (info["width"], info["height"], info["fps"]) == (180, 320, 24)
    assert info["frames"] == 80 + 60
    assert info["audio_seconds"] is None


@pytest.mark.parametrize(
    ("make", "fields", "words"),
    [
        ({"frames": 60}, {}, "has 60 frames; extend needs at least 73"),
        ({"size": (240, 180), "frames": 80}, {}, "extend accepts 16:9 or 9:16 videos only"),
        ({"fps": 50, "frames": 100}, {"duration": 10}, "550 frames at the video's 50 fps"),
        ({"frames": 80}, {"duration": 10, "context": 12}, "at most 505 frames"),
        ({"frames": 80}, {"duration": 1}, "duration must be 2 to 20 seconds"),
    ],
)
def test_refused_by_content_before_anything_is_charged(simulator, tmp_path, make, fields, words):
    video = mediafiles.make_video(tmp_path, **{"size": (320, 180), **make})
    payload = {
        "video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"),
        "duration": 4,
        **fields,
    }
    assert_error(post(simulator, "extend", payload), 400, "invalid_request_error", words)
    assert simulator.state.balance == CREDITS


def test_the_contract_has_no_extend(simulator, tmp_path, settings):
    settings.LTX_CAPABILITIES = "contract"
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=80)
    payload = {"video_uri": mediafiles.data_uri(video.read_bytes(), "video/mp4"), "duration": 2}
    assert_error(post(simulator, "extend", payload), 404, "not_found_error", "POST /v1/extend")
