"""Sequences and their shots: add, reorder, duplicate, split, delete, choose the take, and a
shot list in and out as CSV. Every change to a sequence's order happens under its row lock, so
two people reordering at once leave positions 0, 1, 2… with no gap or twin."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction

from generations.jobs import assets
from generations.jobs import services as jobs
from generations.jobs.models import Generation, JobState
from generations.ltx import capabilities, rules
from generations.projects.models import Project
from generations.prompts import services as prompts
from generations.review import comments
from generations.review.models import ShareLink, TimelineComment, Version
from generations.sequences import selectors
from generations.sequences.models import Sequence, Shot

MAX_SHOTS = 500  # a forty-shot music video fits many times over; a runaway import does not
MAX_TARGET_SECONDS = 600
CSV_COLUMNS = ("title", "notes", "duration", "prompt")


def _title(value: str, what: str) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise ValidationError({"title": f"Give the {what} a title"})
    return title[:200]


def target_seconds_clean(value) -> int | None:
    """A shot's target duration: blank, or whole seconds from 1 to MAX_TARGET_SECONDS."""
    if value in (None, ""):
        return None
    try:
        seconds = int(str(value).strip())
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= MAX_TARGET_SECONDS:
        raise ValidationError(
            {"target_seconds": f"A duration is whole seconds, 1 to {MAX_TARGET_SECONDS}"}
        )
    return seconds


def sequence_create(*, project: Project, user, title: str) -> Sequence:
    return Sequence.objects.create(
        project=project, title=_title(title, "sequence"), created_by=user
    )


def sequence_rename(*, sequence: Sequence, title: str) -> Sequence:
    sequence.title = _title(title, "sequence")
    sequence.save(update_fields=["title", "updated_at"])
    return sequence


def _locked(sequence: Sequence) -> list[Shot]:
    """Lock the sequence and return its shots in order."""
    Sequence.objects.select_for_update().filter(pk=sequence.pk).get()
    return list(Shot.objects.filter(sequence=sequence).order_by("position", "id"))


def _renumber(shots: list[Shot]) -> None:
    moved = [shot for index, shot in enumerate(shots) if shot.position != index]
    for shot in moved:
        shot.position = shots.index(shot)
    Shot.objects.bulk_update(moved, ["position"])


