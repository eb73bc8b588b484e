"""The project's activity feed: every domain records what people did; the project page reads it."""

from django.db.models import QuerySet

from generations.core.models import Activity


def activity_list(*, project) -> QuerySet[Activity]:
    events = Activity.objects.filter(project=project)
    return events.select_related("actor", "prompt", "generation")[:100]


def activity_record(
    *, project, actor, verb: str, summary: str, prompt=None, generation=None
) -> Activity:
    return Activity.objects.create(
        project=project,
        actor=actor,
        verb=verb,
        summary=summary[:300],
        prompt=prompt,
        generation=generation,
    )
