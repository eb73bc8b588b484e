import base64
import itertools

import pytest

from generations.ltx import rules
from generations.ltx.rules import RequestInvalid
from generations.ltx.schemas import validate_request
from tests import mediafiles

ALL_FPS = (24, 25, 30, 50, 60)
ALL_DURATIONS = range(1, 25)


def t2v(**fields):
    payload = {"prompt": "A red kite", "model": "ltx-2-fast", "duration": 8}
    payload["resolution"] = "1920x1080"
    payload.update(fields)
    return payload


def test_matrix_matches_the_docs_table():
    # "Supported Models", row by row.
    assert rules.allowed_durations("ltx-2-fast", "1920x1080", 25) == (6, 8, 10, 12, 14, 16, 18, 20)
    assert rules.allowed_durations("ltx-2-fast", "1920x1080", 50) == (6, 8, 10)
    for model, resolution, fps in itertools.product(rules.MODELS, rules.RESOLUTIONS, (25, 50)):
        if (model, resolution, fps) != ("ltx-2-fast", "1920x1080", 25):
            assert rules.allowed_durations(model, resolution, fps) == (6, 8, 10)
    assert len(rules.SUPPORT_MATRIX) == 12


@pytest.mark.parametrize("endpoint", [rules.TEXT_TO_VIDEO, rules.IMAGE_TO_VIDEO])
def test_every_combination_is_accepted_exactly_when_listed(endpoint):
    image = {"image_uri": "https://images.example.com/a.png"}
    extra = image if endpoint == rules.IMAGE_TO_VIDEO else {}
    accepted = 0
    for model, resolution, fps, duration in itertools.product(
        rules.MODELS, rules.RESOLUTIONS + ("1280x720",), ALL_FPS, ALL_DURATIONS
    ):
        payload = t2v(model=model, resolution=resolution, fps=fps, duration=duration, **extra)
        listed = duration in rules.SUPPORT_MATRIX.get((model, resolution, fps), ())
        if listed:
            assert validate_request(endpoint, payload)["duration"] == duration
            accepted += 1
        else:
            with pytest.raises(RequestInvalid):
                validate_request(endpoint, payload)
    assert accepted == 41


def test_defaults_are_filled_in():
    out = validate_request(rules.TEXT_TO_VIDEO, t2v())
    assert out["fps"] == 25
    assert out["generate_audio"] is True
    assert "camera_motion" not in out


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"model": "ltx-2-fast", "duration": 8, "resolution": "1920x1080"}, "prompt", "required"),
        (t2v(prompt="   "), "prompt", "empty"),
        (t2v(model="ltx-3"), "model", "ltx-2-fast, ltx-2-pro"),
        (t2v(duration=7), "duration", "6, 8, 10, 12, 14, 16, 18, 20"),
        (t2v(duration=8.5), "duration", "whole number"),
        (t2v(duration="8"), "duration", "integer"),
        (t2v(fps=30), "fps", "25 or 50"),
        (t2v(model="ltx-2-pro", duration=12), "duration", "6, 8, 10"),
        (t2v(resolution="1280x720"), "resolution", "1920x1080"),
        (t2v(generate_audio="yes"), "generate_audio", "true or false"),
        (t2v(camera_motion="zoom"), "camera_motion", "dolly_in"),
        (t2v(seed=3), "seed", "unknown field"),
    ],
)
def test_refusals_say_what_is_wrong(payload, field, words):
    with pytest.raises(RequestInvalid) as caught:
        validate_request(rules.TEXT_TO_VIDEO, payload)
    assert caught.value.field == field
    assert words in caught.value.message


def test_whole_float_duration_is_accepted_as_integer():
    assert validate_request(rules.TEXT_TO_VIDEO, t2v(duration=8.0))["duration"] == 8


def test_camera_motions_all_accepted():
    for motion in rules.CAMERA_MOTIONS:
        assert validate_request(rules.TEXT_TO_VIDEO, t2v(camera_motion=motion))["camera_motion"]


class TestAudioToVideo:
    def test_defaults_with_and_without_image(self):
        out = validate_request(
            rules.AUDIO_TO_VIDEO, {"audio_uri": "ltx://uploads/a1", "prompt": "rain"}
        )
        assert out["guidance_scale"] == 5
        assert out["model"] == "ltx-2-pro"
        assert out["resolution"] == "1920x1080"
        out = validate_request(
            rules.AUDIO_TO_VIDEO,
            {"audio_uri": "ltx://uploads/a1", "image_uri": "ltx://uploads/i1", "prompt": ""},
        )
        assert out["guidance_scale"] == 9
        assert out["prompt"] == ""

    @pytest.mark.parametrize(
        ("payload", "words"),
        [
            ({"prompt": "rain"}, "audio_uri is required"),
            ({"audio_uri": "ltx://uploads/a1"}, "prompt is required when image_uri"),
            ({"audio_uri": "ltx://uploads/a1", "prompt": ""}, "prompt is required"),
            (
                {"audio_uri": "ltx://uploads/a1", "prompt": "x", "model": "ltx-2-fast"},
                "only model ltx-2-pro",
            ),
            (
                {"audio_uri": "ltx://uploads/a1", "prompt": "x", "resolution": "3840x2160"},
                "only resolution 1920x1080",
            ),
            (
                {"audio_uri": "ltx://uploads/a1", "prompt": "x", "guidance_scale": -1},
                "greater than 0",
            ),
        ],
    )
    def test_refusals(self, payload, words):
        with pytest.raises(RequestInvalid, match=words):
            validate_request(rules.AUDIO_TO_VIDEO, payload)


