"""The rough cut: a sequence's takes joined in order into one MP4 by a worker (never in the
request), with the sequence's title and each take's provenance in its metadata."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from generations import media
from generations.media import concat
from generations.review.selectors import take_file_name
from generations.sequences import selectors
from generations.sequences.models import RoughCut, Sequence

logger = logging.getLogger(__name__)

RENDER = "generations.sequences.roughcut_render"
PROGRESS_STEP = 0.05  # written this often: enough for the bar, not a write per packet


def roughcut_request(*, sequence: Sequence, user) -> RoughCut:
    """Fix the takes (each shot's chosen, approved or newest take, finished) and queue the
    join. Refused, naming the shots, while any shot has no finished take."""
    cards = selectors.board(sequence=sequence)
    if not cards:
        raise ValidationError("The sequence has no shots yet")
    missing = [
        str(card.shot.number)
        for card in cards
        if card.take is None or card.take.generation.state != "succeeded"
    ]
    if missing:
        raise ValidationError(
            f"Shot{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'have' if len(missing) > 1 else 'has'} no finished take to cut: generate one, "
            "or select a finished take"
        )
    names: set[str] = set()
    takes = [
        {
            "shot": str(card.shot.uuid),
            "title": card.shot.title,
            "generation": str(card.take.generation.uuid),
            "video": card.take.generation.video.name,
            "label": card.take.label,
            "file_name": take_file_name(card.take, names),
            "seconds": (card.take.generation.video_info or {}).get("duration"),
        }
        for card in cards
    ]
    with transaction.atomic():
        roughcut = RoughCut.objects.create(sequence=sequence, requested_by=user, takes=takes)
        transaction.on_commit(lambda: current_app.send_task(RENDER, (roughcut.pk,)))
    return roughcut


def roughcut_render(*, roughcut_id: int) -> None:
    """Join the takes; one worker only (the claim), and every failure said on the export."""
    claimed = RoughCut.objects.filter(pk=roughcut_id, state=RoughCut.State.QUEUED).update(
        state=RoughCut.State.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    roughcut = RoughCut.objects.select_related("sequence__project").get(pk=roughcut_id)
    done = {"reported": 0.0}

    def report(fraction: float) -> None:
        if fraction - done["reported"] >= PROGRESS_STEP:
            done["reported"] = fraction
            RoughCut.objects.filter(pk=roughcut.pk).update(
                progress=round(fraction, 3), updated_at=timezone.now()
            )

    try:
        with tempfile.TemporaryDirectory(dir=_work_dir()) as work:
            sources = [_fetched(take, Path(work), n) for n, take in enumerate(roughcut.takes)]
            joined = Path(work) / "roughcut.mp4"
            info, copied = concat.concatenate(
                sources, joined, tags=_tags(roughcut), progress=report
            )
            with open(joined, "rb") as fh:
                roughcut.file.save("roughcut.mp4", File(fh), save=False)
    except (media.MediaError, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        logger.warning("rough cut %s failed: %s", roughcut.uuid, message)
        RoughCut.objects.filter(pk=roughcut.pk).update(
            state=RoughCut.State.FAILED, error=message[:2000], updated_at=timezone.now()
        )
        return
    RoughCut.objects.filter(pk=roughcut.pk).update(
        state=RoughCut.State.SUCCEEDED,
        progress=1.0,
        file=roughcut.file.name,
        copied=copied,
        size_bytes=info.size_bytes,
        seconds=info.duration,
        updated_at=timezone.now(),
    )


def _work_dir() -> Path:
    work = Path(settings.VAR_DIR) / "work"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _fetched(take: dict, work: Path, number: int) -> Path:
    """The take's stored video as a local file (PyAV reads seekable files)."""
    target = work / f"{number:04d}.mp4"
    from_storage = RoughCut._meta.get_field("file").storage
    with from_storage.open(take["video"], "rb") as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    return target


def _tags(roughcut: RoughCut) -> dict[str, str]:
    lines = [
        f"{n}. {take['title']} {take['label']} (ltxweb generation {take['generation']})"
        for n, take in enumerate(roughcut.takes, start=1)
    ]
    tags = {
        "title": roughcut.sequence.title,
        "comment": "\n".join(lines),
        "ltxweb_project": roughcut.sequence.project.name,
        "ltxweb_sequence": str(roughcut.sequence.uuid),
    }
    return {k: v.replace("\x00", "") for k, v in tags.items()}
