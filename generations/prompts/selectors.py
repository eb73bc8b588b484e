"""Reads: plain keyword-only functions returning querysets or values."""

import re

from django.db.models import Prefetch, QuerySet

from generations.prompts.models import Prompt, PromptComment, PromptVersion


def prompt_list(*, project) -> QuerySet[Prompt]:
    return Prompt.objects.filter(project=project).select_related(
        "current_version", "approved_version", "current_version__author"
    )


def prompt_versions(*, prompt) -> QuerySet[PromptVersion]:
    return prompt.versions.select_related("author").order_by("-number")


def prompt_comments(*, prompt) -> QuerySet[PromptComment]:
    """Top-level comments, each with its replies as `thread`."""
    comments = PromptComment.objects.select_related("author", "version", "resolved_by")
    return comments.filter(prompt=prompt, parent=None).prefetch_related(
        Prefetch("replies", queryset=comments, to_attr="thread")
    )


def prompts_using_reference(*, project, name: str) -> list[Prompt]:
    """Prompts whose newest version names @name in an element."""
    pattern = re.compile(rf"@{re.escape(name)}(?![\w-])")
    return [
        prompt
        for prompt in prompt_list(project=project)
        if prompt.current_version
        and any(pattern.search(text) for text in prompt.current_version.elements.values())
    ]


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
