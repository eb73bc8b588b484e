"""Small, real media files for tests, made with PyAV, Pillow and the standard library.

Each `make_*` function writes one file into `directory` and returns its path. Files are tiny
(a few kilobytes, a fraction of a second to encode) so tests stay fast. Names are chosen so
that several files can live in one directory; pass `name=` to choose one yourself (for
example a name whose extension lies about the content).
"""

from __future__ import annotations

import array
import base64
import io
import math
import random
import zlib
from fractions import Fraction
from pathlib import Path

import av
from av.stream import Disposition
from PIL import Image

# Pillow format name -> file extension.
IMAGE_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}

# make_video: container -> (PyAV muxer, default audio encoder).
VIDEO_CONTAINERS = {
    "mp4": ("mp4", "aac"),
    "mov": ("mov", "aac"),
    "mkv": ("matroska", "aac"),
    "webm": ("webm", "libopus"),
    "avi": ("avi", "libmp3lame"),
}
# make_video: codec as FFmpeg names it -> the encoder that makes it.
VIDEO_ENCODERS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9", "mpeg4": "mpeg4"}

# make_audio: kind of file -> (PyAV muxer, encoder, extension, sample rate the encoder needs).
AUDIO_FORMATS = {
    "m4a": ("ipod", "aac", "m4a", None),
    "mp3": ("mp3", "libmp3lame", "mp3", None),
    "wav-pcm": ("wav", "pcm_s16le", "wav", None),
    "wav-mp3": ("wav", "libmp3lame", "wav", None),
    "ogg-opus": ("ogg", "libopus", "ogg", 48000),
    "ogg-vorbis": ("ogg", "vorbis", "ogg", None),
    "flac": ("flac", "flac", "flac", None),
    "aac": ("adts", "aac", "aac", None),
}


