"""Real, playable MP4 files for the local LTX-2 API simulator.

The simulator answers generation requests with videos a person can watch and a browser can
stream: H.264 (High profile, yuv420p) with the moov atom in front, AAC-LC audio at 48 kHz
stereo, exactly the requested number of frames at a constant frame rate. The picture shows
moving colours, the request's captions and a frame counter, so it is obvious which request a
file belongs to and that it plays and seeks.

Rendering has to be cheap because the simulator renders a lot, up to 4K. Everything that
does not change between frames (backgrounds, caption panel, masks) is prepared once as
Pillow "L" images holding the Y, U and V planes; a frame is then a few crops and pastes in
C code, handed to libx264 at preset "ultrafast". No numpy is needed.

Plain Python, PyAV and Pillow only: this module must not import Django.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

__all__ = ["RETAKE_MODES", "render_generation", "render_retake"]

# Part of every cache key: bump it whenever the output of the same inputs changes, so a
# cache filled by an older version is not served.
RENDER_VERSION = 1

RETAKE_MODES = ("replace_audio", "replace_video", "replace_audio_and_video")

AUDIO_RATE = 48_000
AUDIO_BIT_RATE = 128_000

# Limited ("TV") range, what H.264 players expect by default.
Y_BLACK, Y_WHITE, CHROMA_GREY = 16, 235, 128
# FFmpeg's numbers for "BT.709" and "unspecified", the same in its matrix, primaries and
# transfer enums (the codec context takes and returns these raw numbers).
AVCOL_BT709, AVCOL_UNSPECIFIED = 1, 2

VIDEO_OPTIONS = {
    "preset": "ultrafast",
    "crf": "23",
    # "ultrafast" turns CABAC and the 8x8 transform off, which makes x264 write a Constrained
    # Baseline stream. Turning both back on costs little time, shrinks the files by a
    # quarter and makes the stream High profile, as the real API's are.
    "x264-params": "cabac=1:8x8dct=1",
}

BAND_ALPHA = 110  # peak opacity of the sweeping light band, of 255
BAND_PERIOD_SECONDS = 3.0  # one sweep of the band across the picture
SCROLL_PERIODS_PER_SECOND = 1 / 6  # how fast the hue gradient scrolls, in picture widths
ACCENT_RGB = (255, 140, 0)  # progress bar and "RETAKE" label

# The generated soundtrack is a just-intonation major triad (1, 5/4, 3/2) whose root changes
# every second. Each root is 4 times a divisor of 48000, so every note is a whole number of
# Hz (a second holds whole cycles of each, and the next chord starts at a zero crossing,
# without a click) and the chord repeats every 48000 / (root / 4) samples exactly, so only
# one period is computed in Python.
CHORD_ROOTS_HZ = (200, 240, 300, 240, 320, 400)
CHORD_AMPLITUDE = 0.1  # per note
# The retake tone is a different sound on purpose: 1 kHz beeps, 1/8 s on and 1/8 s off.
# 125 whole cycles per beep, so each beep ends at a zero crossing.
BEEP_HZ = 1000
BEEP_SAMPLES = AUDIO_RATE // 8
BEEP_AMPLITUDE = 0.25


def render_generation(
    dest: str | os.PathLike,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    caption_lines: list[str],
    first_image: str | os.PathLike | None = None,
    generate_audio: bool = True,
    soundtrack: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> None:
    """Write a text-, image- or audio-to-video result of `frames` frames at `fps` to `dest`.

    With `first_image`, frame 0 is that image scaled to cover the picture and later frames
    show it under the captions. With `soundtrack`, that audio, whole, is the audio track (the
    caller sizes `frames` to it); otherwise `generate_audio` adds a synthesized track exactly
    as long as the video, or no audio stream at all.
    """
    _check_even_size(width, height)
    if fps <= 0 or frames <= 0:
        raise ValueError(f"need fps > 0 and frames > 0, got fps={fps}, frames={frames}")
    key = {
        "kind": "generation",
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "caption_lines": list(caption_lines),
        "first_image": _file_digest(first_image) if first_image is not None else None,
        "generate_audio": generate_audio,
        "soundtrack": _file_digest(soundtrack) if soundtrack is not None else None,
    }

    def render(path: Path) -> None:
        overlay = _Overlay(width, height, fps, frames, caption_lines, band=first_image is not None)
        if first_image is not None:
            background = _ImageBackground(first_image, width, height)
        else:
            background = _GradientBackground(width, height, fps)

        def pictures() -> Iterator[av.VideoFrame]:
            for index in range(frames):
                y, u, v = background.planes(index)
                if index > 0 or first_image is None:
                    overlay.draw(y, u, v, index)
                yield _frame_from_planes(y, u, v)

        if soundtrack is not None:
            audio = _decoded_audio(soundtrack)
        elif generate_audio:
            audio = _chord_audio(_samples_for(Fraction(frames, fps)))
        else:
            audio = None
        with _Mp4Writer(path, width, height, Fraction(fps), with_audio=audio is not None) as out:
            out.write_interleaved(pictures(), audio)

    _produce(dest, cache_dir, key, render)


def render_retake(
    dest: str | os.PathLike,
    *,
    source: str | os.PathLike,
    start_time: float,
    duration: float,
    mode: str,
    caption_lines: list[str],
    cache_dir: str | os.PathLike | None = None,
) -> None:
    """Write `source` with the section [start_time, start_time + duration) redone to `dest`.

    The output keeps the source's size, frame rate and frame count. The section is clamped
    to the video. Depending on `mode`, frames inside it are visibly redrawn and/or its audio
    is replaced by a beeping tone; everything outside is the source, re-encoded.
    """
    if mode not in RETAKE_MODES:
        raise ValueError(f"mode must be one of {', '.join(RETAKE_MODES)}, got {mode!r}")
    key = {
        "kind": "retake",
        "source": _file_digest(source),
        "start_time": float(start_time),
        "duration": float(duration),
        "mode": mode,
        "caption_lines": list(caption_lines),
    }

    def render(path: Path) -> None:
        info = _probe_video(source)
        _check_even_size(info.width, info.height)
        video_seconds = Fraction(info.frames) / info.rate
        start = min(max(Fraction(start_time), Fraction(0)), video_seconds)
        stop = min(max(Fraction(start_time) + Fraction(duration), start), video_seconds)
        first_frame, stop_frame = math.ceil(start * info.rate), math.ceil(stop * info.rate)

        replace_video = mode in ("replace_video", "replace_audio_and_video")
        replace_audio = mode in ("replace_audio", "replace_audio_and_video")
        overlay = _Overlay(
            info.width,
            info.height,
            info.rate,
            info.frames,
            caption_lines,
            band=True,
            label="RETAKE",
        )

        def pictures() -> Iterator[av.VideoFrame]:
            for index, frame in enumerate(_decoded_video(source)):
                if replace_video and first_frame <= index < stop_frame:
                    y, u, v = _darkened(_planes_of(frame))
                    overlay.draw(y, u, v, index)
                    frame = _frame_from_planes(y, u, v)
                yield frame

        if info.has_audio:
            audio = _decoded_audio(source)
        elif replace_audio:
            audio = _silence(_samples_for(video_seconds))
        else:
            audio = None
        if audio is not None and replace_audio:
            audio = _with_beeps(audio, _samples_for(start), _samples_for(stop))
        with _Mp4Writer(
            path,
            info.width,
            info.height,
            info.rate,
            with_audio=audio is not None,
            colour_tags=info.colour_tags,
        ) as out:
            out.write_interleaved(pictures(), audio)

    _produce(dest, cache_dir, key, render)


# --- Files: atomic writes and the cache ------------------------------------------------------


def _produce(
    dest: str | os.PathLike,
    cache_dir: str | os.PathLike | None,
    key: dict,
    render: Callable[[Path], None],
) -> None:
    """Render to `dest` atomically, or copy a cached result of the same inputs."""
    dest = Path(dest)
    cached = None
    if cache_dir is not None:
        digest = hashlib.sha256(
            json.dumps({"version": RENDER_VERSION, **key}, sort_keys=True).encode()
        ).hexdigest()
        cached = Path(cache_dir) / f"{digest}.mp4"
        # Someone may clear the cache between the check and the copy; then render after all.
        with contextlib.suppress(FileNotFoundError):
            if cached.is_file():
                _write_atomically(dest, lambda tmp: shutil.copyfile(cached, tmp))
                return
    _write_atomically(dest, render)
    if cached is not None:
        _write_atomically(cached, lambda tmp: shutil.copyfile(dest, tmp))


def _write_atomically(dest: Path, write: Callable[[Path], object]) -> None:
    """Have `write` fill a temporary file next to `dest`, then move it into place in one step,
    so readers only ever see no file or a whole one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes it private; these files are meant to be served
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _file_digest(path: str | os.PathLike) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# --- Encoding ---------------------------------------------------------------------------------


