"""The simulator's MP4 rendering, checked by decoding every output with PyAV.

Renders are small (320x180, a few seconds) so the suite stays fast; one full-size render
proves 1080p works. Needs neither Django nor a network.
"""

from __future__ import annotations

import itertools
import math
import struct
import wave
from array import array
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from generations.simulator import mp4, overlay, render
from generations.simulator.render import render_generation, render_retake

W, H, FPS = 320, 180, 25
# Where the timecode's first digits are at 320x180, inside the counter's opaque box.
TIMECODE = (8, 8, 60, 20)
CAPTIONS = ["A red kite over a green hill, seen from far away", "ltx-2-fast · 320x180 · 25 fps"]


# --- Helpers ------------------------------------------------------------------------------------


def probe(path: Path) -> dict:
    """Everything the tests assert on, read by decoding the whole file."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info = {
            "video_codec": video.codec_context.name,
            "video_profile": video.codec_context.profile,
            "pix_fmt": video.codec_context.pix_fmt,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": video.average_rate,
            "duration": container.duration / av.time_base,
            "video_duration": float(video.duration * video.time_base),
            "audio": None,
        }
        if container.streams.audio:
            audio = container.streams.audio[0]
            info["audio"] = {
                "codec": audio.codec_context.name,
                "profile": audio.codec_context.profile,
                "sample_rate": audio.codec_context.sample_rate,
                "channels": audio.codec_context.channels,
                "duration": float(audio.duration * audio.time_base),
            }
        info["frames"] = sum(1 for _ in container.decode(video))
    return info


def video_frames(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def audio_samples(path: Path) -> array:
    """The left channel of the first audio stream, as floats at 48 kHz."""
    samples = array("f")
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                samples.frombytes(bytes(out.planes[0])[: 4 * out.samples])
    return samples


def loudness(samples: array, start: float, stop: float) -> float:
    """Root mean square of the samples between two times in seconds."""
    window = samples[round(start * 48_000) : round(stop * 48_000)]
    return math.sqrt(sum(s * s for s in window) / len(window))


def audio_difference(a: array, b: array, start: float, stop: float) -> float:
    """Root mean square of the difference between two tracks between two times."""
    lo, hi = round(start * 48_000), round(stop * 48_000)
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a[lo:hi], b[lo:hi], strict=True)) / (hi - lo))


def mean_colour(image: Image.Image, box: tuple[float, float, float, float]) -> list[float]:
    """Mean RGB of a region given as fractions of the picture (left, top, right, bottom)."""
    w, h = image.size
    left, top, right, bottom = box
    region = image.crop((round(left * w), round(top * h), round(right * w), round(bottom * h)))
    return ImageStat.Stat(region).mean


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two pictures, 0-255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def top_level_boxes(path: Path) -> list[str]:
    boxes, offset, data = [], 0, path.read_bytes()
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # a 64-bit size follows
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode())
        offset += size
    return boxes


def write_wav(path: Path, seconds: float, rate: int = 44_100, hz: int = 440) -> Path:
    """A mono 16-bit PCM sine, written with the standard library."""
    count = round(seconds * rate)
    samples = array(
        "h", (round(8000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(count))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def write_mp3(path: Path, seconds: float, rate: int = 44_100, hz: int = 330) -> Path:
    """A stereo MP3 sine, encoded with PyAV in frames of 1152 samples as MP3 wants them."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="stereo")
        for start in range(0, round(seconds * rate), 1152):
            sine = array(
                "f",
                (0.3 * math.sin(2 * math.pi * hz * n / rate) for n in range(start, start + 1152)),
            )
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=1152)
            frame.sample_rate = rate
            frame.pts = start
            for plane in frame.planes:
                plane.update(sine.tobytes())
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def assert_playable(info: dict, *, width: int, height: int, fps: int, frames: int) -> None:
    assert info["video_codec"] == "h264"
    assert info["video_profile"] in ("High", "Main")
    assert info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == (width, height)
    assert info["fps"] == fps
    assert info["frames"] == frames
    assert info["video_duration"] == pytest.approx(frames / fps, abs=1e-3)


def assert_aac(info: dict, seconds: float, tolerance: float = 0.002) -> None:
    audio = info["audio"]
    assert audio is not None, "expected an audio stream"
    assert (audio["codec"], audio["profile"]) == ("aac", "LC")
    assert (audio["sample_rate"], audio["channels"]) == (48_000, 2)
    assert audio["duration"] == pytest.approx(seconds, abs=tolerance)


