"""Writing and reading the MP4 files with PyAV: the H.264 + AAC writer every render goes
through, and the probe and decoder a retake reads its source with."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType
from av.video.reformatter import ColorRange

from generations.simulator.audio import AUDIO_RATE

AUDIO_BIT_RATE = 128_000


# FFmpeg's numbers for "BT.709" and "unspecified", the same in its matrix, primaries and
# transfer enums (the codec context takes and returns these raw numbers).
AVCOL_BT709, AVCOL_UNSPECIFIED = 1, 2

VIDEO_OPTIONS = {
    "preset": "ultrafast",
    "crf": "23",
    # "ultrafast" turns CABAC and the 8x8 transform off, which makes x264 write a Constrained
    # Baseline stream. Turning both back on costs little time, makes the files smaller and
    # makes the stream High profile, as the real API's are.
    "x264-params": "cabac=1:8x8dct=1",
}


_COLOUR_TAGS = ("colorspace", "color_primaries", "color_trc")


class Mp4Writer:
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
            # Searching for mid/side stereo is most of the time FFmpeg's AAC encoder takes,
            # and the synthesized tracks sound the same without it.
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


class VideoInfo:
    def __init__(self, width, height, rate, frames, has_audio, colour_tags) -> None:
        self.width, self.height, self.rate = width, height, rate
        self.frames, self.has_audio, self.colour_tags = frames, has_audio, colour_tags


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
        # Keep the source's colour description (only where it has one), so the re-encoded
        # outside parts look exactly like the source.
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
