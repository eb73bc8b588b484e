"""Version stacks: every new generation joins the stack of its shot as the next version. A
prompt typed without a saved Prompt stacks by its text and endpoint; a retake or an extend
joins its source's stack, and the source's comments outside the retaken range (all of them,
moved with the picture, for an extend) carry over."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from generations.jobs.models import Generation
from generations.ltx import rules
from generations.review.models import EXTEND_MODE_PREFIX, Stack, TimelineComment, Version

TITLE_LENGTH = 80
ON_A_VIDEO = (rules.RETAKE, rules.EXTEND)


def source_version(*, generation: Generation) -> Version | None:
    """The version a retake or an extend was made from: the generation whose stored video is
    its input."""
    if generation.endpoint not in ON_A_VIDEO or generation.source_video_id is None:
        return None
    source = (
        Generation.objects.filter(
            project_id=generation.project_id, video=generation.source_video.file.name
        )
        .exclude(pk=generation.pk)
        .select_related("version__stack")
        .first()
    )
    return getattr(source, "version", None)


def _stack_for(generation: Generation) -> Stack:
    project = generation.project
    if generation.prompt_version_id is not None:
        prompt = generation.prompt_version.prompt
        stack = Stack.objects.filter(project=project, prompt=prompt).first()
        if stack is None:
            stack = Stack.objects.create(project=project, prompt=prompt, title=prompt.title[:200])
        return stack
    text = generation.prompt_text
    stack = Stack.objects.filter(
        project=project,
        prompt__isnull=True,
        versions__generation__endpoint=generation.endpoint,
        versions__generation__params__prompt=text,
    ).first()
    if stack is None:
        title = text.strip() or generation.get_endpoint_display()
        if len(title) > TITLE_LENGTH:
            title = title[: TITLE_LENGTH - 1].rstrip() + "…"
        stack = Stack.objects.create(project=project, title=title)
    return stack


@transaction.atomic
def version_place(
    *, generation: Generation, requested_in: TimelineComment | None = None
) -> Version:
    """Add a new generation to its stack as the next number (a retake with its lineage)."""
    source = source_version(generation=generation)
    stack = source.stack if source else _stack_for(generation)
    stack = Stack.objects.select_for_update().get(pk=stack.pk)  # numbers are handed out in turn
    number = (stack.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    lineage = {}
    if source is not None and generation.endpoint == rules.EXTEND:
        # An extend's lineage: its source, and where and how many seconds were added.
        mode = generation.params.get("mode", rules.EXTEND_DEFAULT_MODE)
        lineage = {
            "retake_of": source,
            "retake_duration": generation.params.get("duration"),
            "retake_mode": EXTEND_MODE_PREFIX + mode,
            "requested_in": requested_in,
        }
    elif source is not None:
        lineage = {
            "retake_of": source,
            "retake_start": generation.params.get("start_time"),
            "retake_duration": generation.params.get("duration"),
            "retake_mode": generation.params.get("mode", rules.RETAKE_DEFAULT_MODE),
            "requested_in": requested_in,
        }
    version = Version.objects.create(stack=stack, generation=generation, number=number, **lineage)
    Stack.objects.filter(pk=stack.pk).update(newest=version, updated_at=timezone.now())
    # The gallery shows the stack as this new version's card: the one that was stops being.
    cards = Generation.objects.filter(version__stack=stack, is_card=True)
    cards.exclude(pk=generation.pk).update(is_card=False)
    if source is not None:
        comments_carry(source=source, target=version)
    return version


def retake_range(version: Version) -> tuple[float, float] | None:
    """The seconds a retake replaced, clamped to its source video as the API does."""
    if version.retake_of_id is None or version.retake_start is None:
        return None
    video_seconds = version.retake_of.duration or (version.retake_start + version.retake_duration)
    start, length = rules.clamp_retake_section(
        version.retake_start, version.retake_duration, video_seconds
    )
    return start, start + length


def _outside(comment: TimelineComment, start: float, end: float) -> bool:
    comment_end = comment.end_seconds if comment.end_seconds is not None else comment.start_seconds
    return comment_end < start or comment.start_seconds > end


def comments_carry(*, source: Version, target: Version) -> list[TimelineComment]:
    """Copy the source's threads wholly outside the retaken range onto the retake; onto an
    extend, every thread, later by the seconds added before the start."""
    section, shift = retake_range(target), 0.0
    if target.extended_at == "start":
        shift = float(target.retake_duration or 0)
    if section is None and target.extended_at is None:
        return []
    carried = []
    top_level = source.comments.filter(parent__isnull=True, start_seconds__isnull=False)
    for comment in top_level.prefetch_related("replies", "mentions"):
        if section is not None and not _outside(comment, *section):
            continue
        copy = _copy(comment, version=target, parent=None, shift=shift)
        for reply in comment.replies.all():
            _copy(reply, version=target, parent=copy, shift=shift)
        carried.append(copy)
    return carried


def _later(seconds: float | None, shift: float) -> float | None:
    return None if seconds is None else seconds + shift


def _copy(comment: TimelineComment, *, version: Version, parent, shift=0.0) -> TimelineComment:
    copy = TimelineComment.objects.create(
        version=version,
        parent=parent,
        author_id=comment.author_id,
        share_link_id=comment.share_link_id,
        guest_name=comment.guest_name,
        body=comment.body,
        start_seconds=_later(comment.start_seconds, shift),
        end_seconds=_later(comment.end_seconds, shift),
        created_at=comment.created_at,
        resolved_at=comment.resolved_at,
        resolved_by_id=comment.resolved_by_id,
        carried_from=comment,
        drawing=comment.drawing,  # outside the retaken range, the frame drawn on is unchanged
    )
    copy.mentions.set(comment.mentions.all())
    return copy
