"""generations.media: probing files by content and checking them against the API's rules."""

from __future__ import annotations

import random
from fractions import Fraction

import av
import pytest
from PIL import Image, ImageFile

from generations import media
from generations.media import MediaError, check_api_input, probe
from tests import mediafiles


def refusal(info: media.MediaInfo, kind: str) -> MediaError:
    with pytest.raises(MediaError) as caught:
        check_api_input(info, kind)
    return caught.value


# -- supported files are probed right --------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_supported_images(tmp_path, fmt, mime):
    path = mediafiles.make_image(tmp_path, fmt, size=(64, 48))
    info = probe(path)
    assert (info.kind, info.format, info.mime) == ("image", fmt, mime)
    assert (info.width, info.height) == (64, 48)
    assert info.size_bytes == path.stat().st_size
    check_api_input(info, "image")


def test_image_size_is_reported_as_displayed(tmp_path):
    # Orientation 6: stored landscape, shown portrait.
    info = probe(mediafiles.make_image(tmp_path, "JPEG", size=(64, 48), orientation=6))
    assert (info.width, info.height) == (48, 64)


@pytest.mark.parametrize(
    ("container", "codec", "fmt", "mime"),
    [
        ("mp4", "h264", "MP4", "video/mp4"),
        ("mp4", "hevc", "MP4", "video/mp4"),
        ("mov", "h264", "MOV", "video/quicktime"),
        ("mov", "hevc", "MOV", "video/quicktime"),
        ("mkv", "h264", "MKV", "video/x-matroska"),
        ("mkv", "hevc", "MKV", "video/x-matroska"),
    ],
)
def test_supported_videos(tmp_path, container, codec, fmt, mime):
    path = mediafiles.make_video(tmp_path, container, codec, size=(64, 36), fps=25, frames=13)
    info = probe(path)
    assert (info.kind, info.format, info.mime) == ("video", fmt, mime)
    assert (info.video_codec, info.width, info.height) == (codec, 64, 36)
    assert info.fps == 25.0
    assert info.frames == 13
    assert info.duration == pytest.approx(13 / 25)
    assert info.size_bytes == path.stat().st_size
    assert info.has_audio and (info.audio_codec, info.audio_profile) == ("aac", "LC")
    check_api_input(info, "video")


def test_mkv_frames_are_counted_since_the_container_does_not_say(tmp_path):
    path = mediafiles.make_video(tmp_path, "mkv", size=(64, 36), fps=50, frames=17, audio=False)
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 0
    info = probe(path)
    assert (info.frames, info.fps, info.has_audio) == (17, 50.0, False)
    assert info.duration == pytest.approx(17 / 50)


def test_fractional_frame_rate(tmp_path):
    ntsc = Fraction(30000, 1001)
    path = mediafiles.make_video(tmp_path, "mp4", size=(64, 36), fps=ntsc, frames=30, audio=False)
    info = probe(path)
    assert info.fps == pytest.approx(29.97, abs=0.001)
    assert info.frames == 30
    assert info.duration == pytest.approx(1.001)


@pytest.mark.parametrize(
    ("fmt", "format_", "mime", "codec", "profile"),
    [
        ("m4a", "M4A", "audio/mp4", "aac", "LC"),
        ("mp3", "MP3", "audio/mpeg", "mp3", None),
        ("wav-mp3", "WAV", "audio/wav", "mp3", None),
        ("ogg-opus", "OGG", "audio/ogg", "opus", None),
        ("ogg-vorbis", "OGG", "audio/ogg", "vorbis", None),
    ],
)
def test_supported_audio(tmp_path, fmt, format_, mime, codec, profile):
    path = mediafiles.make_audio(tmp_path, fmt, seconds=1.0)
    info = probe(path)
    assert (info.kind, info.format, info.mime) == ("audio", format_, mime)
    assert (info.audio_codec, info.audio_profile, info.has_audio) == (codec, profile, True)
    assert info.video_codec is None and info.frames is None
    # Encoders pad to whole frames; a frame is at most about 25 ms here.
    assert info.duration == pytest.approx(1.0, abs=0.03)
    assert info.size_bytes == path.stat().st_size
    check_api_input(info, "audio")


