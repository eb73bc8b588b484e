"""The rough cut's join: packets copied when the inputs match, one encode when they do not;
checked by decoding what was written."""

from fractions import Fraction

import av
import pytest

from generations import media
from generations.media import concat
from tests import mediafiles


def _decoded(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        rate = video.average_rate
        size = (video.codec_context.width, video.codec_context.height)
    return frames, rate, size


def test_matching_takes_are_joined_by_copying_their_packets(tmp_path):
    takes = [mediafiles.make_video(tmp_path, frames=n, name=f"take{n}") for n in (50, 30, 45)]
    seen = []
    info, copied = concat.concatenate(
        takes, tmp_path / "cut.mp4", tags={"title": "Spring ad"}, progress=seen.append
    )
    assert copied
    assert _decoded(tmp_path / "cut.mp4") == (125, Fraction(25), (320, 180))
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert info.has_audio
    assert media.read_provenance(tmp_path / "cut.mp4")["title"] == "Spring ad"
    assert seen == sorted(seen) and seen[-1] == 1.0
    # The first take's packets are in the cut unchanged.
    with av.open(str(takes[0])) as a, av.open(str(tmp_path / "cut.mp4")) as b:
        first = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size][:50]
        joined = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size][:50]
    assert first == joined


def test_different_sizes_and_rates_are_encoded_once_at_the_first_takes(tmp_path):
    first = mediafiles.make_video(tmp_path, frames=50, fps=25, name="a")
    faster = mediafiles.make_video(tmp_path, frames=100, fps=50, size=(640, 360), name="b")
    portrait = mediafiles.make_video(tmp_path, frames=25, size=(180, 320), audio=False, name="c")
    seen = []
    info, copied = concat.concatenate(
        [first, faster, portrait], tmp_path / "cut.mp4", tags={}, progress=seen.append
    )
    assert not copied
    # 2 s + 2 s + 1 s at 25 fps, all at 320x180 (the portrait take letterboxed inside it).
    assert _decoded(tmp_path / "cut.mp4") == (125, Fraction(25), (320, 180))
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert info.has_audio  # the take without sound is silence, not a gap
    assert seen[-1] == 1.0


def test_a_broken_take_is_refused_with_its_name(tmp_path):
    good = mediafiles.make_video(tmp_path, frames=25, name="good")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(media.MediaError, match="broken.mp4|truncated|corrupt"):
        concat.concatenate([good, broken], tmp_path / "cut.mp4", tags={})
    assert not (tmp_path / "cut.mp4").exists()
