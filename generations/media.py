"""Media files probed by their content, and checked against the LTX-2 API's input rules.

Plain Python, PyAV and Pillow, no Django: the API simulator uses this to refuse inputs as
the real API would, and the web app uses it to tell people what is wrong before submitting.
The rules themselves (formats, codecs per container, AAC profiles) live in `ltx.rules`.

A file's name and extension are never trusted: images are recognised by Pillow from their
signature, audio and video by FFmpeg probing the bytes (the file is handed over without a
name, because FFmpeg otherwise lets the extension tip its guess).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.stream import Disposition
from PIL import Image, ImageOps

from generations import mp4box
from generations.ltx import rules

StrPath = str | os.PathLike


class MediaError(ValueError):
    """A file that cannot be used, with a sentence saying what is wrong and what would work.

    `convertible` is true when `convert_audio_to_aac_m4a` would turn the file into one the
    API accepts, so a caller can offer that conversion.
    """

    def __init__(self, message: str, *, convertible: bool = False):
        super().__init__(message)
        self.message = message
        self.convertible = convertible


@dataclass(frozen=True)
class MediaInfo:
    """What a file really is. Images report their size as displayed (EXIF orientation
    applied); videos their coded size, as ffprobe does."""

    kind: str  # "image", "video" or "audio"
    format: str  # "PNG", "MP4", "M4A"... or what an unsupported file really is ("GIF", "AVI")
    mime: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    duration: float | None = None  # seconds
    video_codec: str | None = None  # FFmpeg's codec name: "h264", "hevc", "vp9"...
    audio_codec: str | None = None  # "aac", "mp3", "opus", "pcm_s16le"...
    audio_profile: str | None = None  # FFmpeg's profile name: "LC", "HE-AAC", "HE-AACv2"
    has_audio: bool = False


UNREADABLE = (
    "this file could not be read as an image, video or audio file: it may be truncated or corrupt"
)

# The MIME type of each format the API accepts, read off the rules.
_API_MIME = {fmt: mime for types in rules.MIME_TYPES.values() for mime, fmt in types.items()}

# Image formats Pillow recognises by a signature of their own. Formats without one (TGA,
# for instance) are left out, so that no audio or video file is ever mistaken for an image.
_PILLOW_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "AVIF", "JPEG2000", "PSD")
# ISO base media brands of HEIF images (iPhone photos), which Pillow cannot open.
_HEIF_BRANDS = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"}

# Still images that only FFmpeg reads (it calls their demuxers "svg_pipe", "jpegxl_pipe"...).
_STILL_IMAGE_MIME = {"SVG": "image/svg+xml", "JPEGXL": "image/jxl", "ICO": "image/x-icon"}

# FFmpeg demuxer name -> (format, MIME type) for the containers not told apart below.
_CONTAINERS = {
    "wav": ("WAV", _API_MIME["WAV"]),
    "mp3": ("MP3", _API_MIME["MP3"]),
    "ogg": ("OGG", _API_MIME["OGG"]),
    "flac": ("FLAC", "audio/flac"),
    "aac": ("AAC", "audio/aac"),
    "aiff": ("AIFF", "audio/aiff"),
    "caf": ("CAF", "audio/x-caf"),
    "amr": ("AMR", "audio/amr"),
    "avi": ("AVI", "video/x-msvideo"),
    "flv": ("FLV", "video/x-flv"),
    "asf": ("ASF", "video/x-ms-asf"),
    "mpegts": ("MPEG-TS", "video/mp2t"),
    "mpeg": ("MPEG-PS", "video/mpeg"),
}

# Names people know, for messages.
_CODEC_NAMES = {
    "h264": "H.264",
    "hevc": "H.265/HEVC",
    "vvc": "H.266 (VVC)",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4 Part 2",
    "mpeg2video": "MPEG-2",
    "mpeg1video": "MPEG-1",
    "prores": "ProRes",
    "mjpeg": "Motion JPEG",
    "theora": "Theora",
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "alac": "Apple Lossless (ALAC)",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
}

# A file is taken as truncated when its media ends this much before the duration its
# header declares (whichever is larger). Encoder padding and edit lists account for
# differences of a frame or two, far less than this.
_TRUNCATION_TOLERANCE_SECONDS = 0.5
_TRUNCATION_TOLERANCE_FRACTION = 0.05
# Decoding a little of each stream proves the codec data is sound, and lets FFmpeg see
# what signalling alone may hide (an AAC stream turns out to be HE-AAC once SBR data is met).
_VIDEO_FRAMES_TO_DECODE = 1
_AUDIO_FRAMES_TO_DECODE = 8
# Packets to feed a decoder before concluding it will not produce anything (decoders
# running on several threads hold back a few frames).
_MAX_PACKETS_BEFORE_FIRST_FRAME = 64

# Sample rates the AAC encoder supports; anything else is resampled to 48 kHz.
_AAC_RATES = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
_AAC_BITRATE_PER_CHANNEL = 96_000

# shrink_image: JPEG qualities to try at each scale, and the smallest side we shrink to.
_JPEG_QUALITIES = (90, 80, 70, 60, 50)
_MIN_SHRUNK_SIDE = 16


# -- probing -------------------------------------------------------------------------------


_DEFAULT_MAX_IMAGE_PIXELS = 50_000_000


def probe(path: StrPath, *, max_image_pixels: int = _DEFAULT_MAX_IMAGE_PIXELS) -> MediaInfo:
    """Tell what `path` holds from its content; raise MediaError when it is not usable media.

    Images with more than `max_image_pixels` pixels are refused before any pixel is decoded
    (Pillow's own guard refuses anything past twice its MAX_IMAGE_PIXELS in any case).
    Video frames are counted packet by packet, since containers such as MKV do not record
    the count, and a video's duration comes from its frames' timestamps. An audio file's
    duration is the one FFmpeg settles on, which accounts for encoder delay and padding.
    """
    return _probe(Path(path), max_image_pixels, copy=None)


# Given the opened source, `copy` returns what to do with each of its packets once the
# probe has looked at it: `write_provenance` copies them, so a video is read only once.
_Copy = Callable[[av.container.InputContainer], Callable[[av.Packet], None]]


def _probe(path: Path, max_image_pixels: int, *, copy: _Copy | None) -> MediaInfo:
    size = path.stat().st_size
    if size == 0:
        raise MediaError("this file is empty: it holds no image, video or audio")
    with path.open("rb") as file:
        head = file.read(256)

    image = _probe_image(path, size, max_image_pixels)
    if image is not None:
        return image
    if _ftyp_brand(head) in _HEIF_BRANDS:
        # Opened by FFmpeg, a HEIF photo would pass for a video of image tiles.
        return MediaInfo(kind="image", format="HEIC", mime="image/heic", size_bytes=size)
    return _probe_audio_video(path, size, head, copy)


def _open_image(path: Path) -> Image.Image:
    """Open an image by its signature only; Pillow reads the header, not the pixels."""
    return Image.open(path, formats=[f for f in _PILLOW_FORMATS if f in Image.OPEN])


def _probe_image(path: Path, size: int, max_image_pixels: int) -> MediaInfo | None:
    Image.init()
    try:
        image = _open_image(path)
    except Image.DecompressionBombError:
        raise MediaError(_too_many_pixels(None, max_image_pixels)) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        # Not an image Pillow recognises (UnidentifiedImageError is an OSError): FFmpeg
        # gets its turn.
        return None
    with image:
        width, height = image.size
        if width * height > max_image_pixels:
            raise MediaError(_too_many_pixels((width, height), max_image_pixels))
        fmt = "JPEG" if image.format == "MPO" else image.format  # camera JPEGs with extras
        try:
            if fmt == "JPEG":
                # Decode at 1/8 scale: every byte is still read, so damage shows, at a
                # fraction of the memory.
                image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
            image.load()
            orientation = image.getexif().get(0x0112)
        except (OSError, SyntaxError, ValueError, EOFError):
            raise MediaError(
                f"this {fmt} image could not be read: it may be truncated or corrupt"
            ) from None
    if orientation in (5, 6, 7, 8):  # turned a quarter turn when displayed
        width, height = height, width
    mime = _API_MIME.get(fmt) or Image.MIME.get(fmt, "application/octet-stream")
    return MediaInfo(
        kind="image", format=fmt, mime=mime, size_bytes=size, width=width, height=height
    )


def _too_many_pixels(dimensions: tuple[int, int] | None, limit: int) -> str:
    found = f"is {dimensions[0]}x{dimensions[1]} pixels" if dimensions else "has too many pixels"
    return (
        f"this image {found}, more than the {limit / 1e6:g} megapixels that can be "
        "processed safely. Scale it down (for example to 3840x2160) and try again"
    )


def _ftyp_brand(head: bytes) -> str | None:
    """The major brand of an ISO base media file (MP4, MOV, M4A, HEIF), if it has one."""
    if head[4:8] != b"ftyp" or len(head) < 12:
        return None
    return head[8:12].decode("latin-1")


def _ebml_doctype(head: bytes) -> str | None:
    """The DocType ("matroska" or "webm") in a Matroska file's EBML header."""

    def vint(pos: int) -> tuple[int, int]:
        # EBML variable-length integer: the leading zero bits of the first byte give the
        # length; the marker bit after them is not part of the value.
        length = 9 - head[pos].bit_length()
        value = int.from_bytes(head[pos : pos + length], "big")
        return value & ((1 << (7 * length)) - 1), pos + length

    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    try:
        header_size, pos = vint(4)
        end = min(pos + header_size, len(head))
        while pos < end:
            element_id = int.from_bytes(head[pos : pos + 2], "big")
            length, data = vint(pos + 2)  # every EBML header child has a two-byte ID
            if element_id == 0x4282:
                return head[data : data + length].decode("ascii", "replace")
            pos = data + length
    except (IndexError, ValueError):
        return None
    return None


class _NamelessFile:
    """A file object without a `name`, so FFmpeg has nothing but the bytes to go on."""

    def __init__(self, file: io.BufferedReader):
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _container_format(demuxer: str, head: bytes, has_video: bool) -> tuple[str, str]:
    if demuxer == "mov,mp4,m4a,3gp,3g2,mj2":
        # FFmpeg has one demuxer for the whole family; the brand and the streams tell them
        # apart. Old QuickTime files have no ftyp box at all.
        brand = _ftyp_brand(head)
        if brand is None or brand == "qt  ":
            return "MOV", _API_MIME["MOV"]
        if brand.startswith("3g2"):
            return "3G2", "video/3gpp2"
        if brand.startswith("3g"):
            return "3GP", "video/3gpp"
        if has_video:
            return "MP4", _API_MIME["MP4"]
        return "M4A", _API_MIME["M4A"]
    if demuxer == "matroska,webm":
        if _ebml_doctype(head) == "webm":
            return "WEBM", "video/webm" if has_video else "audio/webm"
        if has_video:
            return "MKV", _API_MIME["MKV"]
        return "MKA", "audio/x-matroska"
    if demuxer == "ogg" and has_video:
        return "OGG", "video/ogg"
    if demuxer in _CONTAINERS:
        return _CONTAINERS[demuxer]
    return demuxer.split(",")[0].upper(), "application/octet-stream"


def _probe_audio_video(path: Path, size: int, head: bytes, copy: _Copy | None) -> MediaInfo:
    # A copy carries the source's tags over, whatever their encoding.
    metadata_errors = "replace" if copy is not None else "strict"
    try:
        with (
            path.open("rb") as file,
            av.open(_NamelessFile(file), metadata_errors=metadata_errors) as container,
        ):
            return _read_container(container, size, head, copy)
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None


class _StreamScan:
    """What demuxing one stream, and decoding its start, has shown."""

    def __init__(self, stream, frames_to_decode: int):
        self.stream = stream
        self.frames_to_decode = frames_to_decode
        self.packets = 0
        self.first_pts: int | None = None
        self.end_pts: int | None = None
        self.fed = 0  # packets given to the decoder
        self.decoded = 0  # frames it returned

    def add(self, packet) -> None:
        self.packets += 1
        if packet.pts is not None:
            end = packet.pts + (packet.duration or 0)
            if self.first_pts is None:
                self.first_pts, self.end_pts = packet.pts, end
            else:
                self.first_pts = min(self.first_pts, packet.pts)
                self.end_pts = max(self.end_pts, end)
        if self.decoded < self.frames_to_decode and self.fed < _MAX_PACKETS_BEFORE_FIRST_FRAME:
            self.fed += 1
            # A stream may start with packets its decoder cannot use yet (pictures that
            # refer to earlier ones); only a stream that never decodes is damaged.
            with contextlib.suppress(av.FFmpegError):
                self.decoded += len(packet.decode())

    def finish(self) -> None:
        """Drain the decoder if it is still holding back the first frame."""
        if self.decoded == 0 and self.fed:
            with contextlib.suppress(av.FFmpegError):
                self.decoded += len(self.stream.codec_context.decode(None))

    def seconds(self) -> float | None:
        if self.first_pts is None:
            return None
        return float((self.end_pts - self.first_pts) * self.stream.time_base)


def _read_container(container, size: int, head: bytes, copy: _Copy | None) -> MediaInfo:
    demuxer = container.format.name
    if demuxer.endswith("_pipe") or demuxer == "ico":
        return _still_image(container, demuxer.removesuffix("_pipe").upper(), size)
    video = next(
        (s for s in container.streams.video if not s.disposition & Disposition.attached_pic),
        None,
    )
    audio = next(iter(container.streams.audio), None)
    if video is None and audio is None:
        raise MediaError(UNREADABLE)
    fmt, mime = _container_format(demuxer, head, video is not None)
    for stream in (video, audio):
        if stream is not None and stream.codec_context is None:
            # No decoder in this FFmpeg build, or a codec FFmpeg does not know at all.
            raise MediaError(f"this {fmt} file uses a {stream.type} codec that cannot be read")

    scans = {}
    if video is not None:
        scans[video.index] = _StreamScan(video, _VIDEO_FRAMES_TO_DECODE)
    if audio is not None:
        scans[audio.index] = _StreamScan(audio, _AUDIO_FRAMES_TO_DECODE)
    # End of the media actually present, over every stream: compared with what the header
    # declares, it shows a file cut short.
    media_end = None
    copy_packet = copy(container) if copy is not None else None
    for packet in container.demux():
        # Empty packets mark the end of a stream; discarded ones (before an edit list's
        # start) are never shown.
        if packet.size != 0 and not packet.is_discard:
            if packet.pts is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.stream.time_base)
                media_end = end if media_end is None else max(media_end, end)
            scan = scans.get(packet.stream.index)
            if scan is not None:
                scan.add(packet)
        if copy_packet is not None:
            copy_packet(packet)  # last: muxing moves the packet to the copy's time base
    for scan in scans.values():
        scan.finish()
        if scan.decoded == 0:
            raise MediaError(
                f"this {fmt} file could not be decoded: it may be truncated or corrupt"
            )
    _check_complete(container, fmt, media_end)

    fields: dict = {"kind": "video" if video is not None else "audio", "format": fmt}
    if video is not None:
        scan = scans[video.index]
        duration = scan.seconds()
        rate = video.average_rate or video.guessed_rate
        fields.update(
            width=video.codec_context.width,
            height=video.codec_context.height,
            frames=scan.packets,
            duration=duration,
            fps=float(rate) if rate else (scan.packets / duration if duration else None),
            video_codec=video.codec_context.codec.canonical_name,
        )
    if audio is not None:
        fields.update(
            has_audio=True,
            audio_codec=audio.codec_context.codec.canonical_name,
            audio_profile=audio.codec_context.profile,
        )
        if video is None:
            # The container's duration applies edit lists, encoder delay and the MP3
            # Xing/LAME header; timestamps are the fallback.
            declared = _declared_seconds(container)
            fields["duration"] = declared if declared is not None else scans[audio.index].seconds()
    return MediaInfo(mime=mime, size_bytes=size, **fields)