@pytest.mark.parametrize(("fmt", "format_"), [("mp3", "MP3"), ("m4a", "M4A")])
def test_cover_art_does_not_make_music_a_video(tmp_path, fmt, format_):
    info = probe(mediafiles.make_audio(tmp_path, fmt, seconds=0.5, cover_art=True))
    assert (info.kind, info.format, info.video_codec) == ("audio", format_, None)
    check_api_input(info, "audio")


# -- content, not names ----------------------------------------------------------------------


def test_a_png_named_mp4_is_a_png(tmp_path):
    info = probe(mediafiles.make_image(tmp_path, "PNG", name="clip.mp4"))
    assert (info.kind, info.format, info.mime) == ("image", "PNG", "image/png")


def test_an_mp4_named_mp3_is_an_mp4(tmp_path):
    path = mediafiles.make_video(tmp_path, size=(64, 36), frames=5, name="song.mp3")
    assert probe(path).format == "MP4"


def test_mp3_given_as_image_is_refused(tmp_path):
    info = probe(mediafiles.make_audio(tmp_path, "mp3", seconds=0.5, name="photo.png"))
    error = refusal(info, "image")
    assert error.message == ("expected an image (PNG, JPEG or WEBP) but this is an MP3 audio file")
    assert not error.convertible


# -- damaged files ---------------------------------------------------------------------------


def test_truncated_mp4_is_refused(tmp_path):
    # FFmpeg writes the index (moov) last, so a cut-off file has none.
    path = mediafiles.truncated_copy(mediafiles.make_video(tmp_path, size=(64, 36), frames=25))
    with pytest.raises(MediaError) as caught:
        probe(path)
    assert caught.value.message == media.UNREADABLE
    assert "truncated or corrupt" in caught.value.message


@pytest.mark.parametrize(
    "make",
    [
        lambda d: mediafiles.make_video(d, "mp4", size=(64, 36), frames=50, faststart=True),
        lambda d: mediafiles.make_video(d, "mkv", size=(64, 36), frames=50),
        lambda d: mediafiles.make_audio(d, "mp3", seconds=2.0),
    ],
    ids=["mp4-faststart", "mkv", "mp3"],
)
def test_file_cut_in_half_is_refused_though_its_header_survives(tmp_path, make):
    path = mediafiles.truncated_copy(make(tmp_path))
    with pytest.raises(MediaError, match="incomplete: it should last 2.0"):
        probe(path)


@pytest.mark.parametrize(
    ("faststart", "part"), [(True, "media data"), (False, "index")], ids=["faststart", "moov-last"]
)
def test_mp4_missing_only_its_last_bytes_is_refused(tmp_path, faststart, part):
    # Too little is missing to show in the duration, and FFmpeg reads the rest without a word.
    video = mediafiles.make_video(tmp_path, size=(64, 36), frames=50, faststart=faststart)
    with pytest.raises(MediaError, match=f"incomplete: it ends part of the way through its {part}"):
        probe(mediafiles.truncated_copy(video, keep=0.999))


def test_png_with_a_damaged_header_is_refused(tmp_path):
    path = mediafiles.make_image(tmp_path, "PNG")
    data = bytearray(path.read_bytes())
    data[29] ^= 0xFF  # inside the IHDR chunk's checksum
    path.write_bytes(data)
    # Pillow gives up on it; FFmpeg's PNG reader must not then pass it off as fine.
    with pytest.raises(MediaError, match="PNG image could not be read"):
        probe(path)


def test_truncated_image_is_refused(tmp_path):
    image = mediafiles.make_image(tmp_path, "JPEG", size=(120, 80), noise=True)
    with pytest.raises(MediaError, match="JPEG image could not be read"):
        probe(mediafiles.truncated_copy(image))


