"""Reads for the sequence board: each shot with its take, what its takes cost, and who and
where is cast in it, in a fixed number of queries however long the sequence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from generations.core.csvfile import csv_text
from generations.ltx import pricing, rules
from generations.projects.models import Project
from generations.prompts.models import LibraryEntry
from generations.prompts.services import library_references
from generations.review.models import ReviewState, Stack, TimelineComment, Version
from generations.sequences.models import Sequence, Shot
from generations.spend.models import LedgerEntry
from generations.spend.prices import price_list_on


@dataclass
class ShotCard:
    shot: Shot
    take: Version | None = None  # what the board shows: selected, else approved, else newest
    take_is: str = ""  # "selected", "approved" or "newest"
    takes: int = 0
    cost: Decimal = Decimal("0.00")
    cast: list[LibraryEntry] = field(default_factory=list)
    # Continuity with its neighbours: None, or whether the linked take is still theirs.
    start_matches: bool | None = None
    end_matches: bool | None = None


def sequences_of(*, project: Project):
    return Sequence.objects.filter(project=project).annotate(shot_count=Count("shots"))


def shot_takes(*, shot: Shot):
    """The shot's takes, newest first."""
    if shot.prompt_id is None:
        return Version.objects.none()
    return (
        Version.objects.filter(stack__prompt_id=shot.prompt_id)
        .select_related("generation")
        .order_by("-number")
    )


def board(*, sequence: Sequence) -> list[ShotCard]:
    shots = list(
        Shot.objects.filter(sequence=sequence)
        .select_related("prompt__current_version", "selected__generation")
        .order_by("position", "id")
    )
    cards = [ShotCard(shot=shot) for shot in shots]
    prompt_ids = [shot.prompt_id for shot in shots if shot.prompt_id]
    stacks = {
        stack.prompt_id: stack
        for stack in Stack.objects.filter(prompt_id__in=prompt_ids)
        .select_related("newest__generation")
        .annotate(takes=Count("versions"))
    }
    approved = {}
    for version in (
        Version.objects.filter(stack__in=stacks.values(), review_state=ReviewState.APPROVED)
        .select_related("generation")
        # Oldest first, so each stack's newest approval is the one that stays.
        .order_by("number")
    ):
        approved[version.stack_id] = version
    costs = dict(
        LedgerEntry.objects.filter(
            generation__version__stack__in=stacks.values(),
            kind__in=LedgerEntry.BUCKETS["charged"],
        )
        .values_list("generation__version__stack")
        .annotate(total=Sum("amount"))
    )
    names = defaultdict(set)
    for card in cards:
        version = card.shot.prompt.current_version if card.shot.prompt else None
        if version is not None:
            names[card.shot.pk] = library_references({**version.elements, "text": version.text})
    entries = {
        entry.name: entry
        for entry in LibraryEntry.objects.filter(
            project=sequence.project, name__in=set().union(*names.values())
        )
    }
    for card in cards:
        stack = stacks.get(card.shot.prompt_id)
        if card.shot.selected_id:
            card.take, card.take_is = card.shot.selected, "selected"
        elif stack and stack.pk in approved:
            card.take, card.take_is = approved[stack.pk], "approved"
        elif stack and stack.newest:
            card.take, card.take_is = stack.newest, "newest"
        if stack:
            card.takes = stack.takes
            card.cost = Decimal(costs.get(stack.pk) or 0).quantize(Decimal("0.01"))
        card.cast = sorted(
            (entries[n] for n in names[card.shot.pk] if n in entries), key=lambda e: e.name
        )
    for index, card in enumerate(cards):
        shot = card.shot
        if shot.continues_from_id:
            before = cards[index - 1].take if index > 0 else None
            card.start_matches = (
                before is not None and before.generation_id == shot.continues_from_id
            )
        if shot.ends_on_id:
            after = cards[index + 1].take if index + 1 < len(cards) else None
            card.end_matches = after is not None and after.generation_id == shot.ends_on_id
    return cards


