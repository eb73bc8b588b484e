"""jobs.store.generation_store: a delivered video checked, tagged, given a poster and a sprite
strip, stored."""

import datetime as dt
import hashlib
import stat
from pathlib import Path

import av
import pytest
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage, filesystem
from django.utils import timezone
from PIL import Image

from generations import media
from generations.jobs import queue as job_queue
from generations.jobs import store as job_store
from generations.jobs import sweep as job_sweep
from generations.jobs.models import Endpoint, Generation, JobState
from generations.ltx import errors
from generations.ltx.client import LTXClient
from generations.ltx.schemas import TextToVideo
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
    """A generation whose video has arrived, as the worker leaves it before storing: in the
    shared storage under its staging key."""
    generation = Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint=Endpoint.TEXT_TO_VIDEO,
        params=T2V,
        state=JobState.STORING,
        estimated_cost="0.08",
    )
    with open(video, "rb") as delivery:
        default_storage.save(job_store.staging_key(generation), File(delivery))
    return generation


def files_under(root, folder) -> list[str]:
    found = root / folder
    return sorted(p.name for p in found.rglob("*") if p.is_file()) if found.exists() else []


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
    assert sorted(moved) == sorted(
        str(media_root / name)
        for name in (generation.video.name, generation.poster.name, generation.sprite.name)
    )
    assert stat.S_IMODE(stored.stat().st_mode) == settings.FILE_UPLOAD_PERMISSIONS
    with Image.open(media_root / generation.poster.name) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 180))
    # The card's hover preview: ten frames of the video side by side, decoded by FFmpeg.
    assert generation.sprite.name == f"projects/{project.uuid}/sprites/{generation.uuid}.jpg"
    with av.open(str(media_root / generation.sprite.name)) as sprite:
        frame = next(sprite.decode(video=0))
        assert (frame.width, frame.height) == (10 * 320, 180)
    # Nothing is left: neither the staged delivery nor the work files.
    assert files_under(media_root, "staging") == []
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
    # The delivery is kept for a look (it was paid for); nothing else is stored.
    assert [p.relative_to(media_root) for p in media_root.rglob("*.*")] == [
        Path(job_store.staging_key(generation))
    ]
    assert list((settings.VAR_DIR / "incoming").iterdir()) == []


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
    assert files_under(media_root, "projects") == []


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


# -- the store chain: one per job, backing off, restarted only when dead -------------------


@pytest.fixture
def store_messages(monkeypatch):
    """The store messages sent, as (generation id, due); none reaches a broker."""
    sent = []
    monkeypatch.setattr(
        job_queue, "store_send", lambda pk, due, countdown=0.0: sent.append((pk, due))
    )
    return sent


def make_due(generation) -> str:
    """The job's next try, moved to a moment ago (rather than waiting for it): its stamp."""
    stamp = timezone.now() - dt.timedelta(seconds=1)
    Generation.objects.filter(pk=generation.pk).update(store_next_at=stamp)
    return stamp.isoformat()


