"""The MP4 writer every render goes through, the reading of a retake's source, and the
soundtracks (a chord, beeps over a retaken section, silence, a file's audio decoded)."""

from __future__ import annotations

import itertools
import math
import os
from array import array
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType
from av.video.reformatter import ColorRange

AUDIO_RATE = 48_000
AUDIO_BIT_RATE = 128_000
# FFmpeg's numbers for "BT.709" and "unspecified" in its matrix, primaries and transfer enums.
AVCOL_BT709, AVCOL_UNSPECIFIED = 1, 2

VIDEO_OPTIONS = {
    "preset": "ultrafast",
    "crf": "23",
    # "ultrafast" alone writes Constrained Baseline; these two make it High profile, as the
    # real API's are, and the files smaller.
    "x264-params": "cabac=1:8x8dct=1",
}
_COLOUR_TAGS = ("colorspace", "color_primaries", "color_trc")


class Mp4Writer:
    """An MP4 with one H.264 stream and maybe one AAC-LC stream, its timestamps counted here
    so that inputs with gaps or offsets come out gapless from zero."""

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
        # The index first, so a browser can play and seek before it has the whole file.
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
            # Mid/side search is most of the AAC encoder's time, and changes nothing here.
            self.audio.options = {"aac_ms": "0"}

    def __enter__(self) -> Mp4Writer:
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
        # libx264 would obey a decoded frame's I, P or B type as an order; let it choose.
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
        """Write all frames, the audio just ahead of the video, so the muxer interleaves them
        in the small chunks a browser streaming the file wants."""
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


VideoInfo = namedtuple("VideoInfo", "width height rate frames has_audio colour_tags")


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, exact frame count (by counting packets) and colour tags of a video."""
    with av.open(os.fspath(path)) as container:
        if not container.streams.video:
            raise ValueError("the source has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise ValueError("cannot tell the source video's frame rate")
        codec = stream.codec_context
        # The source's colour description, so the re-encoded parts look exactly like it.
        colour_tags = {
            name: getattr(codec, name)
            for name in _COLOUR_TAGS
            if getattr(codec, name) != AVCOL_UNSPECIFIED
        }
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return VideoInfo(
            codec.width,
            codec.height,
            Fraction(rate),
            frames,
            bool(container.streams.audio),
            colour_tags,
        )


def decoded_video(path: str | os.PathLike) -> Iterator[av.VideoFrame]:
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


# A just-intonation major triad whose root changes every second. Each root is 4 times a
# divisor of 48000: every note is a whole number of Hz (no click between chords) and only one
# period of the chord is computed in Python.
CHORD_ROOTS_HZ = (200, 240, 300, 240, 320, 400)
CHORD_AMPLITUDE = 0.1  # per note
# The retake tone is a different sound on purpose: 1 kHz beeps, 1/8 s on and 1/8 s off,
# each ending at a zero crossing.
BEEP_HZ = 1000
BEEP_SAMPLES = AUDIO_RATE // 8
BEEP_AMPLITUDE = 0.25


def decoded_audio(path: str | os.PathLike) -> Iterator[av.AudioFrame]:
    """The first audio stream of any file FFmpeg reads, as 48 kHz stereo float frames."""
    with av.open(os.fspath(path)) as container:
        if not container.streams.audio:
            raise ValueError(f"{os.fspath(path)!r} has no audio stream")
        stream = container.streams.audio[0]
        # Decoders return an encoder's padding at the end as sound, which would make every
        # retake of a retake longer: stop at the length the container knows.
        if stream.duration is not None:
            limit = samples_for(stream.duration * stream.time_base)
        elif container.duration is not None:
            limit = samples_for(Fraction(container.duration, av.time_base))
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


def samples_for(seconds: Fraction) -> int:
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


def chord_audio(total_samples: int) -> Iterator[av.AudioFrame]:
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


def silence(total_samples: int) -> Iterator[av.AudioFrame]:
    for start in range(0, total_samples, AUDIO_RATE):
        yield _audio_frame(bytes(4 * min(AUDIO_RATE, total_samples - start)))


def _beeps(count: int) -> bytes:
    """`count` samples of the retake tone, starting with a beep."""
    cycle = AUDIO_RATE // BEEP_HZ
    beep = _periodic(cycle, lambda t: BEEP_AMPLITUDE * math.sin(2 * math.pi * BEEP_HZ * t))
    pattern = beep * (BEEP_SAMPLES // cycle) + bytes(4 * BEEP_SAMPLES)
    return (pattern * math.ceil(count / (2 * BEEP_SAMPLES)))[: 4 * count]


def with_beeps(frames: Iterable[av.AudioFrame], start: int, stop: int) -> Iterator[av.AudioFrame]:
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