@pytest.mark.parametrize(
    "content",
    [random.Random(7).randbytes(4096), b"name,size\nclip.mp4,12\n" * 50],
    ids=["random-bytes", "text"],
)
def test_non_media_is_refused(tmp_path, content):
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError) as caught:
        probe(path)
    assert caught.value.message == media.UNREADABLE


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(MediaError, match="empty"):
        probe(path)


# -- decompression bombs ---------------------------------------------------------------------


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    def refuse(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_decompression_bomb_is_refused_without_decoding(tmp_path, no_pixel_decoding):
    bomb = mediafiles.make_png_bomb(tmp_path, (20000, 20000))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(MediaError, match="too many pixels"):
        probe(bomb)


def test_image_over_the_pixel_limit_is_refused_with_its_size(tmp_path, no_pixel_decoding):
    # Below Pillow's own guard, so it is our limit that refuses it.
    big = mediafiles.make_png_bomb(tmp_path, (10000, 6000))
    with pytest.raises(MediaError, match="is 10000x6000 pixels, more than the 50 megapixels"):
        probe(big)


def test_pixel_limit_can_be_lowered(tmp_path):
    path = mediafiles.make_image(tmp_path, "PNG", size=(64, 48))
    with pytest.raises(MediaError, match="64x48"):
        probe(path, max_image_pixels=1000)


# -- the API's rules -------------------------------------------------------------------------


def test_pcm_wav_is_refused_then_converted_and_accepted(tmp_path):
    wav = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=1.0, channels=2)
    info = probe(wav)
    assert (info.format, info.audio_codec) == ("WAV", "pcm_s16le")
    error = refusal(info, "audio")
    assert "PCM audio" in error.message and "not accept" in error.message
    assert "AAC-LC in an M4A file" in error.message
    assert error.convertible

    converted = media.convert_audio_to_aac_m4a(wav, tmp_path / "fixed.m4a")
    assert (converted.format, converted.mime) == ("M4A", "audio/mp4")
    assert (converted.audio_codec, converted.audio_profile) == ("aac", "LC")
    assert converted.duration == pytest.approx(1.0, abs=0.03)
    assert probe(tmp_path / "fixed.m4a") == converted
    check_api_input(converted, "audio")
    # Written through a temporary file that is gone now.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio-wav-pcm.wav", "fixed.m4a"]


@pytest.mark.parametrize("signalling", ["explicit", "implicit"])
def test_he_aac_is_refused_then_converted_and_accepted(tmp_path, signalling):
    he_aac = mediafiles.make_he_aac(tmp_path, seconds=0.5, signalling=signalling)
    info = probe(he_aac)
    assert (info.format, info.audio_codec, info.audio_profile) == ("M4A", "aac", "HE-AAC")
    error = refusal(info, "audio")
    assert "HE-AAC" in error.message and "AAC-LC" in error.message
    assert error.convertible

    converted = media.convert_audio_to_aac_m4a(he_aac, tmp_path / "fixed.m4a")
    assert converted.audio_profile == "LC"
    check_api_input(converted, "audio")


def test_conversion_replaces_an_existing_file(tmp_path):
    dest = tmp_path / "voice.m4a"
    dest.write_bytes(b"old")
    wav = mediafiles.make_audio(tmp_path, "wav-pcm", seconds=0.5)
    info = media.convert_audio_to_aac_m4a(wav, dest)
    assert dest.stat().st_size == info.size_bytes > 3


@pytest.mark.parametrize(("fmt", "format_"), [("flac", "FLAC"), ("aac", "AAC")])
def test_audio_in_other_formats_is_refused_as_convertible(tmp_path, fmt, format_):
    info = probe(mediafiles.make_audio(tmp_path, fmt, seconds=0.5))
    assert (info.kind, info.format) == ("audio", format_)
    error = refusal(info, "audio")
    assert format_ in error.message and "WAV, MP3, M4A or OGG" in error.message
    assert error.convertible