@pytest.fixture
def source(tmp_path) -> Path:
    """A 3 s 320x180 text-to-video with audio, to retake."""
    path = tmp_path / "source.mp4"
    render_generation(path, width=W, height=H, fps=FPS, frames=75, caption_lines=CAPTIONS)
    return path


# --- Generation ---------------------------------------------------------------------------------


def test_text_to_video_with_generated_audio(tmp_path):
    dest = tmp_path / "out.mp4"
    render_generation(dest, width=W, height=H, fps=FPS, frames=60, caption_lines=CAPTIONS)

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=60)
    assert_aac(info, 60 / FPS)
    assert info["duration"] == pytest.approx(2.4, abs=0.01)
    assert loudness(audio_samples(dest), 0.1, 2.3) > 0.05
    # Faststart: the index comes before the media, so a browser can play while downloading.
    boxes = top_level_boxes(dest)
    assert boxes.index("moov") < boxes.index("mdat")


def test_picture_moves_and_counter_changes_every_frame(tmp_path):
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=50, caption_lines=CAPTIONS, generate_audio=False
    )
    frames = video_frames(dest)

    assert difference(frames[0], frames[40]) > 10  # the colours move
    # The timecode differs between every two neighbouring frames.
    for before, after in itertools.pairwise(frames):
        assert ImageChops.difference(before.crop(TIMECODE), after.crop(TIMECODE)).getbbox()


def test_without_audio_has_no_audio_stream(tmp_path):
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=50, frames=100, caption_lines=CAPTIONS, generate_audio=False
    )

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=50, frames=100)
    assert info["audio"] is None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_image_to_video_starts_with_the_image(tmp_path, fmt):
    # A square image, red on the left and blue on the right: covering 16:9 crops its top and
    # bottom, so the left of the picture must be red and the right blue.
    image = Image.new("RGB", (400, 400), (220, 20, 20))
    image.paste((20, 20, 220), (200, 0, 400, 400))
    image_path = tmp_path / f"first.{fmt.lower()}"
    image.save(image_path, fmt)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=50, caption_lines=CAPTIONS, first_image=image_path
    )

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=50)
    frames = video_frames(dest)
    for frame in (frames[0], frames[10]):
        red, green, blue = mean_colour(frame, (0.3, 0.3, 0.45, 0.6))
        assert red > 150 and green < 70 and blue < 70
        red, green, blue = mean_colour(frame, (0.55, 0.3, 0.7, 0.6))
        assert blue > 150 and red < 70 and green < 70
    # Frame 0 is the image alone; the captions come in from frame 1.
    bottom = (0.05, 0.85, 0.95, 0.95)
    assert mean_colour(frames[0], bottom)[0] > 100
    assert sum(mean_colour(frames[1], bottom)) < 100


def test_image_to_video_ends_on_the_last_image(tmp_path):
    # Starts red, ends blue, portrait: the last frame is the last image alone, covering the
    # picture; the frames between dissolve from one to the other.
    first, last = tmp_path / "first.png", tmp_path / "last.jpg"
    Image.new("RGB", (90, 160), (220, 20, 20)).save(first)
    Image.new("RGB", (400, 300), (20, 20, 220)).save(last, "JPEG")
    dest = tmp_path / "out.mp4"
    render_generation(
        dest,
        width=H,
        height=W,
        fps=FPS,
        frames=50,
        caption_lines=CAPTIONS,
        first_image=first,
        last_image=last,
        generate_audio=False,
    )

    assert_playable(probe(dest), width=H, height=W, fps=FPS, frames=50)
    frames = video_frames(dest)
    whole = (0.0, 0.0, 1.0, 1.0)
    red, green, blue = mean_colour(frames[0], whole)
    assert red > 150 and green < 70 and blue < 70
    red, green, blue = mean_colour(frames[-1], whole)
    assert blue > 150 and red < 70 and green < 70
    # Half-way, both images show through: neither colour alone.
    red, _, blue = mean_colour(frames[25], (0.3, 0.3, 0.7, 0.6))
    assert 60 < red < 170 and 60 < blue < 170
    # The captions are drawn on the frames between, not on the last image.
    bottom = (0.05, 0.85, 0.95, 0.95)
    assert mean_colour(frames[-1], bottom)[2] > 150
    assert difference(frames[-2].crop((0, 0, 60, 20)), frames[-1].crop((0, 0, 60, 20))) > 10


