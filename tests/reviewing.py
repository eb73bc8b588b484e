"""Helpers for the review tests: jobs made without a worker, finished by hand."""

from django.utils import timezone

from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState

T2V = {
    "prompt": "A kite over dunes",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
}


def submit(project, user, prompt=T2V["prompt"], **params):
    return jobs.job_submit(
        project=project,
        user=user,
        endpoint="text-to-video",
        params={**T2V, "prompt": prompt, **params},
    )


def finish(generation, *, fps=25.0, duration=6.0, when=None):
    """Mark a job succeeded with a stored video's facts (the file itself is not needed)."""
    frames = round(fps * duration)
    Generation.objects.filter(pk=generation.pk).update(
        state=JobState.SUCCEEDED,
        state_changed_at=when or timezone.now(),
        video=f"projects/{generation.project.uuid}/videos/{generation.uuid}.mp4",
        video_info={
            "width": 1920,
            "height": 1080,
            "fps": fps,
            "frames": frames,
            "duration": duration,
            "has_audio": True,
            "size_bytes": 1000,
        },
        final_cost=generation.estimated_cost,
    )
    generation.refresh_from_db()
    return generation


def finished(project, user, prompt=T2V["prompt"], when=None, **params):
    return finish(submit(project, user, prompt, **params), when=when)


def private_media(settings, tmp_path):
    """Stored files go to the test's own directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def store_media(generation, tmp_path, *, frames=25):
    """Give a finished job a real (small) video and poster in storage."""
    from django.core.files import File

    from tests import mediafiles

    video = mediafiles.make_video(tmp_path, frames=frames, audio=False, name=f"{generation.uuid}")
    poster = mediafiles.make_image(tmp_path, "JPEG")
    with open(video, "rb") as v, open(poster, "rb") as p:
        generation.video.save("video.mp4", File(v), save=False)
        generation.poster.save("poster.jpg", File(p), save=False)
    Generation.objects.filter(pk=generation.pk).update(
        video=generation.video.name, poster=generation.poster.name
    )
    return generation
