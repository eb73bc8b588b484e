"""Reads for review: the reviewer's queue, a version with its comments and decisions, stacks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.text import slugify

from generations.core.textdiff import word_diff
from generations.jobs.models import Attempt, JobState
from generations.projects.models import Membership, Project, Role
from generations.review.models import (
    Notification,
    ReviewDecision,
    ReviewState,
    Stack,
    TimelineComment,
    Version,
)
from generations.review.stacks import retake_range


def projects_deciding(*, user) -> list[Project]:
    """The projects in which the person may decide on videos (reviewer or owner)."""
    memberships = Membership.objects.filter(user=user).select_related("project")
    return sorted(
        (m.project for m in memberships if m.has_role(Role.REVIEWER)),
        key=lambda p: (p.name.lower(), p.pk),
    )


def review_queue(*, projects, project_uuid: str = "", prompt: str = "") -> QuerySet[Version]:
    """Finished versions waiting for a decision, newest first: of each stack only its newest
    finished version, since an older one is already superseded."""
    newer = Version.objects.filter(
        stack=OuterRef("stack"),
        number__gt=OuterRef("number"),
        generation__state=JobState.SUCCEEDED,
    )
    versions = Version.objects.filter(
        stack__project__in=projects,
        review_state=ReviewState.PENDING,
        generation__state=JobState.SUCCEEDED,
    ).exclude(Exists(newer))
    if project_uuid:
        versions = versions.filter(stack__project__uuid=project_uuid)
    prompt = prompt.strip()
    if prompt:
        versions = versions.filter(
            Q(generation__params__prompt__icontains=prompt) | Q(stack__title__icontains=prompt)
        )
    return versions.select_related(
        "stack__project", "generation__requested_by", "generation__project"
    ).order_by("-generation__state_changed_at", "-id")


def queue_next(*, queue: QuerySet[Version], after: Version | None) -> Version | None:
    """The queue's next version after `after` (newest first), wrapping round to the start."""
    if after is None:
        return queue.first()
    ready = after.generation.state_changed_at
    later = queue.filter(
        Q(generation__state_changed_at__lt=ready)
        | Q(generation__state_changed_at=ready, id__lt=after.pk)
    ).first()
    return later or queue.exclude(pk=after.pk).first()


def version_for_generation(*, generation) -> Version:
    return Version.objects.select_related(
        "stack__project", "stack__prompt", "retake_of__generation", "requested_in"
    ).get(generation=generation)


def version_decisions(*, version: Version) -> QuerySet[ReviewDecision]:
    return version.decisions.select_related("reviewer").order_by("-created_at", "-id")


def version_comments(*, version: Version, share_link=None) -> list[TimelineComment]:
    """Top-level comments in timeline order, each with `.thread` (its replies); with
    `share_link`, only what guests wrote through that link."""
    comments = TimelineComment.objects.filter(version=version)
    if share_link is not None:
        comments = comments.filter(share_link=share_link)
    comments = list(
        comments.select_related("author", "resolved_by", "carried_from__version")
        # The versions retaken from each, so a second retake is not asked unknowingly.
        .prefetch_related(
            Prefetch(
                "retakes", queryset=Version.objects.select_related("generation").order_by("number")
            )
        )
        .order_by("start_seconds", "created_at", "id")
    )
    by_parent = defaultdict(list)  # None: the top-level comments
    for comment in comments:
        by_parent[comment.parent_id].append(comment)
    for comment in comments:
        comment.thread = sorted(by_parent[comment.pk], key=lambda c: (c.created_at, c.pk))
    return by_parent[None]


def stack_versions(*, stack: Stack) -> QuerySet[Version]:
    return stack.versions.select_related(
        "generation__requested_by", "generation__prompt_version", "retake_of", "requested_in"
    ).order_by("-number")


def notifications_of(*, user) -> QuerySet[Notification]:
    """A person's notifications, but for projects they are no longer a member of: what was
    said there is not theirs to read any more."""
    current = Membership.objects.filter(user=user).values("project")
    return Notification.objects.filter(user=user, project__in=current)


def unread_count(*, user) -> int:
    return notifications_of(user=user).filter(read_at__isnull=True).count()


def notification_list(*, user, limit: int = 50) -> QuerySet[Notification]:
    return notifications_of(user=user).select_related("project", "actor")[:limit]