def _still_image(container, fmt: str, size: int) -> MediaInfo:
    """A still image FFmpeg recognised but Pillow did not (SVG, JPEG XL, PCX...)."""
    if fmt in _API_MIME:
        # A PNG, JPEG or WEBP gets here only when Pillow could not read it.
        raise MediaError(f"this {fmt} image could not be read: it may be truncated or corrupt")
    stream = next(iter(container.streams.video), None)
    context = stream.codec_context if stream is not None else None
    return MediaInfo(
        kind="image",
        format=fmt,
        mime=_STILL_IMAGE_MIME.get(fmt, "application/octet-stream"),
        size_bytes=size,
        width=context.width if context is not None else None,
        height=context.height if context is not None else None,
    )


def _declared_seconds(container) -> float | None:
    if container.duration is None or container.duration <= 0:
        return None
    return container.duration / av.time_base


def _check_complete(container, fmt: str, media_end: float | None) -> None:
    declared = _declared_seconds(container)
    if declared is None or media_end is None:
        return
    start = (container.start_time or 0) / av.time_base
    present = media_end - start
    tolerance = max(_TRUNCATION_TOLERANCE_SECONDS, declared * _TRUNCATION_TOLERANCE_FRACTION)
    if present < declared - tolerance:
        raise MediaError(
            f"this {fmt} file is incomplete: it should last {declared:.2f} s but holds only "
            f"{max(present, 0):.2f} s of media. It was probably cut off while uploading "
            "or copying; use the original file"
        )


