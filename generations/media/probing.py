"""What a media file really is, told from its content, never its name: images by Pillow from
their signature, audio and video by FFmpeg probing the bytes."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import av
from av.stream import Disposition
from PIL import Image

from generations.ltx import rules

StrPath = str | os.PathLike


class MediaError(ValueError):
    """A file that cannot be used, saying what is wrong and what would work; `convertible`
    when `convert_audio_to_aac_m4a` would make it acceptable."""

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

# FFmpeg's one demuxer for MP4, MOV, M4A and 3GP (ISO base media files).
_ISO_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
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

# A file is truncated when its media ends this long, or this share, before its declared end
# (whichever is more); encoder padding and edit lists account for a frame or two.
_TRUNCATION_TOLERANCE_SECONDS = 0.5
_TRUNCATION_TOLERANCE_FRACTION = 0.05
_CUT_OFF = "It was probably cut off while uploading or copying; use the original file"
# Decoding a little of each stream proves its data sound and shows what signalling may hide
# (an AAC stream turns out to be HE-AAC once SBR data is met).
_VIDEO_FRAMES_TO_DECODE = 1
_AUDIO_FRAMES_TO_DECODE = 8
# Packets fed to a decoder before concluding it never decodes (threaded ones hold a few back).
_MAX_PACKETS_BEFORE_FIRST_FRAME = 64
_DEFAULT_MAX_IMAGE_PIXELS = 50_000_000


def probe(path: StrPath, *, max_image_pixels: int = _DEFAULT_MAX_IMAGE_PIXELS) -> MediaInfo:
    """Tell what `path` holds from its content; raise MediaError when it is not usable media.
    Images over `max_image_pixels` are refused before any pixel is decoded."""
    path = Path(path)
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
    return _probe_audio_video(path, size, head)


def open_image(path: Path) -> Image.Image:
    """Open an image by its signature only; Pillow reads the header, not the pixels."""
    return Image.open(path, formats=[f for f in _PILLOW_FORMATS if f in Image.OPEN])


def _probe_image(path: Path, size: int, max_image_pixels: int) -> MediaInfo | None:
    Image.init()
    try:
        image = open_image(path)
    except Image.DecompressionBombError:
        raise MediaError(_too_many_pixels(None, max_image_pixels)) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        return None  # not an image Pillow recognises: FFmpeg gets its turn
    with image:
        width, height = image.size
        if width * height > max_image_pixels:
            raise MediaError(_too_many_pixels((width, height), max_image_pixels))
        fmt = "JPEG" if image.format == "MPO" else image.format  # camera JPEGs with extras
        try:
            if fmt == "JPEG":
                # At 1/8 scale every byte is still read, so damage shows, in less memory.
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


def _box_cut_short(path: Path, size: int) -> str | None:
    """The type of a top-level box of an MP4, MOV or M4A file that runs past its end."""
    with path.open("rb") as file:
        pos = 0
        while pos + 8 <= size:
            file.seek(pos)
            header = file.read(16)
            box_size, box_type = int.from_bytes(header[:4], "big"), header[4:8]
            if not all(32 <= c < 127 for c in box_type):
                return None  # not a box: trailing bytes are FFmpeg's to judge
            if box_size == 1:  # a 64-bit size follows the type
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # the box runs to the end of the file
                return None
            if pos + box_size > size:
                return box_type.decode("ascii")
            if box_size < 8:
                return None
            pos += box_size
    return None


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


class NamelessFile:
    """A file object without a `name`, or FFmpeg would let the extension tip its guess."""

    def __init__(self, file: io.BufferedReader):
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _container_format(demuxer: str, head: bytes, has_video: bool) -> tuple[str, str]:
    if demuxer == _ISO_DEMUXER:
        # One demuxer for the family: the brand and the streams tell them apart (old
        # QuickTime files have no brand).
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


def _probe_audio_video(path: Path, size: int, head: bytes) -> MediaInfo:
    try:
        with path.open("rb") as file, av.open(NamelessFile(file)) as container:
            info = _read_container(container, size, head)
            iso = container.format.name == _ISO_DEMUXER
    except av.FFmpegError:
        raise MediaError(UNREADABLE) from None
    # FFmpeg says nothing of an MP4 cut short by too little to show in its duration; the
    # sizes of its boxes do show it.
    cut = _box_cut_short(path, size) if iso else None
    if cut is not None:
        part = {"mdat": "media data", "moov": "index"}.get(cut, f"'{cut}' box")
        raise MediaError(
            f"this {info.format} file is incomplete: it ends part of the way through its "
            f"{part}. {_CUT_OFF}"
        )
    return info


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


def _read_container(container, size: int, head: bytes) -> MediaInfo:
    demuxer = container.format.name
    if demuxer.endswith("_pipe") or demuxer == "ico":
        return _still_image(container, demuxer.removesuffix("_pipe").upper(), size)
    video = video_stream(container)
    audio = next(iter(container.streams.audio), None)
    if video is None and audio is None:
        raise MediaError(UNREADABLE)
    fmt, mime = _container_format(demuxer, head, video is not None)
    for stream in (video, audio):
        if stream is not None and stream.codec_context is None:
            # No decoder in this FFmpeg build, or a codec FFmpeg does not know at all.
            article = "an" if stream.type == "audio" else "a"
            raise MediaError(
                f"this {fmt} file uses {article} {stream.type} codec that cannot be read"
            )

    scans = {}
    if video is not None:
        scans[video.index] = _StreamScan(video, _VIDEO_FRAMES_TO_DECODE)
    if audio is not None:
        scans[audio.index] = _StreamScan(audio, _AUDIO_FRAMES_TO_DECODE)
    # The end of the media present, over every stream, shows a file cut short.
    media_end = None
    for packet in container.demux():
        # Empty packets end a stream; discarded ones (before an edit list's start) never show.
        if packet.size != 0 and not packet.is_discard:
            if packet.pts is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.stream.time_base)
                media_end = end if media_end is None else max(media_end, end)
            scan = scans.get(packet.stream.index)
            if scan is not None:
                scan.add(packet)
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
            # The container's duration applies edit lists, encoder delay and MP3 headers.
            declared = declared_seconds(container)
            fields["duration"] = declared if declared is not None else scans[audio.index].seconds()
    return MediaInfo(mime=mime, size_bytes=size, **fields)


def video_stream(container):
    """The container's video stream, not counting cover art."""
    streams = container.streams.video
    return next((s for s in streams if not s.disposition & Disposition.attached_pic), None)


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