def shot_list_rows(*, sequence: Sequence) -> list[list]:
    """The shot list as the CSV export writes it: title, notes, duration, prompt."""
    shots = (
        Shot.objects.filter(sequence=sequence)
        .select_related("prompt__current_version")
        .order_by("position", "id")
    )
    return [
        [
            csv_text(shot.title),
            csv_text(shot.notes),
            shot.target_seconds or "",
            csv_text(shot.prompt.current_version.text if shot.prompt else ""),
        ]
        for shot in shots
    ]


@dataclass(frozen=True)
class SequenceSpend:
    spent: Decimal  # every take of every shot, rejected ones included
    to_finish: Decimal  # one take of each shot still without a chosen or approved one
    shots_left: int
    unpriced: int  # of those, shots with no prompt (so no settings) yet


def sequence_spend(*, cards: list[ShotCard]) -> SequenceSpend:
    prices = price_list_on()
    left = [card for card in cards if card.take_is not in ("selected", "approved")]
    to_finish, unpriced = Decimal("0.00"), 0
    for card in left:
        version = card.shot.prompt.current_version if card.shot.prompt else None
        try:
            settings = version.settings
            payload = {k: settings[k] for k in ("model", "resolution", "duration")}
            to_finish += pricing.estimate_cost(rules.TEXT_TO_VIDEO, payload, prices=prices)
        except (AttributeError, KeyError, rules.RequestInvalid):
            unpriced += 1  # no prompt yet, or settings the API in force no longer offers
    return SequenceSpend(
        spent=sum((card.cost for card in cards), Decimal("0.00")),
        to_finish=to_finish,
        shots_left=len(left),
        unpriced=unpriced,
    )


@dataclass(frozen=True)
class Segment:
    """One shot's take on the sequence's timeline, from `start` for `seconds`."""

    card: ShotCard
    start: float
    seconds: float
    fps: float

    @property
    def end(self) -> float:
        return self.start + self.seconds


def playlist(*, cards: list[ShotCard]) -> tuple[list[Segment], list[ShotCard]]:
    """The finished takes end to end, and the shots left out for want of one."""
    segments, left_out, start = [], [], 0.0
    for card in cards:
        take = card.take
        info = (take.generation.video_info or {}) if take else {}
        if take is None or take.generation.state != "succeeded" or not info.get("duration"):
            left_out.append(card)
            continue
        seconds = float(info["duration"])
        segments.append(Segment(card, start, seconds, float(info.get("fps") or 25.0)))
        start += seconds
    return segments, left_out


def segment_at(segments: list[Segment], seconds: float) -> Segment | None:
    """The segment playing at `seconds` on the sequence's timeline (its very end: the last)."""
    for segment in segments:
        if segment.start <= seconds < segment.end:
            return segment
    if segments and abs(seconds - segments[-1].end) < 1e-6:
        return segments[-1]
    return None


def cut_take(*, sequence: Sequence, generation_uuid) -> Version | None:
    """The take of that generation if the sequence's player shows it now, else None."""
    segments, _ = playlist(cards=board(sequence=sequence))
    for segment in segments:
        if segment.card.take.generation.uuid == generation_uuid:
            return segment.card.take
    return None


def sequence_comments(
    *, segments: list[Segment], share_link=None
) -> list[tuple[Segment, TimelineComment]]:
    """The takes' comment threads, each with its take's segment, in timeline order, each
    comment's `sequence_at` its moment on the sequence's timeline; with `share_link`, only
    those guests wrote through it."""
    by_take = {segment.card.take.pk: segment for segment in segments}
    threads = TimelineComment.objects.filter(version__in=list(by_take), parent__isnull=True)
    if share_link is not None:
        threads = threads.filter(share_link=share_link)
    found = []
    for comment in threads.select_related("author"):
        segment = by_take[comment.version_id]
        # Added here: the template's `add` filter would round both to whole seconds.
        comment.sequence_at = segment.start + (comment.start_seconds or 0)
        found.append((segment, comment))
    return sorted(found, key=lambda pair: (pair[1].sequence_at, pair[1].pk))