# -- API rules -----------------------------------------------------------------------------


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _codec_name(codec: str | None) -> str:
    if codec is None:
        return "an unknown codec"
    if codec.startswith("pcm_"):
        return f"PCM ({codec})"
    return _CODEC_NAMES.get(codec, codec)


def _api_formats(kind: str) -> list[str]:
    return list(rules.MIME_TYPES[kind].values())


def _video_codecs() -> str:
    codecs = sorted(set().union(*rules.VIDEO_CONTAINER_CODECS.values()))
    return _join(_codec_name(c) for c in codecs)


_EXPECTED = {
    "image": f"an image ({_join(_api_formats('image'))})",
    "video": f"a video ({_join(_api_formats('video'))} with {_video_codecs()})",
    "audio": f"an audio file ({_join(_api_formats('audio'))})",
}
_NOUNS = {"image": "image", "video": "video", "audio": "audio file"}
# Initialisms read letter by letter whose first letter sounds like a vowel ("an MP4");
# FLAC and HEIC are said as words ("a FLAC").
_AN_LETTERS = set("AEFHILMNORSX")
_SAID_AS_WORDS = {"FLAC", "HEIC"}

_CONVERT_HINT = "Converting it to AAC-LC in an M4A file fixes this"


def _describe(info: MediaInfo) -> str:
    """'an MP3 audio file', 'a GIF image', 'an MP4 video'."""
    fmt = info.format
    article = "an" if fmt[:1] in _AN_LETTERS and fmt not in _SAID_AS_WORDS else "a"
    return f"{article} {fmt} {_NOUNS[info.kind]}"