# Opening a file, FFmpeg decodes video to learn what the index leaves out (the pixel format):
# as slow as what follows for lossless keyframes, and copying packets needs none of it.
_UNDECODED = {"skip_frame": "all"}
_MAX_STREAMS = 64


def open_undecoded(path: StrPath) -> av.container.InputContainer:
    """av.open for reading, without decoding any video to look at it."""
    try:
        return av.open(
            str(path), metadata_errors="replace", stream_options=[_UNDECODED] * _MAX_STREAMS
        )
    except ValueError:  # a format whose streams appear only as packets are read (MPEG-TS)
        return av.open(str(path), metadata_errors="replace")


def declared_seconds(container) -> float | None:
    if container.duration is None or container.duration <= 0:
        return None
    return container.duration / av.time_base


def _check_complete(container, fmt: str, media_end: float | None) -> None:
    declared = declared_seconds(container)
    if declared is None or media_end is None:
        return
    start = (container.start_time or 0) / av.time_base
    present = media_end - start
    tolerance = max(_TRUNCATION_TOLERANCE_SECONDS, declared * _TRUNCATION_TOLERANCE_FRACTION)
    if present < declared - tolerance:
        raise MediaError(
            f"this {fmt} file is incomplete: it should last {declared:.2f} s but holds only "
            f"{max(present, 0):.2f} s of media. {_CUT_OFF}"
        )
