"""generations.media: poster frames, and provenance tags written into MP4s without re-encoding."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from generations.media import (
    MediaError,
    poster_frame,
    probe,
    read_provenance,
    sprite_strip,
    write_provenance,
)
from tests import mediafiles

# make_video shades frame i of n as (255 * i // (n - 1), 255 - that, 128). JPEG and the
# round trip through YUV move colours a little; neighbouring frames of a 50-frame video
# differ by about 5.
COLOUR_TOLERANCE = 12

PROVENANCE = {
    "title": "Renard dans la neige ❄",
    "comment": "made with ltxweb",
    "description": "Zweiter Versuch — mit Ton",
    "ltx_request_id": "req_01JABCDEF",
    "ltx_model": "ltx-2-pro",
    # A long prompt in several scripts, with emoji, quotes and line breaks.
    "ltx_prompt": ('A fox 🦊 walks through snow, «lente», 夜の森; "quiet"\n' * 40)[:2000],
    "ltxweb_project": "Hiver / 冬 #3",
}


def shade_at(seconds: float, *, fps: int, frames: int) -> int:
    index = round(seconds * fps)
    return (index * 255) // (frames - 1)


def centre_pixel(path: Path) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def packets(path: Path) -> list[tuple]:
    """Every packet of every stream: where it sits in time and a hash of its bytes."""
    with av.open(str(path)) as container:
        return [
            (
                packet.stream.index,
                packet.stream.type,
                packet.pts,
                packet.dts,
                packet.duration,
                packet.is_keyframe,
                hashlib.sha256(bytes(packet)).hexdigest(),
            )
            for packet in container.demux()
            if packet.dts is not None
        ]


def streams(path: Path) -> list[tuple]:
    with av.open(str(path)) as container:
        return [
            (s.type, s.codec_context.name, s.time_base, s.start_time, s.duration, s.frames)
            for s in container.streams
        ]


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# -- poster frames ---------------------------------------------------------------------------


def test_poster_keeps_a_small_video_at_its_size(tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=50)
    poster = tmp_path / "poster.jpg"
    assert poster_frame(video, poster) == (320, 180)
    with Image.open(poster) as image:
        assert (image.format, image.size) == ("JPEG", (320, 180))


def test_poster_of_a_large_video_is_scaled_to_max_width(tmp_path):
    video = mediafiles.make_video(tmp_path, size=(1920, 1080), frames=5, audio=False)
    poster = tmp_path / "poster.jpg"
    assert poster_frame(video, poster) == (640, 360)
    assert poster_frame(video, poster, max_width=200) == (200, 112)
    with Image.open(poster) as image:
        assert (image.format, image.size) == ("JPEG", (200, 112))


def test_poster_of_an_anamorphic_video_has_its_displayed_proportions(tmp_path):
    # 320x180 pixels shown 4:3 wide each, as anamorphic footage is: 427x180 on screen.
    video = tmp_path / "anamorphic.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(4, 3)
        for index in range(30):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 180), (200, 30, 30)))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    poster = tmp_path / "poster.jpg"
    assert poster_frame(video, poster) == (427, 180)
    assert poster_frame(video, poster, max_width=200) == (200, 84)
    with Image.open(poster) as image:
        assert image.size == (200, 84)
    red, green, _ = centre_pixel(poster)
    assert red == pytest.approx(200, abs=COLOUR_TOLERANCE)
    assert green == pytest.approx(30, abs=COLOUR_TOLERANCE)


@pytest.mark.parametrize("seconds", [0.0, 0.2, 1.0, 1.8])
def test_poster_shows_the_frame_at_the_requested_time(tmp_path, seconds):
    video = mediafiles.make_video(tmp_path, fps=25, frames=50)
    poster = tmp_path / "poster.jpg"
    poster_frame(video, poster, at_seconds=seconds)
    red, green, _ = centre_pixel(poster)
    shade = shade_at(seconds, fps=25, frames=50)
    assert red == pytest.approx(shade, abs=COLOUR_TOLERANCE)
    assert green == pytest.approx(255 - shade, abs=COLOUR_TOLERANCE)


# -- sprite strips (the gallery's hover preview) -------------------------------------------


def decoded_size(path: Path) -> tuple[int, int]:
    """The picture's size as FFmpeg decodes it, not as its header says."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def test_sprite_strip_has_ten_frames_spread_over_the_video(tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=50)
    sprite = tmp_path / "sprite.jpg"
    assert sprite_strip(video, sprite) == (320, 180, 10)
    assert decoded_size(sprite) == (3200, 180)
    with Image.open(sprite) as image:
        strip = image.convert("RGB")
    for index in range(10):
        red, green, _ = strip.getpixel((index * 320 + 160, 90))
        shade = shade_at(2.0 * (index + 0.5) / 10, fps=25, frames=50)
        assert red == pytest.approx(shade, abs=COLOUR_TOLERANCE), index
        assert green == pytest.approx(255 - shade, abs=COLOUR_TOLERANCE), index