def check_api_input(info: MediaInfo, kind: str) -> None:
    """Raise MediaError if the API would refuse this file as its `kind` input.

    `kind` is the role: "image" (image_uri), "video" (video_uri) or "audio" (audio_uri).
    Sizes per input method and the retake limits are checked elsewhere (`rules`).
    """
    if kind not in rules.MIME_TYPES:
        raise ValueError(f"kind must be one of {', '.join(rules.MIME_TYPES)}, not {kind!r}")
    if info.kind != kind:
        raise MediaError(f"expected {_EXPECTED[kind]} but this is {_describe(info)}")
    accepted = _api_formats(kind)
    if info.format not in accepted:
        message = (
            f"this is {_describe(info)}; the API accepts {kind} files only as {_join(accepted)}"
        )
        if kind == "image":
            raise MediaError(f"{message}. Save it as PNG or JPEG and try again")
        if kind == "video":
            raise MediaError(f"{message} with {_video_codecs()}. Re-encode it as H.264 in MP4")
        raise MediaError(f"{message}. {_CONVERT_HINT}", convertible=True)
    if kind == "video":
        _check_video_codec(info)
    elif kind == "audio":
        _check_audio_codec(info)


def _check_video_codec(info: MediaInfo) -> None:
    allowed = rules.VIDEO_CONTAINER_CODECS[info.format]
    if info.video_codec not in allowed:
        raise MediaError(
            f"this {info.format} video uses the {_codec_name(info.video_codec)} codec; the API "
            f"accepts {info.format} videos only with "
            f"{_join(_codec_name(c) for c in sorted(allowed))}. Re-encode it as H.264"
        )


def _check_audio_codec(info: MediaInfo) -> None:
    codec = info.audio_codec
    if codec is not None and codec.startswith("pcm_"):
        raise MediaError(
            f"this {info.format} file holds uncompressed PCM audio ({codec}), and the API does "
            f"not accept PCM audio. {_CONVERT_HINT}",
            convertible=True,
        )
    allowed = rules.AUDIO_CONTAINER_CODECS[info.format]
    if codec not in allowed:
        raise MediaError(
            f"this {info.format} file uses the {_codec_name(codec)} codec; the API accepts "
            f"{info.format} audio only with {_join(_codec_name(c) for c in sorted(allowed))}. "
            f"{_CONVERT_HINT}",
            convertible=True,
        )
    if codec == "aac" and info.audio_profile not in rules.AAC_ALLOWED_PROFILES:
        profile = info.audio_profile or "an unknown profile"
        raise MediaError(
            f"this {info.format} file uses {profile} audio; the API accepts AAC only in the "
            f"AAC-LC profile (HE-AAC and HE-AACv2 are refused). {_CONVERT_HINT}",
            convertible=True,
        )


