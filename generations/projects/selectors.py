"""Reads: plain keyword-only functions returning querysets or values."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from generations.jobs.models import Generation, JobState
from generations.projects.models import Project
from generations.prompts.models import Prompt
from generations.review.models import ReviewState, Version
from generations.sequences.models import Sequence


def project_list_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user).order_by("name", "id")


@dataclass(frozen=True)
class Overview:
    prompts: int
    sequences: int
    videos: int
    cards: int  # the gallery's cards: a stack each (its newest version), or a job in none
    waiting_review: int
    members: int


def project_overview(*, project: Project) -> Overview:
    """What a project holds, for its front page and its next step. (Rooms may read any room's
    models: these are counts, not behaviour.)"""
    videos = Generation.objects.filter(project=project, state=JobState.SUCCEEDED)
    return Overview(
        prompts=Prompt.objects.filter(project=project).count(),
        sequences=Sequence.objects.filter(project=project).count(),
        videos=videos.count(),
        cards=Generation.objects.filter(project=project, is_card=True).count(),
        waiting_review=_waiting_review(project).count(),
        members=project.memberships.count(),
    )


def _waiting_review(project: Project) -> QuerySet[Version]:
    """The versions the review queue lists for the project (the count links there): each
    stack's newest finished version while it waits for a decision; an older one waiting is
    superseded, so it is not counted."""
    newer = Version.objects.filter(
        stack=OuterRef("stack"), number__gt=OuterRef("number"), generation__state=JobState.SUCCEEDED
    )
    return Version.objects.filter(
        stack__project=project,
        review_state=ReviewState.PENDING,
        generation__state=JobState.SUCCEEDED,
    ).exclude(Exists(newer))