def test_sprite_of_a_portrait_video_keeps_it_upright(tmp_path):
    video = mediafiles.make_video(tmp_path, size=(1080, 1920), fps=25, frames=10, audio=False)
    sprite = tmp_path / "sprite.jpg"
    assert sprite_strip(video, sprite, frames=4) == (180, 320, 4)
    assert decoded_size(sprite) == (720, 320)


def test_sprite_of_a_video_shorter_than_its_frames_repeats_frames(tmp_path):
    video = mediafiles.make_video(tmp_path, size=(160, 90), fps=25, frames=3, audio=False)
    sprite = tmp_path / "sprite.jpg"
    assert sprite_strip(video, sprite) == (160, 90, 10)
    assert decoded_size(sprite) == (1600, 90)


def test_sprite_of_a_file_that_is_not_a_video_is_refused(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        sprite_strip(broken, tmp_path / "sprite.jpg")
    assert not (tmp_path / "sprite.jpg").exists()


def keyframe_every_second(tmp_path) -> Path:
    """Ten seconds at 25 fps with a keyframe every second, each frame its own red."""
    video = tmp_path / "long.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.gop_size = 25
        stream.options = {"x264-params": "scenecut=0"}  # each frame's new colour is no cut
        for index in range(250):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 180), (index, 0, 128)))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return video


def count_packets_read(monkeypatch) -> list:
    """The packets that containers opened from now on hand out, to decode or to copy."""
    read = []

    class CountingContainer:
        def __init__(self, container):
            self.container = container

        def __getattr__(self, name):
            return getattr(self.container, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.container.close()

        def demux(self, *args, **kwargs):
            for packet in self.container.demux(*args, **kwargs):
                if packet.size:
                    read.append(packet)
                yield packet

        def decode(self, *args, **kwargs):
            for packet in self.demux(*args, **kwargs):
                yield from packet.decode()

    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **kw: CountingContainer(real_open(*a, **kw)))
    return read


def test_poster_decodes_only_from_the_keyframe_before_the_time(tmp_path, monkeypatch):
    video = keyframe_every_second(tmp_path)
    read = count_packets_read(monkeypatch)
    poster = tmp_path / "poster.jpg"
    poster_frame(video, poster, at_seconds=7.3)

    assert read[0].is_keyframe
    assert len(read) <= 25
    red, _, _ = centre_pixel(poster)
    assert red == pytest.approx(round(7.3 * 25), abs=COLOUR_TOLERANCE)


def test_poster_of_footage_too_heavy_to_decode_far_is_near_the_keyframe(tmp_path, monkeypatch):
    # As if each frame were lossless 1080p (5 MB): past the budget, the frames decoded so
    # far give the poster, at worst the keyframe before the wanted time.
    video = keyframe_every_second(tmp_path)
    monkeypatch.setattr("generations.media.video._POSTER_DECODE_BUDGET_BYTES", 1)
    read = count_packets_read(monkeypatch)
    poster = tmp_path / "poster.jpg"
    poster_frame(video, poster, at_seconds=7.9)

    # The keyframe, and what the decoder needs before it gives its first frame back: not
    # the 20 frames up to 7.9 s (whose red, 197, is far from the keyframe's).
    assert read[0].is_keyframe
    assert len(read) <= 5
    red, _, _ = centre_pixel(poster)
    assert red == pytest.approx(7 * 25, abs=COLOUR_TOLERANCE)


def test_poster_of_a_video_shorter_than_the_time_is_its_middle_frame(tmp_path):
    video = mediafiles.make_video(tmp_path, fps=25, frames=10)  # 0.4 s
    poster = tmp_path / "poster.jpg"
    poster_frame(video, poster, at_seconds=1.0)
    red, _, _ = centre_pixel(poster)
    assert red == pytest.approx(shade_at(0.2, fps=25, frames=10), abs=COLOUR_TOLERANCE)


def test_poster_replaces_an_existing_file(tmp_path):
    video = mediafiles.make_video(tmp_path, frames=50)
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(b"old poster")
    poster_frame(video, poster)
    with Image.open(poster) as image:
        assert image.format == "JPEG"
    assert leftovers(tmp_path) == []