# -- fixing files --------------------------------------------------------------------------


def _write_atomically(dest: StrPath, kind: str, write: Callable[[Path], None]) -> MediaInfo:
    """Have `write` fill a temporary file beside `dest`, check it, then move it into place.

    Readers of `dest` see the old file or the complete new one, never half of one.
    """
    dest = Path(dest)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        info = probe(tmp)
        check_api_input(info, kind)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info


def convert_audio_to_aac_m4a(src: StrPath, dest: StrPath) -> MediaInfo:
    """Re-encode the audio of `src` as AAC-LC in an M4A file at `dest`; return its probe.

    Offered for files the API refuses only for their audio coding: PCM WAV, HE-AAC, FLAC...
    Mono stays mono; anything with more channels becomes stereo.
    """
    info = probe(src)
    if not info.has_audio:
        raise MediaError(f"there is no audio to convert: this is {_describe(info)}")

    def write(tmp: Path) -> None:
        try:
            _transcode_to_aac(Path(src), tmp)
        except av.FFmpegError:
            raise MediaError(
                "the audio could not be converted: it is damaged part of the way through"
            ) from None

    return _write_atomically(dest, "audio", write)


def _transcode_to_aac(src: Path, tmp: Path) -> None:
    with src.open("rb") as file, av.open(_NamelessFile(file)) as source:
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
    """Re-encode the image at `src` as a JPEG of at most `max_bytes` at `dest`.

    Lowers the JPEG quality first and then the size, as little as needed. The picture is
    turned upright first (EXIF orientation), since the JPEG carries no orientation tag;
    transparent areas become white.
    """
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    info = probe(src)
    if info.kind != "image":
        raise MediaError(f"expected an image to shrink but this is {_describe(info)}")
    try:
        with _open_image(Path(src)) as opened:
            icc_profile = opened.info.get("icc_profile")
            picture = _flatten(ImageOps.exif_transpose(opened))
    except OSError:
        raise MediaError(
            f"this {info.format} image cannot be converted here; save it as JPEG or PNG first"
        ) from None
    data = _fit_jpeg(picture, max_bytes, icc_profile)
    return _write_atomically(dest, "image", lambda tmp: tmp.write_bytes(data))


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


# -- posters and provenance ----------------------------------------------------------------

# poster_frame: JPEG quality for poster images, small enough for a page full of them
# without visible blocking on the smooth gradients generated videos often have.
_POSTER_JPEG_QUALITY = 82
# poster_frame: the most compressed video decoded on the way from the keyframe before the
# wanted time to the frame at it. A second of 1080p from a generator is 1-3 MB and of 4K
# under 10 MB, so those get the exact frame; lossless or near-lossless footage (5 MB a
# frame at 1080p, 80 ms each to decode) gets a frame at most this far from the keyframe.
_POSTER_DECODE_BUDGET_BYTES = 8 * 1024 * 1024

# write_provenance: `movflags` for the MP4 muxer. Without use_metadata_tags it writes only
# the iTunes-style tags it knows (title, comment, description, artist...) and silently drops
# every other key; with it, each tag is stored under its own name in a "mdta" metadata box.
# faststart moves the index before the media data, so browsers can start playing at once.
_PROVENANCE_MOVFLAGS = "+faststart+use_metadata_tags"
# Tags the MP4 muxer writes itself from the file it makes, whatever the metadata says.
_MUXER_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})


def _write_into_place(dest: StrPath, write: Callable[[Path], None]) -> None:
    """Have `write` fill a temporary file beside `dest`, then move it into place.

    Like `_write_atomically` but without checking the result against the API's rules:
    posters and tagged copies are files of our own, not API inputs.
    """
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


def poster_frame(
    video_path: StrPath, dest: StrPath, *, at_seconds: float = 1.0, max_width: int = 640
) -> tuple[int, int]:
    """Save the frame shown at `at_seconds` into the video as a JPEG at `dest`.

    A video that ends before `at_seconds` gives its middle frame instead. Frames are decoded
    from the keyframe before that time; when getting to it would mean decoding more than
    `_POSTER_DECODE_BUDGET_BYTES` of video (lossless or very high bit rate footage), the
    poster is the last frame within that budget, at worst the keyframe. The picture is
    scaled down to at most `max_width` pixels wide, keeping its displayed proportions.
    Returns the poster's (width, height).
    """
    return _poster_frame(video_path, dest, at_seconds, max_width)[0]