def test_text_to_video_with_a_last_image_ends_on_it(tmp_path):
    last = tmp_path / "last.png"
    Image.new("RGB", (64, 36), (20, 200, 20)).save(last)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=25, caption_lines=CAPTIONS, last_image=last
    )
    frames = video_frames(dest)
    red, green, blue = mean_colour(frames[-1], (0.0, 0.0, 1.0, 1.0))
    assert green > 150 and red < 70 and blue < 70
    assert mean_colour(frames[0], (0.0, 0.0, 1.0, 1.0))[1] < 150


def test_image_to_video_keeps_the_image_while_the_counter_runs(tmp_path):
    image_path = tmp_path / "first.png"
    Image.effect_mandelbrot((640, 360), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB").save(image_path)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=100, caption_lines=CAPTIONS, first_image=image_path
    )
    frames = video_frames(dest)

    # One sweep of the light band later, everything is where it was but the counter and the
    # progress bar: the picture in the middle is the same, the timecode is not.
    later = round(overlay.BAND_PERIOD_SECONDS * FPS)
    first, second = frames[10], frames[10 + later]
    middle = (W // 4, H // 4, 3 * W // 4, H // 2)
    assert difference(first.crop(middle), second.crop(middle)) < 3
    assert ImageChops.difference(first.crop(TIMECODE), second.crop(TIMECODE)).getbbox()


def test_transparent_image_shows_black_where_transparent(tmp_path):
    image = Image.new("RGBA", (64, 36), (0, 200, 0, 0))
    image.paste((0, 200, 0, 255), (32, 0, 64, 36))
    image_path = tmp_path / "first.png"
    image.save(image_path)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest,
        width=W,
        height=H,
        fps=FPS,
        frames=25,
        caption_lines=CAPTIONS,
        first_image=image_path,
        generate_audio=False,
    )

    first = video_frames(dest)[0]
    assert sum(mean_colour(first, (0.1, 0.2, 0.4, 0.8))) < 40
    red, green, blue = mean_colour(first, (0.6, 0.2, 0.9, 0.8))
    assert green > 150 and red < 60 and blue < 60


def test_soundtrack_from_a_pcm_wav(tmp_path):
    wav = write_wav(tmp_path / "voice.wav", 7.3)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=183, caption_lines=CAPTIONS, soundtrack=wav
    )

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=183)
    assert_aac(info, 7.3)
    assert loudness(audio_samples(dest), 1, 7) > 0.1


def test_soundtrack_from_an_mp3(tmp_path):
    mp3 = write_mp3(tmp_path / "music.mp3", 2.0)
    dest = tmp_path / "out.mp4"
    render_generation(
        dest, width=W, height=H, fps=FPS, frames=50, caption_lines=CAPTIONS, soundtrack=mp3
    )

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=50)
    # MP3 pads to whole frames of 1152 samples, so the length is only close.
    assert_aac(info, 2.0, tolerance=0.05)
    assert loudness(audio_samples(dest), 0.5, 1.5) > 0.1


def test_long_prompt_is_wrapped_and_cut_short(tmp_path):
    prompt = " ".join(["a very long prompt that goes on and on"] * 200 + ["https://" + "x" * 3000])
    dest = tmp_path / "out.mp4"
    render_generation(
        dest,
        width=W,
        height=H,
        fps=FPS,
        frames=10,
        caption_lines=[prompt, "ltx-2-pro · 320x180 · 25 fps · 6 s"],
        generate_audio=False,
    )

    # The caption panel is black and stays in the lower half; above it the colours show.
    frame = video_frames(dest)[5]
    assert sum(mean_colour(frame, (0, 0.3, 1, 0.5))) > 150


def test_captions_are_spelt_with_what_the_bundled_font_has():
    # Pillow's bundled font has no accented letters or dashes; they would show as boxes.
    assert overlay._printable("Crème brûlée – 1920×1080 · naïve…") == (
        "Creme brulee - 1920x1080 · naive..."
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"width": 321}, {"height": 0}, {"fps": 0}, {"frames": 0}],
)
def test_refuses_impossible_videos(tmp_path, kwargs):
    request = {"width": W, "height": H, "fps": FPS, "frames": 10, **kwargs}
    with pytest.raises(ValueError):
        render_generation(tmp_path / "out.mp4", caption_lines=CAPTIONS, **request)


