"""Reads: plain keyword-only functions returning querysets or values."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from generations.jobs.models import Generation, JobState


def generation_list(
    *, project, state="", endpoint="", model="", prompt="", author=""
) -> QuerySet[Generation]:
    lookups = {
        "state": state,
        "endpoint": endpoint,
        "api_model": model,
        "prompt_version__prompt__uuid": prompt,
        "requested_by__username": author,
    }
    return (
        Generation.objects.filter(project=project, **{k: v for k, v in lookups.items() if v})
        .select_related("prompt_version__prompt", "requested_by")
        .order_by("-created_at", "-id")
    )


def gallery_cards(*, project, **filters) -> QuerySet[Generation]:
    """The gallery: one card per version stack, its newest version, and each job in no stack
    (Generation.is_card, kept by review/stacks.py; its partial index gives any page)."""
    return (
        generation_list(project=project, **filters)
        .filter(is_card=True)
        .select_related("version__stack")
    )


def gallery_page(*, project, number, per_page: int, **filters) -> tuple[Page, list[Generation]]:
    """A page of the gallery and its cards. The page is cut from the cards' ids (the
    gallery_cards index holds them in order) before any join: an OFFSET over the joined rows
    made PostgreSQL join and sort every card of the project to show a deep page."""
    cards = gallery_cards(project=project, **filters)
    page = Paginator(cards.values_list("pk", flat=True), per_page).get_page(number)
    return page, list(cards.filter(pk__in=page.object_list))


def generation_updated_at(*, user, project_uuid, generation_uuid):
    """When a generation last changed, or None if it is not in a project of `user`'s: the card's
    ETag. The membership is in the same query, so a poll costs one query beyond the session."""
    stamps = Generation.objects.filter(
        project__uuid=project_uuid, project__memberships__user=user, uuid=generation_uuid
    )
    return stamps.values_list("updated_at", flat=True).first()


def frame_sources(*, project, limit: int = 50) -> QuerySet[Generation]:
    """The project's newest finished takes, whose first or last frame may start or end
    another image-to-video take."""
    return (
        Generation.objects.filter(project=project, state=JobState.SUCCEEDED)
        .exclude(video="")
        .select_related("prompt_version__prompt", "version__stack")
        .order_by("-created_at", "-id")[:limit]
    )