def _poster_frame(
    video_path: StrPath, dest: StrPath, at_seconds: float = 1.0, max_width: int = 640
) -> tuple[tuple[int, int], tuple[int, int]]:
    """`poster_frame`, which also returns the size of the frame as decoded."""
    if max_width < 1:
        raise ValueError("max_width must be at least 1")
    if at_seconds < 0:
        raise ValueError("at_seconds cannot be negative")
    try:
        with _open_undecoded(video_path) as container:
            frame, display_width = _frame_at(container, at_seconds)
            width = min(max_width, display_width)
            height = max(1, round(frame.height * width / display_width))
            # FFmpeg converts to RGB and scales in one go, on the frame's own planes:
            # several times faster than converting at full size and resizing with Pillow.
            picture = frame.reformat(
                width=width, height=height, format="rgb24", interpolation="LANCZOS"
            ).to_image()
    except FileNotFoundError:
        raise  # the caller's mistake, not a damaged video
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None

    def write(tmp: Path) -> None:
        picture.save(tmp, "JPEG", quality=_POSTER_JPEG_QUALITY, optimize=True)

    _write_into_place(dest, write)
    return (width, height), (frame.width, frame.height)


# Options for each stream while FFmpeg opens a file: by default it decodes a frame or
# more of video to fill in details (the pixel format) that the MP4 index leaves out, which
# for a 1080p lossless keyframe is as long as the decoding that follows. Decoders opened
# afterwards, by PyAV, decode as usual.
_UNDECODED = {"skip_frame": "all"}
# ...and for an MP4 whose index has been read, nothing past the first packet: the index
# holds what MediaInfo needs (the audio's profile is settled by decoding its start after).
_INDEX_ONLY = {"probesize": "32", "analyzeduration": "0"}


def _open_undecoded(path: StrPath, streams: int = 64):
    """av.open without decoding video to look at it (for formats that list their streams
    before any packet is read: MP4, MKV...; others are opened as usual)."""
    try:
        return av.open(str(path), metadata_errors="replace", stream_options=[_UNDECODED] * streams)
    except ValueError:  # a format whose streams appear only as packets are read
        return av.open(str(path), metadata_errors="replace")


def _frame_at(container, at_seconds: float) -> tuple[av.VideoFrame, int]:
    """The frame nearest `at_seconds`, and the width it is displayed at."""
    stream = next(
        (s for s in container.streams.video if not s.disposition & Disposition.attached_pic),
        None,
    )
    if stream is None:
        raise MediaError("this file has no video to take a poster frame from")
    if stream.duration:
        duration = float(stream.duration * stream.time_base)
    else:
        duration = _declared_seconds(container)
    if duration is not None and at_seconds >= duration:
        at_seconds = duration / 2
    target = (stream.start_time or 0) + round(at_seconds / stream.time_base)

    # Seeking lands on the keyframe at or before the target; frames can only be decoded
    # from a keyframe on, so decoding forward from there is the least work that will do.
    container.seek(target, stream=stream)
    chosen = None
    decoded_bytes = 0
    reached = False
    for packet in container.demux(stream):
        decoded_bytes += packet.size
        if chosen is not None and decoded_bytes > _POSTER_DECODE_BUDGET_BYTES:
            break  # the budget is spent: the last frame decoded will do
        for frame in packet.decode():  # the empty packet at the end drains the decoder
            if frame.pts >= target:
                if chosen is None or frame.pts - target < target - chosen.pts:
                    chosen = frame
                reached = True
                break
            chosen = frame
        if reached:
            break
    if chosen is None:
        raise MediaError("this video could not be decoded: it may be truncated or corrupt")

    # Pixels are not square in some videos (anamorphic DVD rips, some phone footage).
    aspect = stream.sample_aspect_ratio or 1
    return chosen, max(1, round(chosen.width * aspect))


def write_provenance(
    src: StrPath,
    dest: StrPath,
    tags: dict[str, str],
    *,
    poster: StrPath | None = None,
    digest=None,
) -> MediaInfo:
    """Copy the MP4 at `src` to `dest` with `tags` added to its container metadata.

    Packets are copied as they are, not re-encoded: every stream keeps its exact bytes,
    frame count and timing. Tags already in `src` are kept unless `tags` replaces them.
    Keys the muxer fills in itself ("encoder", "major_brand"...) cannot be set. Read the
    tags back with `read_provenance`. `dest` may be `src` itself.

    Returns `probe(src)`, and `dest` is left alone unless that finds a sound video. A plain
    MP4 is probed from its index, which must point only at media present in the file, and
    its media data is copied by the kernel, never read here; any other video is probed as
    FFmpeg copies it, in the same single read.

    With `poster`, `poster_frame` saves the video's poster there too (with its defaults):
    decoded while the copy is written, and standing in for the probe's decoding of the
    video's first frame, so that a large video's keyframe is decoded once, not twice.

    With `digest` (a hashlib object), the bytes of `dest` are fed to it: for a plain MP4
    while the kernel copies them, from the same pages, so with a core to spare a checksum
    of the stored file costs only the time the hash takes beyond the copy.
    """
    info = None

    def write(tmp: Path) -> None:
        nonlocal info
        info = send_with_provenance(
            src, tags, lambda copy: copy.write(tmp), poster=poster, digest=digest
        )

    _write_into_place(dest, write)
    return info


