"""Whether the LTX-2 API would accept a probed file (by the rules in `ltx.rules`), and if
not, a sentence saying why."""

from __future__ import annotations

from generations.ltx import rules
from generations.media.probing import MediaError, MediaInfo

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


def describe(info: MediaInfo) -> str:
    """'an MP3 audio file', 'a GIF image', 'an MP4 video'."""
    fmt = info.format
    article = "an" if fmt[:1] in _AN_LETTERS and fmt not in _SAID_AS_WORDS else "a"
    return f"{article} {fmt} {_NOUNS[info.kind]}"


def check_api_input(info: MediaInfo, kind: str) -> None:
    """Raise MediaError if the API would refuse this file as its `kind` ("image", "video" or
    "audio") input; sizes and the retake limits are `rules`' to check."""
    if kind not in rules.MIME_TYPES:
        raise ValueError(f"kind must be one of {', '.join(rules.MIME_TYPES)}, not {kind!r}")
    if info.kind != kind:
        raise MediaError(f"expected {_EXPECTED[kind]} but this is {describe(info)}")
    accepted = _api_formats(kind)
    if info.format not in accepted:
        message = (
            f"this is {describe(info)}; the API accepts {kind} files only as {_join(accepted)}"
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