def test_full_hd_eight_seconds(tmp_path):
    dest = tmp_path / "out.mp4"
    render_generation(
        dest,
        width=1920,
        height=1080,
        fps=25,
        frames=200,
        caption_lines=[
            "A lighthouse at dusk, waves rolling in",
            "ltx-2-pro · 1920x1080 · 25 fps · 8 s",
        ],
    )

    info = probe(dest)
    assert_playable(info, width=1920, height=1080, fps=25, frames=200)
    assert_aac(info, 8.0)
    assert info["duration"] == pytest.approx(8.0, abs=0.01)


# --- Retake -------------------------------------------------------------------------------------


def retake(source: Path, dest: Path, start: float, duration: float, mode: str) -> Path:
    render_retake(
        dest,
        source=source,
        start_time=start,
        duration=duration,
        mode=mode,
        caption_lines=["Retake: the kite dives", f"retake {mode} from {start} s for {duration} s"],
    )
    return dest


def changed_frames(source: Path, output: Path) -> list[int]:
    """Indexes of the frames that are visibly not the source's."""
    pairs = zip(video_frames(source), video_frames(output), strict=True)
    return [index for index, (a, b) in enumerate(pairs) if difference(a, b) > 8]


def test_retake_replaces_audio_and_video_in_the_section(tmp_path, source):
    dest = retake(source, tmp_path / "out.mp4", 1.0, 1.0, "replace_audio_and_video")

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=75)
    assert_aac(info, 3.0)
    assert changed_frames(source, dest) == list(range(25, 50))
    before, after = audio_samples(source), audio_samples(dest)
    assert audio_difference(before, after, 0.1, 0.9) < 0.02
    assert audio_difference(before, after, 1.1, 1.9) > 0.1
    assert audio_difference(before, after, 2.1, 2.9) < 0.02


def test_retake_replace_video_keeps_the_audio(tmp_path, source):
    dest = retake(source, tmp_path / "out.mp4", 0.5, 2.0, "replace_video")

    assert changed_frames(source, dest) == list(range(13, 63))  # frames at 0.52 s ... 2.48 s
    assert audio_difference(audio_samples(source), audio_samples(dest), 0.1, 2.9) < 0.02


def test_retake_replace_audio_keeps_the_picture(tmp_path, source):
    dest = retake(source, tmp_path / "out.mp4", 1.0, 1.5, "replace_audio")

    assert changed_frames(source, dest) == []
    before, after = audio_samples(source), audio_samples(dest)
    assert audio_difference(before, after, 1.1, 2.4) > 0.1
    assert audio_difference(before, after, 2.6, 2.9) < 0.02


def test_retake_section_past_the_end_is_clamped(tmp_path, source):
    dest = retake(source, tmp_path / "out.mp4", 2.5, 5.0, "replace_audio_and_video")

    info = probe(dest)
    assert_playable(info, width=W, height=H, fps=FPS, frames=75)
    assert_aac(info, 3.0)
    assert changed_frames(source, dest) == list(range(63, 75))

    beyond = retake(source, tmp_path / "beyond.mp4", 10.0, 2.0, "replace_video")
    assert probe(beyond)["frames"] == 75
    assert changed_frames(source, beyond) == []


@pytest.fixture
def silent_hevc_source(tmp_path) -> Path:
    """A 3 s 24 fps H.265 video in Matroska, without audio: not what the simulator makes."""
    path = tmp_path / "source.mkv"
    background = Image.new("RGB", (W, H), (30, 120, 200))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx265", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"preset": "ultrafast", "x265-params": "log-level=error"}
        for index in range(72):
            picture = background.copy()
            picture.paste((250, 250, 250), (index * 4, 60, index * 4 + 20, 120))
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_retake_of_a_silent_source_adds_audio_only_when_asked(tmp_path, silent_hevc_source):
    with_audio = retake(silent_hevc_source, tmp_path / "a.mp4", 1.0, 1.0, "replace_audio")
    info = probe(with_audio)
    assert_playable(info, width=W, height=H, fps=24, frames=72)
    assert_aac(info, 3.0)
    samples = audio_samples(with_audio)
    assert loudness(samples, 0.1, 0.9) < 0.001  # silence outside the section
    assert loudness(samples, 1.0, 2.0) > 0.1  # beeps inside
    assert loudness(samples, 2.1, 2.9) < 0.001

    video_only = retake(silent_hevc_source, tmp_path / "v.mp4", 1.0, 1.0, "replace_video")
    info = probe(video_only)
    assert_playable(info, width=W, height=H, fps=24, frames=72)
    assert info["audio"] is None
    assert changed_frames(silent_hevc_source, video_only) == list(range(24, 48))