def test_poster_of_a_damaged_file_leaves_nothing_behind(tmp_path):
    video = mediafiles.make_video(tmp_path, frames=50)
    damaged = mediafiles.truncated_copy(video, keep=0.3)  # its index was at the end
    poster = tmp_path / "poster.jpg"
    with pytest.raises(MediaError):
        poster_frame(damaged, poster)
    assert not poster.exists()
    assert leftovers(tmp_path) == []


def test_poster_of_an_audio_file_is_refused(tmp_path):
    audio = mediafiles.make_audio(tmp_path, "m4a")
    with pytest.raises(MediaError, match="no video"):
        poster_frame(audio, tmp_path / "poster.jpg")
    assert not (tmp_path / "poster.jpg").exists()


# -- provenance ------------------------------------------------------------------------------


@pytest.fixture
def video(tmp_path) -> Path:
    # Without faststart, as an encoder writing straight to disk leaves it.
    return mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=50, audio=True)


def test_provenance_round_trip(tmp_path, video):
    tagged = tmp_path / "tagged.mp4"
    write_provenance(video, tagged, PROVENANCE)
    tags = read_provenance(tagged)
    assert {key: tags.get(key) for key in PROVENANCE} == PROVENANCE
    assert len(tags["ltx_prompt"]) == 2000


def test_provenance_copies_packets_without_re_encoding(tmp_path, video):
    tagged = tmp_path / "tagged.mp4"
    write_provenance(video, tagged, PROVENANCE)

    assert streams(tagged) == streams(video)
    assert [s[:2] for s in streams(tagged)] == [("video", "h264"), ("audio", "aac")]
    # Same packets in the same order, with the same timestamps and the same bytes: an
    # encoder, even a lossless one, would not give back identical bitstreams.
    original = packets(video)
    assert packets(tagged) == original
    assert {p[1] for p in original} == {"video", "audio"}

    before, after = probe(video), probe(tagged)
    assert (after.frames, after.duration, after.fps) == (before.frames, before.duration, 25.0)
    assert after.frames == 50
    assert (after.audio_codec, after.audio_profile) == ("aac", "LC")


def test_provenance_returns_the_probe_of_the_source(tmp_path, video):
    # Read as it is copied, so that a large video is read once, not twice.
    assert write_provenance(video, tmp_path / "tagged.mp4", PROVENANCE) == probe(video)


@pytest.mark.parametrize("kind", ["audio", "image"])
def test_provenance_refuses_what_is_not_a_video(tmp_path, kind):
    if kind == "audio":
        src = mediafiles.make_audio(tmp_path, "m4a")
    else:
        src = mediafiles.make_image(tmp_path, "PNG")
    dest = tmp_path / "tagged.mp4"
    with pytest.raises(MediaError, match="expected a video"):
        write_provenance(src, dest, PROVENANCE)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_provenance_output_is_faststart(tmp_path, video):
    assert mediafiles.top_level_boxes(video).index("moov") > mediafiles.top_level_boxes(
        video
    ).index("mdat")
    tagged = tmp_path / "tagged.mp4"
    write_provenance(video, tagged, PROVENANCE)
    boxes = mediafiles.top_level_boxes(tagged)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_provenance_keeps_existing_tags_and_can_tag_in_place(tmp_path, video):
    write_provenance(video, video, {"title": "first", "ltx_model": "ltx-2-fast"})
    write_provenance(video, video, {"title": "second", "ltxweb_project": "p1"})
    tags = read_provenance(video)
    assert (tags["title"], tags["ltx_model"], tags["ltxweb_project"]) == (
        "second",
        "ltx-2-fast",
        "p1",
    )
    assert probe(video).frames == 50
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "tags",
    [{"ltx_prompt": "before\0after"}, {"": "no key"}, {"encoder": "ours"}],
    ids=["nul", "empty-key", "muxer-key"],
)
def test_provenance_refuses_tags_that_cannot_be_stored(tmp_path, video, tags):
    with pytest.raises(ValueError):
        write_provenance(video, tmp_path / "tagged.mp4", tags)
    assert not (tmp_path / "tagged.mp4").exists()