def send_with_provenance(
    src: StrPath,
    tags: dict[str, str],
    send: Callable[[mp4box.TaggedCopy], None],
    *,
    poster: StrPath | None = None,
    digest=None,
) -> MediaInfo:
    """`write_provenance` without a file of its own: once `src` is probed, `send` is handed
    the tagged copy (an mp4box.TaggedCopy, which reads `src` as it goes) to write or upload.

    A plain MP4 is never copied here: an upload reads the new index and then the media of
    `src` itself. Other videos are remuxed to a file beside `src` first. The poster is
    decoded and `digest` fed while `send` runs, so a video whose first frame does not
    decode raises MediaError after `send` has been called."""
    for key, value in tags.items():
        if not key or key in _MUXER_TAGS:
            raise ValueError(f"{key!r} cannot be used as a metadata key")
        if "\0" in key or "\0" in value:
            # FFmpeg keeps tags as C strings: anything after a NUL would be lost silently.
            raise ValueError(f"metadata tag {key!r} contains a NUL character")
    # The poster is made beside its place and moved there once the copy is sent: both
    # files, or neither.
    poster_tmp = None
    if poster is not None:
        poster = Path(poster)
        fd, name = tempfile.mkstemp(prefix=f".{poster.name}.", suffix=".tmp", dir=poster.parent)
        os.close(fd)
        poster_tmp = Path(name)
    try:
        try:
            info = _copy_with_tags(Path(src), tags, send, poster_tmp, digest)
        except av.FFmpegError:
            raise MediaError(
                "this video could not be copied: it may be truncated or corrupt"
            ) from None
        if poster_tmp is not None:
            os.replace(poster_tmp, poster)
    finally:
        if poster_tmp is not None:
            poster_tmp.unlink(missing_ok=True)
    return info


def _copy_with_tags(
    src: Path,
    tags: dict[str, str],
    send: Callable[[mp4box.TaggedCopy], None],
    poster: StrPath | None = None,
    digest=None,
) -> MediaInfo:
    """Probe `src` and send its copy with `tags` (and make its poster); the probe's
    MediaInfo.

    A plain MP4 (what generators and FFmpeg write) is rewritten box by box: its index is
    read and checked, given the tags and put first, and the media data is sent from `src`,
    never demuxed, while the poster is decoded beside it (FFmpeg, the kernel and sockets
    all work without the GIL). Anything else is remuxed by FFmpeg, which reads every
    packet, and the poster is taken from the remuxed file.
    """
    with src.open("rb") as file:
        head = file.read(256)
    brand = _ftyp_brand(head)
    if brand is not None and brand != "qt  " and not brand.startswith("3g"):
        with ThreadPoolExecutor(max_workers=1) as pool:  # waits for the poster in any case
            made = pool.submit(_poster_frame, src, poster) if poster is not None else None
            info = _copy_mp4_boxes(
                src, tags, head, decode_video=made is None, send=send, digest=digest
            )
            if made is not None:
                if info is None:
                    made.cancel()
                else:
                    # A video that does not decode fails here. Its size is the one decoded,
                    # as a probe reports it, should the index say otherwise.
                    width, height = made.result()[1]
                    info = dataclasses.replace(info, width=width, height=height)
        if info is not None:
            return info
    with tempfile.TemporaryDirectory(prefix=".remux-", dir=src.parent) as work:
        remuxed = Path(work) / "remuxed.mp4"
        info = _remux_with_tags(src, remuxed, tags)
        if poster is not None:
            poster_frame(remuxed, poster)
        copy = mp4box.TaggedCopy.whole(remuxed)
        copy.hashed_while(digest, lambda: send(copy))
    return info


def _copy_mp4_boxes(
    src: Path,
    tags: dict[str, str],
    head: bytes,
    *,
    decode_video: bool,
    send: Callable[[mp4box.TaggedCopy], None],
    digest=None,
) -> MediaInfo | None:
    """The box-level copy of `_copy_with_tags`; None for a file it does not handle."""
    try:
        layout = mp4box.parse(src)
        info, source_tags = _probe_mp4_index(src, head, layout, decode_video=decode_video)
        kept = {k: v for k, v in source_tags.items() if k not in _MUXER_TAGS}
        # The muxer's own tag, as the remux writes it, so both ways give the same tags.
        encoder = "Lavf" + ".".join(str(n) for n in av.library_versions["libavformat"])
        udta = mp4box.metadata_box(kept | tags | {"encoder": encoder})
        # Refuses (Unsupported) before anything is sent or hashed.
        copy = mp4box.tagged_copy(src, layout, udta)
        copy.hashed_while(digest, lambda: send(copy))
    except mp4box.Unsupported:
        return None
    except mp4box.Incomplete:
        raise MediaError(
            "this MP4 file is incomplete: its index points at media that is not in the "
            "file. It was probably cut off while uploading or copying; use the original file"
        ) from None
    return info


