"""Reads: plain keyword-only functions returning querysets or values."""

import re

from django.db.models import QuerySet

from generations.models import (
    Activity,
    Generation,
    Membership,
    Project,
    Prompt,
    PromptComment,
    PromptVersion,
)


def project_list_for_user(*, user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user).order_by("name", "id")


def membership_get(*, user, project_uuid) -> Membership | None:
    return (
        Membership.objects.select_related("project")
        .filter(user=user, project__uuid=project_uuid)
        .first()
    )


def prompt_list(*, project) -> QuerySet[Prompt]:
    return Prompt.objects.filter(project=project).select_related(
        "current_version", "approved_version", "current_version__author"
    )


def prompt_versions(*, prompt) -> QuerySet[PromptVersion]:
    return prompt.versions.select_related("author").order_by("-number")


def prompt_comments(*, prompt) -> list[PromptComment]:
    """Top-level comments, each with its replies, in one query."""
    comments = list(
        PromptComment.objects.filter(prompt=prompt).select_related(
            "author", "version", "resolved_by"
        )
    )
    replies: dict[int, list[PromptComment]] = {}
    for comment in comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    for comment in comments:
        comment.thread = replies.get(comment.pk, [])
    return [c for c in comments if c.parent_id is None]


def prompts_using_reference(*, project, name: str) -> list[Prompt]:
    """Prompts whose newest version names @name in an element."""
    pattern = re.compile(rf"@{re.escape(name)}(?![\w-])")
    return [
        prompt
        for prompt in prompt_list(project=project)
        if prompt.current_version
        and any(pattern.search(text) for text in prompt.current_version.elements.values())
    ]


def activity_list(*, project, limit: int = 100) -> QuerySet[Activity]:
    return Activity.objects.filter(project=project).select_related("actor", "prompt")[:limit]


def generation_list(
    *, project, state="", endpoint="", model="", prompt="", author=""
) -> QuerySet[Generation]:
    generations = Generation.objects.filter(project=project).select_related(
        "prompt_version__prompt", "requested_by"
    )
    if state:
        generations = generations.filter(state=state)
    if endpoint:
        generations = generations.filter(endpoint=endpoint)
    if model:
        generations = generations.filter(params__model=model)
    if prompt:
        generations = generations.filter(prompt_version__prompt__uuid=prompt)
    if author:
        generations = generations.filter(requested_by__username=author)
    return generations.order_by("-created_at", "-id")


def generation_updated_at(*, user, project_uuid, generation_uuid):
    """When a generation last changed, if `user` is a member of its project (else None): what
    a polling card compares with its copy, in one query."""
    return (
        Generation.objects.filter(
            uuid=generation_uuid, project__uuid=project_uuid, project__memberships__user=user
        )
        .values_list("updated_at", flat=True)
        .first()
    )


def prompt_version_for_generation(*, project, prompt_uuid) -> PromptVersion | None:
    """The version a new generation is made from: the prompt's newest."""
    if not prompt_uuid:
        return None
    prompt = (
        Prompt.objects.filter(project=project, uuid=prompt_uuid)
        .select_related("current_version__prompt")
        .first()
    )
    return prompt.current_version if prompt else None