@pytest.mark.parametrize(
    ("container", "codec", "named"),
    [
        ("webm", "vp9", "WEBM"),
        ("avi", "h264", "AVI"),
        ("mp4", "mpeg4", "MPEG-4 Part 2"),
        ("mkv", "vp9", "VP9"),
    ],
)
def test_unsupported_videos_are_refused(tmp_path, container, codec, named):
    info = probe(mediafiles.make_video(tmp_path, container, codec, size=(64, 36), frames=5))
    assert info.kind == "video"
    error = refusal(info, "video")
    assert named in error.message and "H.264" in error.message
    assert not error.convertible


def test_gif_is_refused_as_image(tmp_path):
    info = probe(mediafiles.make_image(tmp_path, "GIF"))
    assert (info.kind, info.format, info.mime) == ("image", "GIF", "image/gif")
    error = refusal(info, "image")
    assert "GIF" in error.message and "PNG, JPEG or WEBP" in error.message


def test_heic_photo_is_recognised_and_refused(tmp_path):
    # The start of an iPhone photo: an ISO base media file with a HEIF brand.
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    info = probe(path)
    assert (info.kind, info.format) == ("image", "HEIC")
    assert "a HEIC image" in refusal(info, "image").message


def test_svg_is_recognised_and_refused(tmp_path):
    path = tmp_path / "logo.png"
    path.write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
        '<rect width="8" height="8"/></svg>\n'
    )
    info = probe(path)
    assert (info.kind, info.format, info.mime) == ("image", "SVG", "image/svg+xml")
    assert refusal(info, "image").message.startswith("this is an SVG image")


def test_video_given_as_audio_is_refused(tmp_path):
    info = probe(mediafiles.make_video(tmp_path, size=(64, 36), frames=5))
    error = refusal(info, "audio")
    assert error.message == (
        "expected an audio file (WAV, MP3, M4A or OGG) but this is an MP4 video"
    )
    assert not error.convertible


def test_audio_given_as_video_is_refused(tmp_path):
    info = probe(mediafiles.make_audio(tmp_path, "m4a", seconds=0.5))
    assert refusal(info, "video").message.startswith("expected a video (MP4, MOV or MKV")


def test_unknown_role_is_a_programming_error(tmp_path):
    info = probe(mediafiles.make_image(tmp_path))
    with pytest.raises(ValueError, match="kind must be"):
        check_api_input(info, "subtitles")


# -- shrinking images ------------------------------------------------------------------------


def test_shrink_image_fits_under_the_limit(tmp_path):
    big = mediafiles.make_image(tmp_path, "PNG", size=(400, 300), noise=True)
    assert big.stat().st_size > 300_000
    info = media.shrink_image(big, tmp_path / "small.jpg", max_bytes=40_000)
    assert (info.kind, info.format, info.mime) == ("image", "JPEG", "image/jpeg")
    assert info.size_bytes <= 40_000
    assert info.size_bytes == (tmp_path / "small.jpg").stat().st_size
    assert info.width / info.height == pytest.approx(400 / 300, abs=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == [big.name, "small.jpg"]


def test_shrink_image_turns_the_picture_upright(tmp_path):
    # Stored landscape with red on the left; orientation 6 shows it portrait, red on top.
    image = Image.new("RGB", (60, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    src = tmp_path / "phone.jpg"
    image.save(src, "JPEG", exif=exif.tobytes())

    info = media.shrink_image(src, tmp_path / "upright.jpg", max_bytes=50_000)
    assert (info.width, info.height) == (40, 60)
    with Image.open(tmp_path / "upright.jpg") as upright:
        assert upright.getexif().get(0x0112) is None
        red, _, blue = upright.getpixel((20, 5))
        assert red > 200 and blue < 60
        red, _, blue = upright.getpixel((20, 55))
        assert red < 60 and blue > 200


def test_shrink_image_gives_up_on_an_impossible_limit(tmp_path):
    src = mediafiles.make_image(tmp_path, "PNG", size=(64, 48), noise=True)
    with pytest.raises(MediaError, match="cannot be made smaller"):
        media.shrink_image(src, tmp_path / "tiny.jpg", max_bytes=100)
    assert not (tmp_path / "tiny.jpg").exists()