@dataclass(frozen=True)
class Comparison:
    prompt_diff: list[tuple[str, str]]  # textdiff.word_diff of a's prompt to b's
    params: list[tuple[str, object, object, bool]]  # name, a's value, b's value, differs
    retake_section: tuple[float, float] | None  # the range one was retaken from the other
    retake_version: Version | None  # which of the two is the retake

    @property
    def prompt_changed(self) -> bool:
        return any(op != "equal" for op, _ in self.prompt_diff)


def versions_compare(*, a: Version, b: Version) -> Comparison:
    """The prompt word by word, every parameter, and the retaken range if one is the other's."""
    facts = []
    for version in (a, b):
        generation = version.generation
        values = {k: v for k, v in generation.params.items() if k != "prompt"}
        values["endpoint"] = generation.get_endpoint_display()
        values["estimated cost"] = f"{generation.estimated_cost} USD"
        if generation.final_cost is not None:
            values["cost"] = f"{generation.final_cost} USD"
        info = generation.video_info or {}
        if info:
            values["delivered"] = (
                f"{info.get('width')}x{info.get('height')}, {info.get('fps')} fps, "
                f"{float(info.get('duration') or 0):.2f} s"
            )
        if generation.prompt_version_id:
            values["prompt version"] = f"v{generation.prompt_version.number}"
        facts.append(values)
    fa, fb = facts
    params = [
        (name, fa.get(name, "—"), fb.get(name, "—"), fa.get(name) != fb.get(name))
        for name in sorted(set(fa) | set(fb))
    ]
    retake_version = b if b.retake_of_id == a.pk else a if a.retake_of_id == b.pk else None
    return Comparison(
        prompt_diff=word_diff(a.generation.prompt_text, b.generation.prompt_text),
        params=params,
        retake_section=retake_range(retake_version) if retake_version else None,
        retake_version=retake_version,
    )


@dataclass(frozen=True)
class Deliverable:
    version: Version
    file_name: str  # its name in the zip
    request_id: str  # the API's, for the delivered attempt
    approved_by: str
    approved_at: object  # datetime of the approving decision

    @property
    def generation(self):
        return self.version.generation


def approved_deliverables(*, project) -> list[Deliverable]:
    """The newest approved version of each stack, stacks in title order."""
    versions = (
        Version.objects.filter(
            stack__project=project,
            review_state=ReviewState.APPROVED,
            generation__state=JobState.SUCCEEDED,
        )
        .select_related("stack", "generation__prompt_version__prompt", "generation__requested_by")
        .prefetch_related(
            Prefetch(
                "generation__attempts",
                queryset=Attempt.objects.filter(outcome=Attempt.Outcome.DELIVERED),
                to_attr="delivered",
            ),
            Prefetch(
                "decisions",
                queryset=ReviewDecision.objects.filter(state=ReviewState.APPROVED)
                .select_related("reviewer")
                .order_by("-created_at", "-id"),
                to_attr="approvals",
            ),
        )
        .order_by("stack__title", "stack_id", "-number")
    )
    chosen, names = [], set()
    for version in versions:
        if chosen and chosen[-1].version.stack_id == version.stack_id:
            continue  # an older approved version of the same stack
        attempt = version.generation.delivered[-1] if version.generation.delivered else None
        approval = version.approvals[0] if version.approvals else None
        chosen.append(
            Deliverable(
                version=version,
                file_name=take_file_name(version, names),
                request_id=attempt.request_id if attempt else "",
                approved_by=approval.reviewer.get_username()
                if approval and approval.reviewer
                else "",
                approved_at=approval.created_at if approval else version.review_state_at,
            )
        )
    return chosen


def take_file_name(version: Version, taken: set[str] | None = None) -> str:
    """A take's file name in a download (`<stack>-<version>.mp4`), the name an editor's
    timeline (EDL, OpenTimelineIO) relinks to; numbered where `taken` already has it."""
    taken = set() if taken is None else taken
    stem = slugify(version.stack.title)[:60] or "video"
    name = f"{stem}-{version.label}.mp4"
    n = 2
    while name in taken:
        name = f"{stem}-{version.label}-{n}.mp4"
        n += 1
    taken.add(name)
    return name