_COLOUR_TAGS = ("colorspace", "color_primaries", "color_trc")


class _Mp4Writer:
    """An MP4 with one H.264 stream and, optionally, one AAC-LC stream.

    Timestamps are assigned here by counting frames and samples, so inputs from any source
    (decoded files with gaps or offsets included) come out gapless and starting at zero.
    """

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        rate: Fraction,
        *,
        with_audio: bool,
        colour_tags: dict[str, int] | None = None,
    ) -> None:
        # +faststart makes the muxer move the moov atom to the front once it is written, so
        # a browser can start playing (and seek) before it has the whole file.
        self.container = av.open(
            os.fspath(path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        self.video = self.container.add_stream("libx264", rate=rate)
        self.video.width, self.video.height = width, height
        self.video.pix_fmt = "yuv420p"
        # A keyframe every two seconds keeps seeking in a browser quick.
        self.video.options = {**VIDEO_OPTIONS, "g": str(max(1, round(2 * rate)))}
        # Frame threads let x264 encode while Python draws the next frame, on a second core.
        self.video.codec_context.thread_type = "FRAME"
        codec = self.video.codec_context
        if colour_tags is None:  # our own pictures, converted from RGB as BT.709
            colour_tags = dict.fromkeys(_COLOUR_TAGS, AVCOL_BT709)
        for name, value in colour_tags.items():
            setattr(codec, name, value)
        codec.color_range = ColorRange.MPEG
        self.frame_time_base = Fraction(1) / rate
        self.frame_count = 0

        self.audio = None
        self.sample_count = 0
        if with_audio:
            self.audio = self.container.add_stream("aac", rate=AUDIO_RATE)
            self.audio.layout = "stereo"
            self.audio.format = "fltp"
            self.audio.bit_rate = AUDIO_BIT_RATE
            # Searching for mid/side stereo is most of the time FFmpeg's AAC encoder takes;
            # without it encoding is three times faster and still sounds the same.
            self.audio.options = {"aac_ms": "0"}

    def __enter__(self) -> _Mp4Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.container.mux(self.video.encode(None))
                if self.audio is not None:
                    self.container.mux(self.audio.encode(None))
        finally:
            self.container.close()

    def write_video(self, frame: av.VideoFrame) -> None:
        frame.pts = self.frame_count
        frame.time_base = self.frame_time_base
        # Decoded frames remember whether they were I, P or B frames, and libx264 obeys that
        # as an order; let it choose.
        frame.pict_type = PictureType.NONE
        self.container.mux(self.video.encode(frame))
        self.frame_count += 1

    def write_audio(self, frame: av.AudioFrame) -> None:
        frame.pts = self.sample_count
        frame.time_base = Fraction(1, AUDIO_RATE)
        self.container.mux(self.audio.encode(frame))
        self.sample_count += frame.samples

    def write_interleaved(
        self, video: Iterable[av.VideoFrame], audio: Iterable[av.AudioFrame] | None
    ) -> None:
        """Write all frames, keeping the audio just ahead of the video.

        Feeding both in step lets the muxer interleave them in small chunks, which is what
        a browser streaming the file wants.
        """
        audio_frames = iter(audio or ())
        audio_left = audio is not None
        for frame in video:
            self.write_video(frame)
            video_seconds = self.frame_count * self.frame_time_base
            while audio_left and Fraction(self.sample_count, AUDIO_RATE) < video_seconds:
                chunk = next(audio_frames, None)
                if chunk is None:
                    audio_left = False
                else:
                    self.write_audio(chunk)
        for chunk in audio_frames:
            self.write_audio(chunk)


# --- Pictures ---------------------------------------------------------------------------------


def _check_even_size(width: int, height: int) -> None:
    # yuv420p stores colour at half resolution: libx264 refuses odd sizes.
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive and even, got {width}x{height}")


def _even(value: float) -> int:
    return 2 * round(value / 2)


def _planes_of(frame: av.VideoFrame) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Copy the Y, U and V planes of a yuv420p frame into Pillow "L" images."""
    return tuple(
        Image.frombuffer("L", (p.width, p.height), p, "raw", "L", p.line_size, 1).copy()
        for p in frame.planes
    )


def _frame_from_planes(y: Image.Image, u: Image.Image, v: Image.Image) -> av.VideoFrame:
    frame = av.VideoFrame(y.width, y.height, "yuv420p")
    for plane, image in zip(frame.planes, (y, u, v), strict=True):
        # Rows in the frame may be padded for alignment; Pillow writes that stride directly.
        plane.update(image.tobytes("raw", "L", plane.line_size))
    return frame


def _rgb_planes(image: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Convert an RGB image to BT.709 limited-range Y, U, V planes (swscale does the maths)."""
    frame = av.VideoFrame.from_image(image).reformat(
        format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
    )
    return _planes_of(frame)


def _yuv_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = _rgb_planes(Image.new("RGB", (2, 2), rgb))
    return y.getpixel((0, 0)), u.getpixel((0, 0)), v.getpixel((0, 0))


class _GradientBackground:
    """A hue gradient with a soft light band, one cycle per picture width, scrolling sideways.

    A strip two pictures wide is converted once; each frame is a crop of it at a moving
    offset. Offsets are even so the half-resolution colour planes line up. The band is part
    of the strip rather than an overlay: moving with the gradient, it costs the encoder
    almost nothing, while a band moving on its own made encoding a third slower.
    """

    def __init__(self, width: int, height: int, fps: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        strip = 2 * width
        # Hue depends only on x and brightness only on y, so the strip is one row of colours
        # times one column of brightness: far cheaper than converting a whole HSV image.
        hue = Image.frombytes("L", (strip, 1), bytes(256 * x // width % 256 for x in range(strip)))
        saturation, full = Image.new("L", (strip, 1), 170), Image.new("L", (strip, 1), 255)
        colours = Image.merge("HSV", (hue, saturation, full)).convert("RGB")
        # Brighter at the top, darker at the bottom where the captions are.
        shade = Image.frombytes(
            "L", (1, height), bytes(230 - 110 * y // height for y in range(height))
        )
        rgb = ImageChops.multiply(
            colours.resize((strip, height), Image.NEAREST),
            shade.convert("RGB").resize((strip, height), Image.NEAREST),
        )
        band = _band_mask(width, height)
        for left in (0, width):
            rgb.paste((255, 255, 255), (left, 0, left + band.width, height), band)
        self.y, self.u, self.v = _rgb_planes(rgb)

    def planes(self, index: int) -> tuple[Image.Image, Image.Image, Image.Image]:
        shift = _even(index / self.fps * SCROLL_PERIODS_PER_SECOND * self.width) % self.width
        w, h = self.width, self.height
        return (
            self.y.crop((shift, 0, shift + w, h)),
            self.u.crop((shift // 2, 0, (shift + w) // 2, h // 2)),
            self.v.crop((shift // 2, 0, (shift + w) // 2, h // 2)),
        )


class _ImageBackground:
    """The first image, scaled to cover the picture and cropped to its aspect ratio."""

    def __init__(self, path: str | os.PathLike, width: int, height: int) -> None:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent parts show as black, as most players would.
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size)
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            image = image.convert("RGB")
            scale = max(width / image.width, height / image.height)
            crop_w, crop_h = width / scale, height / scale
            left, top = (image.width - crop_w) / 2, (image.height - crop_h) / 2
            cover = image.resize(
                (width, height),
                Image.BICUBIC,
                box=(left, top, left + crop_w, top + crop_h),
                reducing_gap=3.0,
            )
        self.y, self.u, self.v = _rgb_planes(cover)

    def planes(self, index: int) -> tuple[Image.Image, Image.Image, Image.Image]:
        return self.y.copy(), self.u.copy(), self.v.copy()


def _band_mask(width: int, height: int) -> Image.Image:
    """The light band's opacity: a soft vertical stripe a fifth of the width, brightest in its
    middle."""
    band_width = _even(max(8, width / 5))
    half = band_width / 2
    profile = bytes(round(BAND_ALPHA * (1 - abs(x + 0.5 - half) / half)) for x in range(band_width))
    return Image.frombytes("L", (band_width, 1), profile).resize(
        (band_width, height), Image.NEAREST
    )


def _darkened(planes: tuple[Image.Image, Image.Image, Image.Image]):
    """Dim a picture and wash out its colour, so a retaken section is obvious at a glance."""
    y, u, v = planes
    return (
        y.point(lambda value: Y_BLACK + (value - Y_BLACK) * 2 // 5),
        u.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
        v.point(lambda value: CHROMA_GREY + (value - CHROMA_GREY) // 2),
    )


class _Overlay:
    """What is drawn over the background: optionally a sweeping light band and a big label, the
    caption panel, a frame counter with timecode and a progress bar.

    Built once per render; `draw` only pastes prepared images and draws one short string.
    All positions and sizes are even so they map exactly onto the half-size colour planes.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: Fraction | int,
        frames: int,
        caption_lines: list[str],
        *,
        band: bool,
        label: str | None = None,
    ) -> None:
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        unit = min(width, height) / 1080  # sizes are designed for 1080p and scale with it
        self.margin = _even(max(4, 40 * unit))
        self.accent = _yuv_colour(ACCENT_RGB)
        self._prepare_band(band)
        self._prepare_label(label, unit)
        self._prepare_counter(unit)
        self.bar_height = _even(max(2, 8 * unit))
        self._prepare_captions(caption_lines, unit)

    def draw(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        if self.band_mask is not None:
            self._draw_band(y, u, v, index)
        if self.label is not None:
            self._paste_masked(y, u, v, self.label_position, self.accent, self.label)
        self._draw_captions(y, u, v)
        self._draw_counter(y, u, v, index)
        self._draw_progress(y, u, v, index)

    # The light band, for backgrounds that do not move by themselves.

    def _prepare_band(self, band: bool) -> None:
        self.band_mask = _band_mask(self.width, self.height) if band else None
        if self.band_mask is not None:
            self.band_mask_half = self.band_mask.reduce(2)

    def _draw_band(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        width = self.band_mask.width
        phase = (index / self.fps) % BAND_PERIOD_SECONDS / BAND_PERIOD_SECONDS
        left = _even(phase * (self.width + width)) - width
        # Pillow clips pastes that stick out of the picture.
        y.paste(Y_WHITE, (left, 0, left + width, self.height), self.band_mask)
        box = (left // 2, 0, (left + width) // 2, self.height // 2)
        u.paste(CHROMA_GREY, box, self.band_mask_half)
        v.paste(CHROMA_GREY, box, self.band_mask_half)

    # A big label in the middle of the picture, in the accent colour.

    def _prepare_label(self, label: str | None, unit: float) -> None:
        self.label = None
        if label is None:
            return
        font = ImageFont.load_default(size=max(12, round(180 * unit)))
        left, top, right, bottom = font.getbbox(label)
        mask = Image.new("L", (_even(right - left + 2), _even(bottom - top + 2)))
        ImageDraw.Draw(mask).text((1 - left, 1 - top), label, fill=255, font=font)
        self.label = (mask, mask.reduce(2))
        self.label_position = (
            _even((self.width - mask.width) / 2),
            _even((self.height - mask.height) / 3),
        )

    # The caption panel: the caption lines, wrapped, white on black at the bottom. Opaque on
    # purpose: text over a moving picture changes every frame, which made encoding a tenth
    # slower.

    def _prepare_captions(self, caption_lines: list[str], unit: float) -> None:
        font = ImageFont.load_default(size=max(10, round(38 * unit)))
        line_height = round(font.size * 1.3)
        padding = self.margin // 2
        max_rows = max(1, int((0.45 * self.height - 2 * padding) // line_height))
        lines = [_printable(line) for line in caption_lines]
        rows = _wrap(lines, font, self.width - 2 * self.margin, max_rows)
        panel_height = _even(2 * padding + line_height * len(rows))
        self.panel = Image.new("L", (self.width, panel_height), Y_BLACK)
        draw = ImageDraw.Draw(self.panel)
        for number, row in enumerate(rows):
            draw.text((self.margin, padding + number * line_height), row, fill=Y_WHITE, font=font)
        self.panel_top = self.height - self.bar_height - panel_height

    def _draw_captions(self, y: Image.Image, u: Image.Image, v: Image.Image) -> None:
        y.paste(self.panel, (0, self.panel_top))
        half = (0, self.panel_top // 2, self.width // 2, (self.height - self.bar_height) // 2)
        u.paste(CHROMA_GREY, half)
        v.paste(CHROMA_GREY, half)

    # The counter: timecode and frame number on an opaque box in the top-left corner,
    # different on every frame, so playing and seeking are visible.

    def _prepare_counter(self, unit: float) -> None:
        self.counter_font = ImageFont.load_default(size=max(10, round(44 * unit)))
        self.counter_padding = self.margin // 2
        # The font's digits all have the same width, so the longest text sets the box size.
        longest = self._counter_text(self.frames - 1)
        left, top, right, bottom = self.counter_font.getbbox(longest)
        self.counter_size = (
            _even(right + 2 * self.counter_padding),
            _even(bottom + 2 * self.counter_padding),
        )

    def _counter_text(self, index: int) -> str:
        hundredths = int(index * 100 // self.fps)
        minutes, hundredths = divmod(hundredths, 6000)
        seconds, hundredths = divmod(hundredths, 100)
        return f"{minutes:02d}:{seconds:02d}.{hundredths:02d}   frame {index + 1}/{self.frames}"

    def _draw_counter(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        box = Image.new("L", self.counter_size, Y_BLACK)
        ImageDraw.Draw(box).text(
            (self.counter_padding, self.counter_padding),
            self._counter_text(index),
            fill=Y_WHITE,
            font=self.counter_font,
        )
        y.paste(box, (self.margin, self.margin))
        w, h = self.counter_size
        half = (self.margin // 2, self.margin // 2, (self.margin + w) // 2, (self.margin + h) // 2)
        u.paste(CHROMA_GREY, half)
        v.paste(CHROMA_GREY, half)

    # The progress bar along the bottom edge.

    def _draw_progress(self, y: Image.Image, u: Image.Image, v: Image.Image, index: int) -> None:
        filled = _even((index + 1) / self.frames * self.width)
        if filled:
            accent_y, accent_u, accent_v = self.accent
            y.paste(accent_y, (0, self.height - self.bar_height, filled, self.height))
            half = (0, (self.height - self.bar_height) // 2, filled // 2, self.height // 2)
            u.paste(accent_u, half)
            v.paste(accent_v, half)

    @staticmethod
    def _paste_masked(y, u, v, position, colour, masks) -> None:
        mask, mask_half = masks
        left, top = position
        colour_y, colour_u, colour_v = colour
        y.paste(colour_y, (left, top, left + mask.width, top + mask.height), mask)
        half = (left // 2, top // 2, left // 2 + mask_half.width, top // 2 + mask_half.height)
        u.paste(colour_u, half, mask_half)
        v.paste(colour_v, half, mask_half)


# Pillow's bundled font has ASCII and a little more, but no accented letters or dashes.
# These become their nearest ASCII spelling rather than empty boxes.
_LOOKALIKES = str.maketrans(
    {"–": "-", "—": "-", "×": "x", "•": "·", "→": "->", "ß": "ss", "ø": "o", "Ø": "O"}
)


def _printable(text: str) -> str:
    """`text` with accents dropped and typographic characters replaced, so it renders."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LOOKALIKES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _wrap(lines: list[str], font: ImageFont.FreeTypeFont, width: int, max_rows: int) -> list[str]:
    """Word-wrap each line to `width` pixels, in at most `max_rows` rows.

    When there are too many rows, the line using the most is shortened first (ending in an
    ellipsis), so a long prompt gives way before the short parameter lines do.
    """
    wrapped = [_wrap_line(line, font, width, max_rows) for line in lines]
    while sum(len(rows) for rows in wrapped) > max_rows:
        longest = max(wrapped, key=len)
        if len(longest) == 1:
            wrapped.pop()  # one row per line and still too many: drop the last lines
            continue
        longest.pop()
        longest[-1] = _with_ellipsis(longest[-1], font, width)
    return [row for rows in wrapped for row in rows]


def _wrap_line(line: str, font: ImageFont.FreeTypeFont, width: int, max_rows: int) -> list[str]:
    """Word-wrap one line; stops after `max_rows` + 1 rows, as more could never be shown."""
    rows: list[str] = []
    current = ""
    for word in line.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        # A word wider than the picture (a URL, say) is broken wherever it has to be.
        while len(rows) <= max_rows:
            cut = _fitting_prefix(current, font, width)
            if cut == len(current):
                break
            rows.append(current[:cut])
            current = current[cut:]
        if len(rows) > max_rows:
            break
    rows.append(current)
    return rows


def _fitting_prefix(text: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    """How many leading characters of `text` fit in `width` pixels; at least one."""
    cut = 1
    while cut < len(text) and font.getlength(text[: cut + 1]) <= width:
        cut += 1
    return cut


def _with_ellipsis(row: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    while row and font.getlength(row + " …") > width:
        row = row[:-1]
    return row.rstrip() + " …"


# --- Decoding sources ---------------------------------------------------------------------


class _VideoInfo:
    def __init__(self, width, height, rate, frames, has_audio, colour_tags) -> None:
        self.width, self.height, self.rate = width, height, rate
        self.frames, self.has_audio, self.colour_tags = frames, has_audio, colour_tags


def _probe_video(path: str | os.PathLike) -> _VideoInfo:
    """Size, frame rate, exact frame count (by counting packets) and colour tags of a video."""
    with av.open(os.fspath(path)) as container:
        if not container.streams.video:
            raise ValueError("the source has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise ValueError("cannot tell the source video's frame rate")
        codec = stream.codec_context
        # Keep the source's colour description (only where it has one), so the re-encoded
        # outside parts look exactly like the source.
        colour_tags = {
            name: getattr(codec, name)
            for name in _COLOUR_TAGS
            if getattr(codec, name) != AVCOL_UNSPECIFIED
        }
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return _VideoInfo(
            codec.width,
            codec.height,
            Fraction(rate),
            frames,
            bool(container.streams.audio),
            colour_tags,
        )


def _decoded_video(path: str | os.PathLike) -> Iterator[av.VideoFrame]:
    """Every frame of the first video stream, as limited-range yuv420p."""
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.reformat(
                format="yuv420p",
                src_color_range=frame.color_range,
                dst_color_range=ColorRange.MPEG,
            )


def _decoded_audio(path: str | os.PathLike) -> Iterator[av.AudioFrame]:
    """The first audio stream of any file FFmpeg reads, as 48 kHz stereo float frames."""
    with av.open(os.fspath(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{os.fspath(path)!r} has no audio stream")
        stream = container.streams.audio[0]
        # Decoders return whole codec frames, so the padding an encoder adds at the end comes
        # out as extra sound: for AAC in MP4 up to 1023 samples, which would make every
        # retake of a retake longer. The container knows the true length; stop there.
        if stream.duration is not None:
            limit = _samples_for(stream.duration * stream.time_base)
        elif container.duration is not None:
            limit = _samples_for(Fraction(container.duration, av.time_base))
        else:
            limit = None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        position = 0
        for decoded in itertools.chain(container.decode(stream), [None]):
            for frame in resampler.resample(decoded):
                if limit is not None and position + frame.samples > limit:
                    left, right = (bytes(p)[: 4 * (limit - position)] for p in frame.planes)
                    if left:
                        yield _audio_frame(left, right)
                    return
                position += frame.samples
                yield frame


# --- Synthesized sound ------------------------------------------------------------------------


def _samples_for(seconds: Fraction) -> int:
    return round(seconds * AUDIO_RATE)


def _audio_frame(left: bytes, right: bytes | None = None) -> av.AudioFrame:
    """A stereo frame of float32 samples, the same on both channels unless `right` is given."""
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=len(left) // 4)
    frame.sample_rate = AUDIO_RATE
    frame.planes[0].update(left)
    frame.planes[1].update(left if right is None else right)
    return frame


def _periodic(samples_per_period: int, wave: Callable[[float], float]) -> bytes:
    """One period of `wave` (a function of time in seconds) as float32 samples."""
    return array("f", (wave(n / AUDIO_RATE) for n in range(samples_per_period))).tobytes()


def _chord_audio(total_samples: int) -> Iterator[av.AudioFrame]:
    """A soft chord changing every second, `total_samples` long, in one-second frames."""
    for second in range(math.ceil(total_samples / AUDIO_RATE)):
        one_second = _chord_second(CHORD_ROOTS_HZ[second % len(CHORD_ROOTS_HZ)])
        count = min(AUDIO_RATE, total_samples - second * AUDIO_RATE)
        yield _audio_frame(one_second[: 4 * count])


def _chord_second(root: int) -> bytes:
    """One second of the major triad on `root` Hz, as float32 samples."""
    notes = (root, root * 5 // 4, root * 3 // 2)
    period = AUDIO_RATE * 4 // root
    one_period = _periodic(
        period, lambda t: CHORD_AMPLITUDE * sum(math.sin(2 * math.pi * f * t) for f in notes)
    )
    return one_period * (AUDIO_RATE // period)


def _silence(total_samples: int) -> Iterator[av.AudioFrame]:
    for start in range(0, total_samples, AUDIO_RATE):
        yield _audio_frame(bytes(4 * min(AUDIO_RATE, total_samples - start)))


def _beeps(count: int) -> bytes:
    """`count` samples of the retake tone, starting with a beep."""
    cycle = AUDIO_RATE // BEEP_HZ
    beep = _periodic(cycle, lambda t: BEEP_AMPLITUDE * math.sin(2 * math.pi * BEEP_HZ * t))
    pattern = beep * (BEEP_SAMPLES // cycle) + bytes(4 * BEEP_SAMPLES)
    return (pattern * math.ceil(count / (2 * BEEP_SAMPLES)))[: 4 * count]


def _with_beeps(frames: Iterable[av.AudioFrame], start: int, stop: int) -> Iterator[av.AudioFrame]:
    """Pass audio frames through, with samples [start, stop) replaced by the retake tone."""
    tone = _beeps(max(0, stop - start))
    position = 0
    for frame in frames:
        count = frame.samples
        lo, hi = max(start, position), min(stop, position + count)
        if lo < hi:
            a, b = 4 * (lo - position), 4 * (hi - position)
            beeps = tone[4 * (lo - start) : 4 * (hi - start)]
            # Audio planes can be padded past the last sample; only the samples count.
            left, right = (bytes(p)[: 4 * count] for p in frame.planes)
            frame = _audio_frame(left[:a] + beeps + left[b:], right[:a] + beeps + right[b:])
        position += count
        yield frame
