"""A store's claim on PostgreSQL: copies of the live store message arriving at once (a
broker's redelivery, a sweep's resend) meet in the database, and one store runs."""

import datetime as dt
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from generations.jobs import queue as job_queue
from generations.jobs import store as job_store
from generations.jobs.models import Endpoint, Generation, JobState
from tests import mediafiles

CONTENDERS = 12


def test_racing_copies_of_a_store_message_store_once(
    run_concurrently, project, editor, tmp_path, monkeypatch
):
    monkeypatch.setattr(job_queue, "store_send", lambda *args, **kwargs: None)
    generation = Generation.objects.create(
        project=project,
        requested_by=editor,
        endpoint=Endpoint.TEXT_TO_VIDEO,
        params={"prompt": "A heron", "model": "ltx-2-fast", "duration": 1},
        state=JobState.STORING,
        estimated_cost="0.04",
    )
    video = mediafiles.make_video(tmp_path, size=(320, 180), frames=25)
    with open(video, "rb") as delivery:
        default_storage.save(job_store.staging_key(generation), File(delivery))
    due = timezone.now() - dt.timedelta(seconds=1)
    Generation.objects.filter(pk=generation.pk).update(store_next_at=due)
    runs, fetch = [], job_store._fetch_staged

    def counted_fetch(generation, dest):
        runs.append(generation.pk)
        return fetch(generation, dest)

    monkeypatch.setattr(job_store, "_fetch_staged", counted_fetch)
    store = partial(job_store.generation_store, generation_id=generation.pk, due=due.isoformat())
    run_concurrently(*[store] * CONTENDERS)
    generation.refresh_from_db()
    assert generation.state == JobState.SUCCEEDED, generation.error_message
    assert runs == [generation.pk]
    root = settings.MEDIA_ROOT / "projects" / str(project.uuid)
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*.*"))
    # One video, one poster, one sprite strip: no copy left by a store that lost the race.
    assert stored == [
        f"posters/{generation.uuid}.jpg",
        f"sprites/{generation.uuid}.jpg",
        f"videos/{generation.uuid}.mp4",
    ]
    assert not default_storage.exists(job_store.staging_key(generation))
