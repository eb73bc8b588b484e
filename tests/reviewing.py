"""Helpers for the review tests: jobs made without a worker, finished by hand."""

from django.utils import timezone

from generations.models import Generation, JobState
from generations.services import jobs

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