def _prompt_for(*, project: Project, user, title: str, text: str):
    """The shot's own prompt, when it has words; written later otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    return prompts.prompt_create(project=project, author=user, title=title, text=text)


@transaction.atomic
def shot_add(
    *,
    sequence: Sequence,
    user,
    title: str,
    notes: str = "",
    target_seconds=None,
    prompt_text: str = "",
    after: Shot | None = None,
) -> Shot:
    """A new shot at the end, or right after `after`."""
    shots = _locked(sequence)
    if len(shots) >= MAX_SHOTS:
        raise ValidationError(f"A sequence holds at most {MAX_SHOTS} shots")
    title = _title(title, "shot")
    shot = Shot.objects.create(
        sequence=sequence,
        position=len(shots),
        title=title,
        notes=(notes or "").strip(),
        target_seconds=target_seconds_clean(target_seconds),
        prompt=_prompt_for(project=sequence.project, user=user, title=title, text=prompt_text),
    )
    ids = [s.pk for s in shots]
    if after is not None and after.pk in ids:  # (deleted meanwhile: the shot goes last)
        shots.insert(ids.index(after.pk) + 1, shot)
        _renumber(shots)
    Sequence.objects.filter(pk=sequence.pk).update(updated_at=shot.created_at)
    return shot


@transaction.atomic
def shot_update(
    *,
    shot: Shot,
    user,
    title: str,
    notes: str,
    target_seconds,
    prompt_text: str,
    prompt_based_on: int | None = None,
) -> Shot:
    """Edit a shot; its prompt's words, when changed, are saved as the prompt's next version.

    `prompt_based_on` is the number of the prompt's version the editor's page showed (None:
    the newest). Words left as that version had them save nothing, and changed words from a
    page older than the newest version are refused with StaleSave, as the builder refuses
    them: saving a shot's notes never reverts a teammate's newer prompt."""
    shot.title = _title(title, "shot")
    shot.notes = (notes or "").strip()
    shot.target_seconds = target_seconds_clean(target_seconds)
    text = (prompt_text or "").strip()
    if shot.prompt is None:
        shot.prompt = _prompt_for(
            project=shot.sequence.project, user=user, title=shot.title, text=text
        )
    elif text:
        current = shot.prompt.current_version
        shown = current
        if prompt_based_on is not None:
            shown = shot.prompt.versions.filter(number=prompt_based_on).first() or current
        if text != shown.text:
            prompts.prompt_version_save(
                prompt=shot.prompt,
                author=user,
                based_on=shown,
                elements=shown.elements,
                text=text,
                settings=shown.settings,
                note="edited on the sequence board",
            )
    shot.save()
    return shot


@transaction.atomic
def shot_move(*, shot: Shot, to: int) -> None:
    """Put the shot at position `to` (0 is first; beyond the end is last)."""
    shots = _locked(shot.sequence)
    # The row as it is now, not as the caller read it: someone may have moved it since.
    moving = next((s for s in shots if s.pk == shot.pk), None)
    if moving is None:
        return  # deleted meanwhile
    shots.remove(moving)
    shots.insert(max(0, min(to, len(shots))), moving)
    _renumber(shots)


@transaction.atomic
def shot_duplicate(*, shot: Shot, user) -> Shot:
    """A copy right after the shot: its words and notes, a prompt of its own, no takes."""
    copy = shot_add(
        sequence=shot.sequence,
        user=user,
        title=f"{shot.title} (copy)",
        notes=shot.notes,
        target_seconds=shot.target_seconds,
        after=shot,
    )
    if shot.prompt is not None:
        copy.prompt = prompts.prompt_duplicate(prompt=shot.prompt, author=user)
        copy.save(update_fields=["prompt"])
    return copy


@transaction.atomic
def shot_split(*, shot: Shot, user) -> Shot:
    """Two shots where there was one: the second follows, with the same words to start from
    and the rest of the target duration."""
    second = shot_duplicate(shot=shot, user=user)
    second.title = f"{shot.title} (2)"
    if shot.target_seconds:
        first_part = max(1, (shot.target_seconds + 1) // 2)
        second.target_seconds = max(1, shot.target_seconds - first_part)
        Shot.objects.filter(pk=shot.pk).update(target_seconds=first_part)
    second.save(update_fields=["title", "target_seconds"])
    return second


@transaction.atomic
def shot_delete(*, shot: Shot) -> None:
    """The shot leaves the board; its prompt, its takes and what they cost stay."""
    shots = [s for s in _locked(shot.sequence) if s.pk != shot.pk]
    shot.delete()
    _renumber(shots)


def shot_take_select(*, shot: Shot, version: Version | None) -> None:
    """Choose the take the cut uses (None: the newest approved one again)."""
    if version is not None and (
        shot.prompt_id is None or version.stack.prompt_id != shot.prompt_id
    ):
        raise ValidationError("That take is not one of this shot's")
    Shot.objects.filter(pk=shot.pk).update(selected=version)


def _cell(value) -> str:
    # Our export guards a cell a spreadsheet would run as a formula with a quote: undo it.
    text = (value or "").strip() if isinstance(value, str) else ""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


def shots_from_csv(text: str) -> list[dict]:
    """Rows of a shot list (title, notes, duration, prompt; a header row, any column order),
    every row checked before any is added; errors name their row."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "title" not in header:
        raise ValidationError(
            f"The first row names the columns, and one is 'title' ({', '.join(CSV_COLUMNS)})"
        )
    reader.fieldnames = header
    rows, problems = [], []
    for number, row in enumerate(reader, start=2):
        cells = {k: _cell(v) for k, v in row.items() if k in CSV_COLUMNS}
        if not any(cells.values()):
            continue
        try:
            rows.append(
                {
                    "title": _title(cells.get("title", ""), "shot"),
                    "notes": cells.get("notes", ""),
                    "target_seconds": target_seconds_clean(cells.get("duration")),
                    "prompt_text": cells.get("prompt", ""),
                }
            )
        except ValidationError as exc:
            problems.append(f"row {number}: {' '.join(exc.messages)}")
    if problems:
        raise ValidationError(problems[:20])
    if not rows:
        raise ValidationError("The file holds no shots")
    return rows


@transaction.atomic
def shots_import(*, sequence: Sequence, user, text: str) -> list[Shot]:
    """Add a shot list's rows at the end of the sequence: all of them, or none."""
    rows = shots_from_csv(text)
    if len(_locked(sequence)) + len(rows) > MAX_SHOTS:
        raise ValidationError(f"A sequence holds at most {MAX_SHOTS} shots")
    return [shot_add(sequence=sequence, user=user, **row) for row in rows]


def sequence_comment_add(
    *,
    sequence: Sequence,
    body: str,
    at_seconds,
    end_seconds=None,
    author=None,
    share_link: ShareLink | None = None,
    guest_name: str = "",
) -> TimelineComment:
    """A comment on the sequence's timeline lands on the take playing there, at that take's
    own moment (a range is cut at the take's end); its thread, decisions and retakes follow.
    A member is `author`; a guest gives the sequence's `share_link` and `guest_name`."""
    if share_link is not None and share_link.sequence_id != sequence.pk:
        raise ValidationError("That link is not this sequence's")
    try:
        at = float(at_seconds)
        end = float(end_seconds) if end_seconds not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationError({"at_seconds": "Say where on the timeline"}) from None
    segments, _ = selectors.playlist(cards=selectors.board(sequence=sequence))
    segment = selectors.segment_at(segments, at)
    if segment is None:
        raise ValidationError({"at_seconds": "That moment is outside the sequence's takes"})
    local_end = None
    if end is not None and end > at:
        local_end = min(end, segment.end) - segment.start
    return comments.comment_add(
        version=segment.card.take,
        author=author,
        body=body,
        start_seconds=at - segment.start,
        end_seconds=local_end,
        share_link=share_link,
        guest_name=guest_name,
    )