def test_provenance_of_a_damaged_file_leaves_dest_alone(tmp_path):
    video = mediafiles.make_video(tmp_path, frames=50, faststart=True)
    # With the index first, the cut file still opens; only its media is missing.
    damaged = mediafiles.truncated_copy(video, keep=0.6)
    dest = tmp_path / "tagged.mp4"
    with pytest.raises(MediaError):
        write_provenance(damaged, dest, PROVENANCE)
    assert not dest.exists()

    dest.write_bytes(b"previous version")
    with pytest.raises(MediaError):
        write_provenance(damaged, dest, PROVENANCE)
    assert dest.read_bytes() == b"previous version"
    assert leftovers(tmp_path) == []


def test_provenance_failure_while_writing_removes_the_temporary_file(tmp_path, video, monkeypatch):
    real_open = av.open

    class FullDisk:
        """An output container whose disk fills up after the first packet."""

        def __init__(self, container):
            self.container = container

        def __getattr__(self, name):
            return getattr(self.container, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.container.close()

        def mux(self, packet):
            self.container.mux(packet)
            raise OSError("No space left on device")

    def open_filling_up(file, mode="r", **kwargs):
        container = real_open(file, mode, **kwargs)
        return FullDisk(container) if mode == "w" else container

    monkeypatch.setattr(av, "open", open_filling_up)
    dest = tmp_path / "tagged.mp4"
    with pytest.raises(OSError, match="No space"):
        write_provenance(video, dest, PROVENANCE)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_read_provenance_of_a_file_that_is_not_media(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"not a video at all" * 10)
    with pytest.raises(MediaError):
        read_provenance(path)


# -- what every delivery gets ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "options"),
    [
        ("mp4", {"audio": True}),
        ("mp4", {"audio": False, "fps": 24, "frames": 37}),
        ("mp4", {"audio": True, "faststart": True}),
        ("mp4", {"audio": True, "codec": "hevc", "frames": 30}),
        ("mov", {"audio": True}),
    ],
    ids=["moov-last", "no-audio", "faststart", "hevc", "quicktime"],
)
def test_a_tagged_video_has_the_same_packets_index_first(tmp_path, container, options):
    video = mediafiles.make_video(tmp_path, container, size=(320, 180), **options)
    tags = PROVENANCE | {"ltx_request_id": ""}
    tagged = tmp_path / "tagged.mp4"

    assert write_provenance(video, tagged, tags) == probe(video)

    assert packets(tagged) == packets(video)
    assert probe(tagged).frames == probe(video).frames
    found = read_provenance(tagged)
    assert {key: found.get(key) for key in tags} == tags
    boxes = mediafiles.top_level_boxes(tagged)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")
    # Tagged again (in place), the new tags replace the old ones.
    write_provenance(tagged, tagged, {"title": "again"})
    assert read_provenance(tagged) == found | {"title": "again"}
    assert packets(tagged) == packets(video)


@pytest.mark.parametrize("faststart", [False, True], ids=["moov-last", "faststart"])
@pytest.mark.parametrize("keep", [0.2, 0.6, 0.97, 0.999])
def test_a_video_cut_short_is_refused(tmp_path, faststart, keep):
    video = mediafiles.make_video(tmp_path, frames=50, faststart=faststart)
    damaged = mediafiles.truncated_copy(video, keep=keep)
    dest = tmp_path / "tagged.mp4"
    # With the index last, what is left of it may not even be readable.
    with pytest.raises(MediaError, match="incomplete" if faststart else None):
        write_provenance(damaged, dest, PROVENANCE)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_an_index_pointing_past_the_media_is_refused(tmp_path):
    # Whole boxes, but the last chunk offset points beyond the media data.
    video = mediafiles.make_video(tmp_path, frames=50, audio=False)
    data = bytearray(video.read_bytes())
    stco = data.rindex(b"stco")  # in the index, which comes last
    count = int.from_bytes(data[stco + 8 : stco + 12], "big")
    last = stco + 12 + 4 * (count - 1)
    data[last : last + 4] = (len(data) - 10).to_bytes(4, "big")
    video.write_bytes(bytes(data))
    with pytest.raises(MediaError):
        write_provenance(video, tmp_path / "tagged.mp4", PROVENANCE)
    assert not (tmp_path / "tagged.mp4").exists()


def test_provenance_refuses_a_video_that_does_not_decode(tmp_path):
    video = mediafiles.make_video(tmp_path, frames=50, audio=False, faststart=True)
    data = bytearray(video.read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)  # the boxes are whole, the pictures are not
    video.write_bytes(bytes(data))
    tagged = tmp_path / "tagged.mp4"
    with pytest.raises(MediaError, match="could not be decoded"):
        write_provenance(video, tagged, PROVENANCE)
    assert not tagged.exists()
    assert leftovers(tmp_path) == []