def _probe_mp4_index(
    src: Path, head: bytes, layout: mp4box.Layout, *, decode_video: bool = True
) -> tuple[MediaInfo, dict]:
    """What `probe` says of a plain MP4, from its index instead of a pass over its packets.

    The same checks: the file is whole (every chunk the index points at is in the file,
    which `mp4box.parse` has checked, and the media lasts as long as declared), and the
    start of each stream decodes. Frames and duration come from the sample tables, as the
    demuxer would report its packets; layouts where the demuxer would drop or move
    packets (edit lists other than a plain shift) raise mp4box.Unsupported.
    """
    size = layout.size
    # Video is not decoded while FFmpeg opens the file, only once below.
    options = [_UNDECODED if t.handler == b"vide" else {} for t in layout.tracks]
    with (
        src.open("rb") as file,
        av.open(
            _NamelessFile(file),
            metadata_errors="replace",
            options=_INDEX_ONLY,
            stream_options=options,
        ) as container,
    ):
        if container.format.name != "mov,mp4,m4a,3gp,3g2,mj2":
            raise mp4box.Unsupported(container.format.name)
        if len(container.streams) != len(layout.tracks):
            raise mp4box.Unsupported("tracks FFmpeg does not show as streams")
        video = next(
            (s for s in container.streams.video if not s.disposition & Disposition.attached_pic),
            None,
        )
        audio = next(iter(container.streams.audio), None)
        fmt, mime = _container_format(container.format.name, head, video is not None)
        if video is None or fmt != "MP4":
            raise mp4box.Unsupported("not an MP4 video")
        for stream in (video, audio):
            if stream is not None and stream.codec_context is None:
                raise MediaError(f"this {fmt} file uses a {stream.type} codec that cannot be read")
        track = layout.tracks[video.index]
        span = track.pts_range()
        if span is None or not track.timescale:
            raise mp4box.Unsupported("sample tables that do not add up")
        if track.edits and (
            len(track.edits) != 1
            or track.edits[0][1] != span[0]
            or track.edits[0][2] != 1
            or track.edits[0][0] * track.timescale
            < (span[1] - span[0]) * layout.movie_timescale - track.timescale
        ):
            raise mp4box.Unsupported("an edit list that drops or delays video")

        scans = [_StreamScan(video, _VIDEO_FRAMES_TO_DECODE)] if decode_video else []
        if audio is not None:
            scans.append(_StreamScan(audio, _AUDIO_FRAMES_TO_DECODE))
        by_index = {scan.stream.index: scan for scan in scans}

        def done(scan: _StreamScan) -> bool:
            return (
                scan.decoded >= scan.frames_to_decode or scan.fed >= _MAX_PACKETS_BEFORE_FIRST_FRAME
            )

        # Only the start of each stream is read (a stream left out is skipped, not read).
        for packet in container.demux([scan.stream for scan in scans]) if scans else ():
            if packet.size != 0 and not packet.is_discard:
                by_index[packet.stream.index].add(packet)
            if all(done(scan) for scan in scans):
                break
        for scan in scans:
            scan.finish()
            if scan.decoded == 0:
                raise MediaError(
                    f"this {fmt} file could not be decoded: it may be truncated or corrupt"
                )
        declared = _declared_seconds(container)
        spans = (layout.tracks[s.index].seconds() for s in (video, audio) if s is not None)
        present = max((seconds for seconds in spans if seconds is not None), default=0)
        if declared is not None:
            tolerance = max(
                _TRUNCATION_TOLERANCE_SECONDS, declared * _TRUNCATION_TOLERANCE_FRACTION
            )
            if present < declared - tolerance:
                raise MediaError(
                    f"this {fmt} file is incomplete: it should last {declared:.2f} s but "
                    f"holds only {present:.2f} s of media"
                )
        frames = sum(1 for n in track.sample_sizes if n)
        duration = float(Fraction(span[1] - span[0], track.timescale))
        rate = video.average_rate or video.guessed_rate
        fields: dict = {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "frames": frames,
            "duration": duration,
            "fps": float(rate) if rate else (frames / duration if duration else None),
            "video_codec": video.codec_context.codec.canonical_name,
        }
        if audio is not None:
            fields.update(
                has_audio=True,
                audio_codec=audio.codec_context.codec.canonical_name,
                audio_profile=audio.codec_context.profile,
            )
        info = MediaInfo(kind="video", format=fmt, mime=mime, size_bytes=size, **fields)
        return info, dict(container.metadata)


def _remux_with_tags(src: Path, tmp: Path, tags: dict[str, str]) -> MediaInfo:
    """Probe `src` and copy it to `tmp` with `tags`, in one read; the probe's MediaInfo.

    Copying packets does not notice a file cut short (it just has fewer of them), so the
    copy is only as good as the probe that checks the source whole as it goes: a damaged
    video raises MediaError and must not be stored as a good one.
    """
    options = {"movflags": _PROVENANCE_MOVFLAGS}
    with av.open(str(tmp), "w", format="mp4", options=options) as out:

        def copy(source):
            # Streams made from templates carry the source's codec parameters and are
            # never opened as encoders, so what is muxed is the source's packets, byte
            # for byte.
            streams = {}
            for template in source.streams:
                stream = out.add_stream_from_template(template)
                stream.metadata.update(template.metadata)  # language, handler name
                stream.disposition = template.disposition
                streams[template.index] = stream
            out.metadata.update(
                {k: v for k, v in source.metadata.items() if k not in _MUXER_TAGS} | tags
            )

            def copy_packet(packet) -> None:
                # The demuxer ends each stream with an empty packet that only flushes
                # decoders.
                if packet.dts is None:
                    return
                packet.stream = streams[packet.stream.index]
                out.mux(packet)

            return copy_packet

        info = _probe(src, _DEFAULT_MAX_IMAGE_PIXELS, copy=copy)
        if info.kind != "video":
            raise MediaError(f"expected a video but this is {_describe(info)}")
    return info


def read_provenance(path: StrPath) -> dict[str, str]:
    """The container metadata tags of the file at `path`, as FFmpeg reads them.

    These include the muxer's own ("major_brand", "encoder"...) beside any that
    `write_provenance` set. Text that is not valid UTF-8 is read with replacement characters.
    """
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            return dict(container.metadata)
    except FileNotFoundError:
        raise  # the caller's mistake, not a damaged file
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None