SETTINGS_SENT = ("model", "resolution", "fps", "duration", "generate_audio", "camera_motion")


def _finished(card) -> bool:
    return (
        card is not None
        and card.take is not None
        and card.take.generation.state == (JobState.SUCCEEDED)
    )


def shot_continue(*, shot: Shot, user, bridge: bool = False) -> Generation:
    """A new take of `shot`, image-to-video from the exact last frame of the previous shot's
    take; with `bridge`, also ending on the first frame of the next shot's take (where the
    shot's model takes a last frame). The link is recorded on the shot."""
    if shot.prompt is None:
        raise ValidationError("Write the shot's prompt first: the new take is made from it")
    cards = selectors.board(sequence=shot.sequence)
    index = next(n for n, card in enumerate(cards) if card.shot.pk == shot.pk)
    previous = cards[index - 1] if index > 0 else None
    following = cards[index + 1] if index + 1 < len(cards) else None
    if not _finished(previous):
        raise ValidationError("The previous shot has no finished take to continue from")
    version = shot.prompt.current_version
    settings = {k: v for k, v in version.settings.items() if k in SETTINGS_SENT and v != ""}
    if bridge:
        if not _finished(following):
            raise ValidationError("The next shot has no finished take to end on")
        if not capabilities.active().takes_last_frame(settings.get("model", "")):
            models = ", ".join(capabilities.active().last_frame_models()) or "none here"
            raise ValidationError(
                f"{settings.get('model')} does not end on a given frame: choose a model that "
                f"does in the shot's prompt ({models})"
            )
    first = assets.asset_from_frame(generation=previous.take.generation, user=user, last=True)
    last = None
    try:
        if bridge:
            last = assets.asset_from_frame(
                generation=following.take.generation, user=user, last=False
            )
        generation = jobs.job_submit(
            project=shot.sequence.project,
            user=user,
            endpoint=rules.IMAGE_TO_VIDEO,
            params={"prompt": version.text, **settings},
            prompt_version=version,
            image=first,
            last_image=last,
        )
    except ValidationError:
        for asset in (first, last):
            if asset is not None:
                assets.asset_discard(asset=asset)  # nothing half-made is kept
        raise
    Shot.objects.filter(pk=shot.pk).update(
        continues_from=previous.take.generation,
        ends_on=following.take.generation if bridge else None,
    )
    return generation


def shot_frame_set(
    *, shot: Shot, user, upload=None, generation: Generation | None = None, at_seconds=None
) -> Shot:
    """The shot's storyboard frame: an uploaded image, or the frame of a finished take of the
    project at `at_seconds` (checked as an image the API would take)."""
    project = shot.sequence.project
    if upload is not None:
        frame = assets.asset_create(project=project, user=user, uploaded=upload, kind="image")
    elif generation is not None:
        if generation.project_id != project.pk or generation.state != JobState.SUCCEEDED:
            raise ValidationError("Choose a finished take of this project")
        try:
            seconds = max(0.0, float(at_seconds or 0))
        except (TypeError, ValueError):
            raise ValidationError({"at_seconds": "Give the moment in seconds, like 2.5"}) from None
        frame = assets.asset_from_frame(generation=generation, user=user, at_seconds=seconds)
    else:
        raise ValidationError("Upload an image, or choose a take and a moment of it")
    Shot.objects.filter(pk=shot.pk).update(frame=frame)
    shot.frame = frame
    return shot


def shot_frame_clear(*, shot: Shot) -> None:
    Shot.objects.filter(pk=shot.pk).update(frame=None)


def shot_from_frame(*, shot: Shot, user) -> Generation:
    """A new take of the shot, image-to-video from its storyboard frame."""
    if shot.prompt is None:
        raise ValidationError("Write the shot's prompt first: the new take is made from it")
    if shot.frame is None:
        raise ValidationError("The shot has no storyboard frame yet")
    version = shot.prompt.current_version
    settings = {k: v for k, v in version.settings.items() if k in SETTINGS_SENT and v != ""}
    return jobs.job_submit(
        project=shot.sequence.project,
        user=user,
        endpoint=rules.IMAGE_TO_VIDEO,
        params={"prompt": version.text, **settings},
        prompt_version=version,
        image=shot.frame,
    )