def test_retake_keeps_a_fractional_frame_rate(tmp_path):
    source = tmp_path / "source.mp4"
    with av.open(str(source), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30000, 1001))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for index in range(60):
            frame = av.VideoFrame.from_image(Image.new("RGB", (W, H), (index * 4, 90, 90)))
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    dest = retake(source, tmp_path / "out.mp4", 0.5, 0.5, "replace_video")

    info = probe(dest)
    assert info["fps"] == Fraction(30000, 1001)
    assert info["frames"] == 60
    assert info["duration"] == pytest.approx(60 * 1001 / 30000, abs=0.01)


def test_retake_refuses_unknown_modes(tmp_path, source):
    with pytest.raises(ValueError, match="mode"):
        retake(source, tmp_path / "out.mp4", 0, 1, "replace_everything")


# --- Atomic writes and the cache ----------------------------------------------------------------


@pytest.fixture
def forbid_rendering(monkeypatch):
    """Call to make any further rendering fail the test."""

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again instead of using the cache")

    return lambda: monkeypatch.setattr(render, "Mp4Writer", no_rendering)


def test_second_identical_render_comes_from_the_cache(tmp_path, forbid_rendering):
    cache = tmp_path / "cache"
    request = {"width": W, "height": H, "fps": FPS, "frames": 25, "caption_lines": CAPTIONS}
    render_generation(tmp_path / "first.mp4", cache_dir=cache, **request)
    forbid_rendering()
    render_generation(tmp_path / "second.mp4", cache_dir=cache, **request)

    assert (tmp_path / "second.mp4").read_bytes() == (tmp_path / "first.mp4").read_bytes()
    assert [p.suffix for p in cache.iterdir()] == [".mp4"]


def test_cache_key_covers_every_input(tmp_path):
    cache = tmp_path / "cache"
    image = tmp_path / "first.png"
    request = {"width": W, "height": H, "fps": FPS, "frames": 10, "caption_lines": CAPTIONS}

    Image.new("RGB", (32, 18), (200, 0, 0)).save(image)
    render_generation(tmp_path / "a.mp4", cache_dir=cache, first_image=image, **request)
    # Same path, new picture: the file's bytes are part of the key, not its name.
    Image.new("RGB", (32, 18), (0, 0, 200)).save(image)
    render_generation(tmp_path / "b.mp4", cache_dir=cache, first_image=image, **request)
    render_generation(tmp_path / "c.mp4", cache_dir=cache, **{**request, "frames": 11})
    render_generation(tmp_path / "d.mp4", cache_dir=cache, generate_audio=False, **request)

    assert len(list(cache.iterdir())) == 4
    red, _, blue = mean_colour(video_frames(tmp_path / "b.mp4")[0], (0.3, 0.3, 0.7, 0.6))
    assert blue > 150 and red < 60


def test_retake_is_cached(tmp_path, source, forbid_rendering):
    cache = tmp_path / "cache"
    request = {
        "source": source,
        "start_time": 1.0,
        "duration": 1.0,
        "mode": "replace_audio",
        "caption_lines": CAPTIONS,
        "cache_dir": cache,
    }
    render_retake(tmp_path / "a.mp4", **request)
    forbid_rendering()
    render_retake(tmp_path / "b.mp4", **request)

    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert len(list(cache.iterdir())) == 1


def test_failed_render_leaves_no_file_behind(tmp_path, monkeypatch):
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"the previous video")
    real_write = mp4.Mp4Writer.write_video

    def crash_after_a_few(self, frame):
        if self.frame_count == 5:
            raise RuntimeError("power cut")
        real_write(self, frame)

    monkeypatch.setattr(mp4.Mp4Writer, "write_video", crash_after_a_few)
    with pytest.raises(RuntimeError, match="power cut"):
        render_generation(
            dest,
            width=W,
            height=H,
            fps=FPS,
            frames=25,
            caption_lines=CAPTIONS,
            cache_dir=tmp_path / "c",
        )

    assert dest.read_bytes() == b"the previous video"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temporary file, no cache
