"""Fixing files the API would refuse: audio re-encoded as AAC-LC in M4A, images shrunk
to a JPEG under a size limit."""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageOps

from generations.media.checks import check_api_input, describe
from generations.media.probing import (
    MediaError,
    MediaInfo,
    NamelessFile,
    StrPath,
    open_image,
    probe,
)

# Sample rates the AAC encoder supports; anything else is resampled to 48 kHz.
_AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
_AAC_BITRATE_PER_CHANNEL = 96_000

_JPEG_QUALITIES = (90, 80, 70, 60, 50)
_MIN_SHRUNK_SIDE = 16


def write_into_place(dest: StrPath, write: Callable[[Path], None]) -> None:
    """Have `write` fill a temporary file beside `dest`, then move it into place, so readers
    never see half a file and a failed write leaves `dest` as it was."""
    dest = Path(dest)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_checked(dest: StrPath, kind: str, write: Callable[[Path], None]) -> MediaInfo:
    """`write_into_place` if the API accepts the new file as its `kind` input; its probe."""
    info = None

    def write_and_check(tmp: Path) -> None:
        nonlocal info
        write(tmp)
        info = probe(tmp)
        check_api_input(info, kind)

    write_into_place(dest, write_and_check)
    return info


def convert_audio_to_aac_m4a(src: StrPath, dest: StrPath) -> MediaInfo:
    """Re-encode the audio of `src` as AAC-LC (mono or stereo) in an M4A file at `dest`, for
    files the API refuses only for their coding (PCM WAV, HE-AAC...); return its probe."""
    info = probe(src)
    if not info.has_audio:
        raise MediaError(f"there is no audio to convert: this is {describe(info)}")

    def write(tmp: Path) -> None:
        try:
            _transcode_to_aac(Path(src), tmp)
        except av.FFmpegError:
            raise MediaError(
                "the audio could not be converted: it is damaged part of the way through"
            ) from None

    return _write_checked(dest, "audio", write)


def _transcode_to_aac(src: Path, tmp: Path) -> None:
    with src.open("rb") as file, av.open(NamelessFile(file)) as source:
        audio = source.streams.audio[0]
        layout = "mono" if audio.codec_context.channels == 1 else "stereo"
        rate = audio.codec_context.sample_rate
        if rate not in _AAC_RATES:
            rate = 48000
        # "ipod" is FFmpeg's name for the M4A flavour of MP4 (brand "M4A ").
        with av.open(str(tmp), "w", format="ipod") as out:
            stream = out.add_stream("aac", rate=rate)
            stream.codec_context.layout = layout
            stream.codec_context.bit_rate = (
                _AAC_BITRATE_PER_CHANNEL * stream.codec_context.layout.nb_channels
            )
            frame_size = stream.codec_context.frame_size or 1024
            # Fixed-size frames with our own timestamps: the source's may start late or
            # have gaps, which would otherwise carry over as silence or errors.
            resampler = av.AudioResampler(
                format="fltp", layout=layout, rate=rate, frame_size=frame_size
            )
            samples = 0

            def encode(frames) -> None:
                nonlocal samples
                for frame in frames:
                    frame.pts = samples
                    frame.time_base = Fraction(1, rate)
                    samples += frame.samples
                    out.mux(stream.encode(frame))

            for frame in source.decode(audio):
                frame.pts = None
                encode(resampler.resample(frame))
            encode(resampler.resample(None))
            out.mux(stream.encode(None))


def shrink_image(src: StrPath, dest: StrPath, *, max_bytes: int) -> MediaInfo:
    """Re-encode the image at `src`, upright (the JPEG carries no orientation tag), as a JPEG
    of at most `max_bytes` at `dest`, lowering the quality first and then the size."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    info = probe(src)
    if info.kind != "image":
        raise MediaError(f"expected an image to shrink but this is {describe(info)}")
    try:
        with open_image(Path(src)) as opened:
            icc_profile = opened.info.get("icc_profile")
            picture = _flatten(ImageOps.exif_transpose(opened))
    except OSError:
        raise MediaError(
            f"this {info.format} image cannot be converted here; save it as JPEG or PNG first"
        ) from None
    data = _fit_jpeg(picture, max_bytes, icc_profile)
    return _write_checked(dest, "image", lambda tmp: tmp.write_bytes(data))


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG, with any transparency laid over white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _fit_jpeg(picture: Image.Image, max_bytes: int, icc_profile: bytes | None) -> bytes:
    image = picture
    while True:
        for quality in _JPEG_QUALITIES:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality, optimize=True, icc_profile=icc_profile)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue()
        if max(image.size) <= _MIN_SHRUNK_SIDE:
            raise MediaError(f"this image cannot be made smaller than {max_bytes} bytes as a JPEG")
        # File size grows about with the pixel count, so scale each side by the square root
        # of how far off we are, within bounds that keep the number of rounds small.
        factor = min(0.9, max(0.5, math.sqrt(max_bytes / buffer.tell())))
        size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
        # Always resample from the full picture, so rounds do not compound blur.
        image = picture.resize(size, Image.Resampling.LANCZOS)