def test_a_store_run_again_replaces_its_objects_rather_than_adding_more(
    project, editor, settings, media_root, tmp_path, monkeypatch, store_messages
):
    """The video saved, then the poster's save failed: the next try saves both again, under
    the same keys, and leaves one of each."""
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    generation = delivered(project, editor, settings, video)
    real_save, failed = FileSystemStorage.save, []

    def save(storage, name, content, max_length=None):
        if "/posters/" in name and not failed:
            failed.append(name)
            raise OSError("the disk is full")
        return real_save(storage, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", save)
    job_store.generation_store(generation_id=generation.pk)
    generation.refresh_from_db()
    assert (generation.state, generation.store_failures) == (JobState.STORING, 1)
    assert files_under(media_root, "projects") == [f"{generation.uuid}.mp4"]
    assert [pk for pk, _ in store_messages] == [generation.pk]
    assert store_messages[0][1] == generation.store_next_at

    job_store.generation_store(generation_id=generation.pk, due=make_due(generation))

    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert files_under(media_root, "projects") == [
        f"{generation.uuid}.jpg",
        f"{generation.uuid}.jpg",
        f"{generation.uuid}.mp4",
    ]
    assert generation.video.name == f"projects/{project.uuid}/videos/{generation.uuid}.mp4"
    assert files_under(media_root, "staging") == []
    assert (generation.store_next_at, len(store_messages)) == (None, 1)


def test_a_store_claimed_once_whatever_the_messages(
    project, editor, settings, media_root, tmp_path, monkeypatch, store_messages
):
    """A duplicate of the live message, an old one and the delivering worker's own call find
    the chain claimed or moved on, and do nothing: one store at a time, one message next."""
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    generation = delivered(project, editor, settings, video)
    tries = []

    def storage_down(generation, dest):
        tries.append(generation.pk)
        raise OSError("Could not connect to the endpoint URL")

    monkeypatch.setattr(job_store, "_fetch_staged", storage_down)
    job_store.generation_store(generation_id=generation.pk)
    first = store_messages[-1][1].isoformat()
    stamp = make_due(generation)
    job_store.generation_store(generation_id=generation.pk, due=stamp)  # the live message
    job_store.generation_store(generation_id=generation.pk, due=stamp)  # its duplicate
    job_store.generation_store(generation_id=generation.pk, due=first)  # an older one
    job_store.generation_store(generation_id=generation.pk)  # an unstamped one
    generation.refresh_from_db()
    assert len(tries) == 2 and generation.store_failures == 2
    assert len(store_messages) == 2  # one next try per failed store, no more
    # A message come early (a broker may deliver one so) waits for the rest of its time.
    job_store.generation_store(
        generation_id=generation.pk, due=generation.store_next_at.isoformat()
    )
    assert len(tries) == 2 and store_messages[-1] == (generation.pk, generation.store_next_at)


def test_store_backoff_doubles_from_10_s_to_2_minutes_with_jitter():
    for failures in range(1, 12):
        expected = min(120.0, 10.0 * 2 ** (failures - 1))
        waits = [job_store.store_backoff(failures) for _ in range(50)]
        assert all(0.8 * expected <= wait <= 1.2 * expected for wait in waits), failures
        assert len(set(waits)) > 1  # jittered
    assert job_store.store_backoff(10**6) <= 1.2 * 120.0


def test_the_sweep_restarts_a_dead_store_chain_once_and_never_a_live_one(
    project, editor, settings, media_root, tmp_path, store_messages
):
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    generation = delivered(project, editor, settings, video)
    now = timezone.now()

    def sweep_with_stamp(stamp, changed=now) -> int:
        Generation.objects.filter(pk=generation.pk).update(
            store_next_at=stamp, state_changed_at=changed
        )
        return job_sweep.jobs_sweep()["stores_restarted"]

    # Waiting for its next try; a store running (its claim); due a moment ago (its message
    # on its way); just delivered: all alive, and left alone.
    assert sweep_with_stamp(now + dt.timedelta(seconds=40)) == 0
    assert sweep_with_stamp(now + job_store.STORE_CLAIM) == 0
    assert sweep_with_stamp(now - dt.timedelta(seconds=30)) == 0
    assert sweep_with_stamp(None) == 0
    assert store_messages == []
    # Long overdue: its worker or its message died. Restarted once, by one sweep.
    assert sweep_with_stamp(now - dt.timedelta(minutes=10)) == 1
    assert job_sweep.jobs_sweep()["stores_restarted"] == 0
    generation.refresh_from_db()
    assert store_messages == [(generation.pk, generation.store_next_at)]
    # Delivered long ago, never claimed (its worker died between the two).
    assert sweep_with_stamp(None, changed=now - dt.timedelta(minutes=10)) == 1
    # The restarted chain's message stores the video.
    job_store.generation_store(generation_id=generation.pk, due=store_messages[-1][1].isoformat())
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED


def test_a_staged_video_gone_fails_the_job_as_lost(project, editor, settings, media_root, tmp_path):
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    generation = delivered(project, editor, settings, video)
    default_storage.delete(job_store.staging_key(generation))

    job_store.generation_store(generation_id=generation.pk)

    generation.refresh_from_db()
    assert (generation.state, generation.error_type) == (JobState.FAILED, "video_lost")
    assert "lost before it was stored" in generation.error_message


# -- the delivery, streamed into the shared storage -------------------------------------------


def job(project, editor) -> Generation:
    return Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint=Endpoint.TEXT_TO_VIDEO,
        params=T2V,
        state=JobState.GENERATING,
        estimated_cost="0.08",
    )


REQUEST = TextToVideo(prompt="A red kite", model="ltx-2-fast", duration=6, resolution="1920x1080")