class TestRetake:
    def test_defaults(self):
        out = validate_request(
            rules.RETAKE, {"video_uri": "ltx://uploads/v1", "start_time": 0, "duration": 5}
        )
        assert out["mode"] == "replace_audio_and_video"
        assert out["model"] == "ltx-2-pro"

    @pytest.mark.parametrize(
        ("fields", "words"),
        [
            ({"duration": 1.9}, "at least 2 seconds"),
            ({"start_time": -1}, "0 or more"),
            ({"mode": "replace_everything"}, "replace_audio, replace_video"),
            ({"model": "ltx-2-fast"}, "only model ltx-2-pro"),
            ({"start_time": 10**400}, "start_time must be a finite number"),
            ({"duration": float("nan")}, "duration must be a finite number"),
        ],
    )
    def test_refusals(self, fields, words):
        payload = {"video_uri": "ltx://uploads/v1", "start_time": 0, "duration": 5, **fields}
        with pytest.raises(RequestInvalid, match=words):
            validate_request(rules.RETAKE, payload)

    def test_video_limits_read_as_frame_counts(self):
        rules.check_retake_video(width=3840, height=2160, duration=21, frames=505)
        rules.check_retake_video(width=2160, height=3840, duration=21, frames=505)  # portrait
        rules.check_retake_video(width=1920, height=1080, duration=2.92, frames=73)
        with pytest.raises(RequestInvalid, match="73 to 505 frames"):
            rules.check_retake_video(width=1920, height=1080, duration=2.88, frames=72)
        with pytest.raises(RequestInvalid, match="73 to 505 frames"):
            rules.check_retake_video(width=1920, height=1080, duration=10.12, frames=506)
        with pytest.raises(RequestInvalid, match="at most 21 seconds"):
            rules.check_retake_video(width=1920, height=1080, duration=21.5, frames=500)
        with pytest.raises(RequestInvalid, match="3840x2160"):
            rules.check_retake_video(width=4096, height=2160, duration=8, frames=200)
        with pytest.raises(RequestInvalid, match="2160x3840 portrait"):
            rules.check_retake_video(width=2160, height=4096, duration=8, frames=200)

    def test_section_beyond_the_video_is_clamped(self):
        assert rules.clamp_retake_section(6, 5, 8) == (6, 2)
        assert rules.clamp_retake_section(0, 5, 8) == (0, 5)


class TestMediaUris:
    def test_forms(self):
        assert rules.parse_media_uri("ltx://uploads/abc-123", field="image_uri").method == (
            "storage"
        )
        assert rules.parse_media_uri("https://cdn.example.com/a.png", field="image_uri").method == (
            "https"
        )
        uri = mediafiles.data_uri(b"\x89PNG....", "image/png")
        parsed = rules.parse_media_uri(uri, field="image_uri")
        assert parsed.method == "data" and parsed.decoded() == b"\x89PNG...."

    @pytest.mark.parametrize(
        ("uri", "words"),
        [
            ("http://example.com/a.png", "https, not http"),
            ("https://93.184.216.34/a.png", "domain name, not an IP"),
            ("https://[2001:db8::1]/a.png", "domain name, not an IP"),
            ("https://intranet/a.png", "public domain name"),
            ("ftp://example.com/a.png", "must be an https URL"),
            ("ltx://elsewhere/../x", "not a valid storage URI"),
            ("data:image/gif;base64,R0lGOD", "image/gif"),
            ("data:image/png;base64,@@@", "not valid base64"),
            ("data:image/png,rawbytes", "not a valid data URI"),
            ("", "non-empty string"),
        ],
    )
    def test_refusals(self, uri, words):
        with pytest.raises(RequestInvalid, match=words):
            rules.parse_media_uri(uri, field="image_uri")

    def test_data_uri_limits_count_encoded_bytes(self):
        at_limit = "data:image/png;base64," + "A" * rules.DATA_URI_MAX_ENCODED_BYTES["image"]
        rules.parse_media_uri(at_limit, field="image_uri")
        over = at_limit + "AAAA"
        with pytest.raises(RequestInvalid, match="limit for image data URIs is 7 MB"):
            rules.parse_media_uri(over, field="image_uri")
        # Video and audio get 15 MB encoded.
        video = "data:video/mp4;base64," + base64.b64encode(b"x" * 9_000_000).decode()
        assert len(video.partition(",")[2]) == 12_000_000
        assert rules.parse_media_uri(video, field="video_uri").method == "data"