def data_uri(data: bytes, mime: str) -> str:
    """The data URI form of a small input: data:<mime>;base64,<data>."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _unique_path(directory: Path | str, stem: str, ext: str, name: str | None) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if name is not None:
        return directory / name
    path = directory / f"{stem}.{ext}"
    n = 2
    while path.exists():
        path = directory / f"{stem}-{n}.{ext}"
        n += 1
    return path


# -- images --------------------------------------------------------------------------------


def make_image(
    directory: Path | str,
    fmt: str = "PNG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 30, 30),
    *,
    name: str | None = None,
    orientation: int | None = None,
    noise: bool = False,
) -> Path:
    """An image in `fmt` (a Pillow format name: PNG, JPEG, WEBP, GIF, BMP).

    `orientation` writes an EXIF Orientation tag (6 means "rotate 90° clockwise to display").
    `noise` fills the image with random pixels, which do not compress: use it to get a file
    that is large for its dimensions.
    """
    fmt = fmt.upper()
    path = _unique_path(directory, f"image-{size[0]}x{size[1]}", IMAGE_EXTENSIONS[fmt], name)
    if noise:
        # Seeded, so the same call always makes the same bytes.
        data = random.Random(1).randbytes(size[0] * size[1] * 3)
        image = Image.frombytes("RGB", size, data)
    else:
        image = Image.new("RGB", size, color)
    options = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(path, fmt, **options)
    return path


def make_png_bomb(directory: Path | str, size: tuple[int, int] = (20000, 20000)) -> Path:
    """A valid single-colour PNG with a huge pixel count but a tiny file (a "decompression bomb").

    Written by hand (1-bit greyscale, one zlib stream) because asking Pillow to build the image
    would need the memory the bomb is meant to exhaust.
    """
    width, height = size
    path = _unique_path(directory, f"bomb-{width}x{height}", "png", None)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    # Each row: filter byte 0, then width bits packed into bytes.
    row = bytes(1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


# -- sound ---------------------------------------------------------------------------------


def _tone(seconds: float, rate: int, channels: int) -> av.AudioFrame:
    """A 440 Hz sine as one s16 frame; encoders re-chunk it to their frame size."""
    samples = round(seconds * rate)
    data = array.array(
        "h",
        (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate))
            for i in range(samples)
            for _ in range(channels)
        ),
    )
    frame = av.AudioFrame(
        format="s16", layout="mono" if channels == 1 else "stereo", samples=samples
    )
    frame.planes[0].update(data.tobytes())
    frame.sample_rate = rate
    frame.pts = 0
    frame.time_base = Fraction(1, rate)
    return frame


def _add_audio_stream(container, encoder: str, rate: int, channels: int):
    stream = container.add_stream(encoder, rate=rate)
    if encoder == "vorbis":
        # FFmpeg's own Vorbis encoder is marked experimental (fine for test tones) and
        # encodes stereo only.
        stream.codec_context.options = {"strict": "experimental"}
        channels = 2
    stream.codec_context.layout = "mono" if channels == 1 else "stereo"
    return stream


def _mux_tone(container, stream, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    channels = stream.codec_context.layout.nb_channels
    container.mux(stream.encode(_tone(seconds, rate, channels)))
    container.mux(stream.encode(None))


def make_audio(
    directory: Path | str,
    fmt: str = "m4a",
    seconds: float = 2.0,
    *,
    name: str | None = None,
    sample_rate: int = 44100,
    channels: int = 1,
    cover_art: bool = False,
) -> Path:
    """A sine tone in one of AUDIO_FORMATS.

    "m4a" is AAC-LC in an M4A file, "wav-pcm" plain PCM WAV, "wav-mp3" MP3 inside WAV,
    "ogg-opus" / "ogg-vorbis" Ogg files, "flac" a native FLAC file and "aac" raw ADTS AAC.
    `cover_art` adds a picture, as music files often carry ("mp3" and "m4a" only); FFmpeg
    shows it as a one-frame video stream marked as an attached picture.
    """
    muxer, encoder, ext, forced_rate = AUDIO_FORMATS[fmt]
    if cover_art and fmt == "m4a":
        muxer = "mp4"  # FFmpeg's "ipod" (M4A) muxer takes no pictures; "mp4" does
    rate = forced_rate or sample_rate
    path = _unique_path(directory, f"audio-{fmt}", ext, name)
    with av.open(str(path), "w", format=muxer) as container:
        stream = _add_audio_stream(container, encoder, rate, channels)
        if cover_art:
            _add_cover_art(container)
        _mux_tone(container, stream, seconds)
    return path


def _add_cover_art(container, size: int = 32) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (size, size), (20, 120, 220)).save(jpeg, "JPEG")
    stream = container.add_stream("mjpeg")
    stream.width = stream.height = size
    stream.pix_fmt = "yuvj420p"
    stream.codec_context.time_base = Fraction(1, 90000)
    stream.disposition = Disposition.attached_pic
    packet = av.Packet(jpeg.getvalue())
    packet.pts = packet.dts = 0
    packet.stream = stream
    container.mux(packet)


# -- video ---------------------------------------------------------------------------------


def make_video(
    directory: Path | str,
    container: str = "mp4",
    codec: str = "h264",
    size: tuple[int, int] = (320, 180),
    fps: int | Fraction = 25,
    frames: int = 50,
    audio: bool = True,
    *,
    name: str | None = None,
    audio_codec: str | None = None,
    faststart: bool = False,
) -> Path:
    """A video of `frames` frames (a colour that changes each frame) with an optional tone.

    `container` is one of VIDEO_CONTAINERS, `codec` one of VIDEO_ENCODERS. `audio_codec`
    names an encoder to use instead of the container's usual one. `faststart` puts an MP4 or
    MOV index before the media data, as web-ready files do.
    """
    muxer, default_audio = VIDEO_CONTAINERS[container]
    path = _unique_path(directory, f"video-{codec}", container, name)
    options = {"movflags": "+faststart"} if faststart else {}
    fps = Fraction(fps)
    with av.open(str(path), "w", format=muxer, options=options) as out:
        video = out.add_stream(VIDEO_ENCODERS[codec], rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        if codec == "hevc":
            video.codec_context.options = {"x265-params": "log-level=error"}
        if audio:
            sound = _add_audio_stream(out, audio_codec or default_audio, 48000, 2)
            _mux_tone(out, sound, float(frames / fps))
        for index in range(frames):
            shade = (index * 255) // max(frames - 1, 1)
            image = Image.new("RGB", size, (shade, 255 - shade, 128))
            frame = av.VideoFrame.from_image(image)
            frame.pts = index
            frame.time_base = 1 / fps
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


# -- damaged and crafted files -------------------------------------------------------------


class _BitWriter:
    def __init__(self) -> None:
        self._bits: list[str] = []

    def put(self, value: int, width: int) -> _BitWriter:
        self._bits.append(format(value, f"0{width}b"))
        return self

    def getvalue(self) -> bytes:
        bits = "".join(self._bits)
        bits += "0" * (-len(bits) % 8)  # byte alignment
        return int(bits, 2).to_bytes(len(bits) // 8, "big")


# MPEG-4 audio object types and sampling-frequency indexes (ISO/IEC 14496-3).
_AOT_AAC_LC, _AOT_SBR = 2, 5
_SAMPLING_INDEX = {44100: 4, 22050: 7}


def _silent_aac_frame_with_sbr() -> bytes:
    """One mono AAC raw_data_block: a silent channel, then SBR extension data, then END.

    With no scale-factor bands coded, the channel needs no Huffman-coded spectrum, so the
    block can be written by hand. The SBR payload carries no header, so decoders produce
    silence from it, but its presence is what tells a decoder (FFmpeg included) that the
    stream is HE-AAC.
    """
    bits = _BitWriter()
    bits.put(0, 3).put(0, 4)  # ID_SCE, element_instance_tag
    bits.put(100, 8)  # global_gain
    # ics_info: reserved bit, ONLY_LONG_SEQUENCE, sine window, max_sfb 0, no prediction.
    bits.put(0, 1).put(0, 2).put(0, 1).put(0, 6).put(0, 1)
    bits.put(0, 1).put(0, 1).put(0, 1)  # no pulse, TNS or gain-control data
    bits.put(6, 3).put(1, 4)  # ID_FIL carrying one byte of extension payload
    bits.put(13, 4).put(0, 4)  # EXT_SBR_DATA; bs_header_flag 0 and padding
    bits.put(7, 3)  # ID_END
    return bits.getvalue()


def make_he_aac(
    directory: Path | str,
    seconds: float = 1.0,
    *,
    signalling: str = "explicit",
    name: str | None = None,
) -> Path:
    """A mono HE-AAC (AAC + SBR) M4A file, which FFmpeg's encoder cannot make.

    The AAC frames are written by hand (see _silent_aac_frame_with_sbr). `signalling` says
    how the file announces SBR: "explicit" puts object type 5 (SBR) in the esds
    AudioSpecificConfig, core 22.05 kHz and output 44.1 kHz; "implicit" declares plain
    AAC-LC there, so only the SBR data inside the frames gives it away.
    FFmpeg reports the profile "HE-AAC" for both once it has decoded a frame or two.
    """
    core_rate = 22050
    config = _BitWriter()
    # AudioSpecificConfig: object type, sampling-frequency index, channel configuration 1
    # (mono); explicit signalling then gives the output rate and the core object type.
    if signalling == "explicit":
        config.put(_AOT_SBR, 5).put(_SAMPLING_INDEX[core_rate], 4).put(1, 4)
        config.put(_SAMPLING_INDEX[2 * core_rate], 4).put(_AOT_AAC_LC, 5)
    elif signalling == "implicit":
        config.put(_AOT_AAC_LC, 5).put(_SAMPLING_INDEX[core_rate], 4).put(1, 4)
    else:
        raise ValueError(f"signalling must be 'explicit' or 'implicit', not {signalling!r}")
    config.put(0, 3)  # GASpecificConfig: 1024-sample frames, no core coder, no extension

    # The output stream is made from a template stream (so PyAV does not open an encoder
    # that would write its own AudioSpecificConfig); a moment of AAC-LC in memory serves.
    template = io.BytesIO()
    with av.open(template, "w", format="adts") as lc:
        _mux_tone(lc, _add_audio_stream(lc, "aac", core_rate, 1), 0.1)
    template.seek(0)
    path = _unique_path(directory, f"audio-he-aac-{signalling}", "m4a", name)
    frame = _silent_aac_frame_with_sbr()
    with av.open(template) as source, av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream_from_template(source.streams.audio[0])
        stream.codec_context.extradata = config.getvalue()
        for index in range(math.ceil(seconds * core_rate / 1024)):
            packet = av.Packet(frame)
            packet.pts = packet.dts = index * 1024
            packet.duration = 1024
            packet.time_base = Fraction(1, core_rate)
            packet.stream = stream
            out.mux(packet)
    return path


def truncated_copy(src: Path | str, *, keep: float = 0.5, name: str | None = None) -> Path:
    """A copy of `src`, beside it, cut to the first `keep` fraction of its bytes."""
    src = Path(src)
    data = src.read_bytes()
    dest = src.with_name(name or f"truncated-{src.name}")
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    data = path.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        boxes.append(data[pos + 4 : pos + 8].decode("latin-1"))
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            break
        pos += size
    return boxes
