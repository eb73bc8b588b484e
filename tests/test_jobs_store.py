"""jobs.store.generation_store: a delivered video checked, tagged, given a poster, stored."""

import hashlib
import shutil
import stat

import pytest
from django.core.files.storage import filesystem
from PIL import Image

from generations import media
from generations.jobs import store as job_store
from generations.jobs.models import Endpoint, Generation, JobState
from tests import mediafiles

T2V = {
    "prompt": "A lighthouse at dusk, waves rolling in",
    "model": "ltx-2-fast",
    "duration": 2,
    "resolution": "1920x1080",
    "fps": 25,
}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root},
        },
    }
    return root


def delivered(project, editor, settings, video) -> Generation:
    """A generation whose video has arrived, as the worker leaves it before storing."""
    generation = Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint=Endpoint.TEXT_TO_VIDEO,
        params=T2V,
        state=JobState.STORING,
        estimated_cost="0.08",
    )
    incoming = settings.VAR_DIR / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, incoming / f"{generation.uuid}.mp4")
    return generation


def test_store_keeps_the_tagged_video_its_facts_and_a_poster(
    project, editor, settings, media_root, tmp_path, monkeypatch
):
    video = mediafiles.make_video(tmp_path, size=(320, 180), fps=25, frames=50, audio=True)
    generation = delivered(project, editor, settings, video)
    moved = []
    real_move = filesystem.file_move_safe

    def move(old, new, **kwargs):
        moved.append(new)
        return real_move(old, new, **kwargs)

    monkeypatch.setattr(filesystem, "file_move_safe", move)

    job_store.generation_store(generation_id=generation.pk)

    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    # Compared with the request (noted, not refused: the video was paid for).
    assert generation.error_message == "resolution 320x180, asked 1920x1080"
    stored = media_root / generation.video.name
    assert media.read_provenance(stored)["ltxweb_generation"] == str(generation.uuid)
    assert media.probe(stored).frames == 50
    # The index comes first (faststart), so a browser can start playing at once.
    boxes = mediafiles.top_level_boxes(stored)
    assert boxes.index("moov") < boxes.index("mdat")
    # The facts are the delivered video's.
    assert generation.video_info == {
        "width": 320,
        "height": 180,
        "fps": 25.0,
        "frames": 50,
        "duration": 2.0,
        "has_audio": True,
        "size_bytes": stored.stat().st_size,
    }
    # The checksum and size are the stored file's: what a download (or the deliverables'
    # manifest beside it) can be checked against, not the delivery's before tagging.
    assert generation.video_sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert stored.stat().st_size > video.stat().st_size
    # Moved into place rather than copied, with the storage's usual permissions.
    assert sorted(moved) == sorted([str(stored), str(media_root / generation.poster.name)])
    assert stat.S_IMODE(stored.stat().st_mode) == settings.FILE_UPLOAD_PERMISSIONS
    with Image.open(media_root / generation.poster.name) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 180))
    # Nothing is left in incoming/: neither the delivery nor the work files.
    assert list((settings.VAR_DIR / "incoming").iterdir()) == []


def test_a_delivery_cut_short_fails_as_bad_video_and_stores_nothing(
    project, editor, settings, media_root, tmp_path
):
    video = mediafiles.make_video(tmp_path, frames=50, faststart=True)
    # With the index first, the cut file still opens and copies; only its media is missing.
    generation = delivered(project, editor, settings, mediafiles.truncated_copy(video, keep=0.6))

    job_store.generation_store(generation_id=generation.pk)

    generation.refresh_from_db()
    assert generation.state == JobState.FAILED
    assert generation.error_type == "bad_video"
    assert "incomplete" in generation.error_message
    assert not generation.video
    assert not media_root.exists() or list(media_root.rglob("*.*")) == []
    # The delivery is kept for a look; the work files are gone.
    assert [p.name for p in (settings.VAR_DIR / "incoming").iterdir()] == [f"{generation.uuid}.mp4"]


def test_a_delivery_whose_pictures_do_not_decode_fails_and_stores_nothing(
    project, editor, settings, media_root, tmp_path
):
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25, faststart=True)
    data = bytearray(video.read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)  # the boxes are whole, the pictures are not
    video.write_bytes(bytes(data))
    generation = delivered(project, editor, settings, video)

    job_store.generation_store(generation_id=generation.pk)

    generation.refresh_from_db()
    assert (generation.state, generation.error_type) == (JobState.FAILED, "bad_video")
    assert "could not be decoded" in generation.error_message
    assert not generation.video and not generation.poster
    assert not media_root.exists() or list(media_root.rglob("*.*")) == []


def test_refresh_video_checksums_gives_older_videos_their_stored_files(
    project, editor, settings, media_root, tmp_path
):
    """Videos stored when the checksum was the delivery's get their stored file's; a video
    whose file is gone is reported, not fatal; a second run changes nothing."""
    import io

    from django.core.management import call_command

    video = mediafiles.make_video(tmp_path, frames=25)
    older = delivered(project, editor, settings, video)
    job_store.generation_store(generation_id=older.pk)
    older.refresh_from_db()
    stored = media_root / older.video.name
    right = (older.video_sha256, older.video_info["size_bytes"])
    Generation.objects.filter(pk=older.pk).update(
        video_sha256=hashlib.sha256(video.read_bytes()).hexdigest(),
        video_info={**older.video_info, "size_bytes": video.stat().st_size},
    )
    lost = delivered(project, editor, settings, video)
    job_store.generation_store(generation_id=lost.pk)
    lost.refresh_from_db()
    (media_root / lost.video.name).unlink()
    out, err = io.StringIO(), io.StringIO()

    call_command("refresh_video_checksums", stdout=out, stderr=err)

    older.refresh_from_db()
    assert (older.video_sha256, older.video_info["size_bytes"]) == right
    assert right == (hashlib.sha256(stored.read_bytes()).hexdigest(), stored.stat().st_size)
    assert "1 video given" in out.getvalue() and "1 video missing" in err.getvalue()
    assert job_store.video_checksums_refresh() == (0, 1)