def test_a_delivery_the_storage_drops_midway_is_saved_again_whole(
    simulator, small_renders, project, editor, settings, media_root, monkeypatch
):
    """The storage fails while the answer streams into it: the rest of the answer is still
    read (kept locally meanwhile), and saved again once the storage takes it."""
    monkeypatch.setattr(job_store, "store_backoff", lambda failures: 0.01)
    real_save, failures = FileSystemStorage._save, []

    def dropping(storage, name, content):
        if len(failures) < 2:  # midway through the answer, then once more from the copy
            failures.append(content.read(1000))
            raise OSError("the storage went away")
        return real_save(storage, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", dropping)
    generation = job(project, editor)

    client = LTXClient(simulator.url, simulator.api_key)
    result = job_store.video_receive(
        generation=generation, deliver=lambda keep: client.generate(REQUEST, keep)
    )

    staged = media_root / job_store.staging_key(generation)
    assert staged.stat().st_size == result.size_bytes and len(failures) == 2
    assert media.probe(staged).frames == 150  # whole
    # And the worker's own copy, for its store right after: the same bytes, nothing else.
    [own] = (settings.VAR_DIR / "incoming").iterdir()
    assert own.read_bytes() == staged.read_bytes()


def test_a_delivery_cut_short_leaves_nothing_staged(
    start_simulator, small_renders, project, editor, settings, media_root
):
    sim = start_simulator(drop_rate=1.0)
    generation = job(project, editor)
    with pytest.raises(errors.ResponseLostError):
        client = LTXClient(sim.url, sim.api_key)
        job_store.video_receive(
            generation=generation, deliver=lambda keep: client.generate(REQUEST, keep)
        )
    assert files_under(media_root, "staging") == []
    assert list((settings.VAR_DIR / "incoming").iterdir()) == []  # nor a local copy


def test_the_delivering_worker_stores_from_its_own_copy(
    simulator, small_renders, project, editor, settings, media_root, monkeypatch
):
    """Storing at once, the worker that received the video reads its local copy rather than
    download it again; the copy is gone after, as is the staged one once stored."""
    generation = job(project, editor)
    client = LTXClient(simulator.url, simulator.api_key)
    job_store.video_receive(
        generation=generation, deliver=lambda keep: client.generate(REQUEST, keep)
    )
    Generation.objects.filter(pk=generation.pk).update(state=JobState.STORING)
    opened, real_open = [], FileSystemStorage.open

    def noting_open(storage, name, mode="rb"):
        opened.append(name)
        return real_open(storage, name, mode)

    monkeypatch.setattr(FileSystemStorage, "open", noting_open)
    job_store.generation_store(generation_id=generation.pk)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert opened == []
    assert list((settings.VAR_DIR / "incoming").iterdir()) == []
    assert files_under(media_root, "staging") == []


def test_a_video_whose_sprite_cannot_be_made_is_stored_with_its_poster(
    project, editor, settings, media_root, tmp_path, monkeypatch
):
    """The sprite is a preview: the paid video is stored without one, its card shows the
    poster."""
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    generation = delivered(project, editor, settings, video)

    def undecodable(*args, **kwargs):
        raise media.MediaError("this video could not be decoded: it may be truncated or corrupt")

    monkeypatch.setattr(media, "sprite_strip", undecodable)
    job_store.generation_store(generation_id=generation.pk)

    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert generation.poster and not generation.sprite
    assert files_under(media_root, f"projects/{project.uuid}/sprites") == []


def test_make_sprites_gives_stored_videos_without_one_their_hover_preview(
    project, editor, settings, media_root, tmp_path, monkeypatch
):
    """Videos stored before sprites (or whose sprite failed) get one from their stored file;
    a video whose file is gone is reported, not fatal; a second run has nothing to do."""
    import io

    from django.core.management import call_command

    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    older, lost = (delivered(project, editor, settings, video) for _ in range(2))
    with monkeypatch.context() as patch:
        patch.setattr(
            media, "sprite_strip", lambda *a, **k: (_ for _ in ()).throw(media.MediaError("no"))
        )
        for generation in (older, lost):
            job_store.generation_store(generation_id=generation.pk)
            generation.refresh_from_db()
            assert generation.state == JobState.SUCCEEDED and not generation.sprite
    (media_root / lost.video.name).unlink()
    out, err = io.StringIO(), io.StringIO()

    call_command("make_sprites", stdout=out, stderr=err)

    older.refresh_from_db()
    assert older.sprite.name == f"projects/{project.uuid}/sprites/{older.uuid}.jpg"
    with av.open(str(media_root / older.sprite.name)) as sprite:
        frame = next(sprite.decode(video=0))
        assert (frame.width, frame.height) == (10 * 320, 180)
    assert "1 video given a hover preview" in out.getvalue()
    assert "1 video could not be given one" in err.getvalue()
    assert list((settings.VAR_DIR / "incoming").iterdir()) == []  # no work files left
    assert job_store.sprites_backfill() == (0, 1)
