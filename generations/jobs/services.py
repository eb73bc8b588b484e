"""Generation jobs: submit, the state machine, and what a worker does with a claimed job. A job
is claimed with a conditional update (QUEUED -> SUBMITTING) and every attempt is recorded before
its request is sent, so a redelivered message or a second worker never calls the API twice."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generations.core.activity import activity_record
from generations.jobs import queue
from generations.jobs.models import ACTIVE_STATES, Generation, GenerationEvent, JobState, MediaAsset
from generations.ltx import pricing, rules
from generations.ltx.schemas import NotOffered, validate_request
from generations.projects.models import Project
from generations.review import notifications, stacks
from generations.spend import services as spend
from generations.spend.prices import price_list_on, price_refusal

WORKER = f"{socket.gethostname()}:{os.getpid()}"
ASSET_FIELDS = {
    "image_uri": "image",
    "last_frame_uri": "last_image",
    "audio_uri": "audio",
    "video_uri": "source_video",
}
# Endpoints priced by the length of an input, and that input (extend: by the seconds it adds).
BILLED_BY_INPUT = {rules.AUDIO_TO_VIDEO: "audio", rules.RETAKE: "source_video"}
# Endpoints whose prompt describes a part of their source video, not the shot.
ON_A_VIDEO = (rules.RETAKE, rules.EXTEND)


def _placeholder_payload(params: dict, assets: dict) -> dict:
    """The payload as it will be sent, with a stand-in URI where an asset will be uploaded."""
    payload = {k: v for k, v in params.items() if k not in ASSET_FIELDS}
    for field, attribute in ASSET_FIELDS.items():
        if assets.get(attribute) is not None:
            payload[field] = "ltx://uploads/pending"
    return payload


def job_estimate(*, endpoint: str, params: dict, assets: dict) -> tuple[dict, Decimal]:
    """Validate as the API would and estimate the cost. Raises ValidationError."""
    try:
        validated = validate_request(endpoint, _placeholder_payload(params, assets))
        if endpoint == rules.RETAKE:
            info = assets["source_video"].info
            rules.check_retake_video(
                width=info["width"],
                height=info["height"],
                duration=info["duration"],
                frames=info["frames"],
            )
        if endpoint == rules.EXTEND:
            info = assets["source_video"].info
            rules.check_extend(
                width=info["width"],
                height=info["height"],
                fps=info["fps"],
                frames=info["frames"],
                duration=validated["duration"],
                context=validated.get("context"),
            )
        billed = BILLED_BY_INPUT.get(endpoint)
        input_seconds = assets[billed].info["duration"] if billed else None
    except rules.RequestInvalid as exc:
        raise ValidationError({exc.field or "__all__": exc.message}) from None
    except NotOffered as exc:
        raise ValidationError({"endpoint": str(exc)}) from None
    except (KeyError, TypeError):
        raise ValidationError("This endpoint needs its input file") from None
    prices = price_list_on()
    if refusal := price_refusal(endpoint=endpoint, payload=validated, prices=prices):
        raise ValidationError({"model": refusal})
    params = {k: v for k, v in validated.items() if k not in ASSET_FIELDS}
    estimate = pricing.estimate_cost(
        endpoint, validated, input_seconds=input_seconds, prices=prices
    )
    return params, estimate


def wording_edited(*, prompt_version, endpoint: str, params: dict) -> bool:
    """Whether a job sends words other than its prompt version's. A retake's (an extend's)
    prompt describes its range, not the shot: its version is the source's, never edited."""
    return (
        prompt_version is not None
        and endpoint not in ON_A_VIDEO
        and not prompt_version.words_are(params.get("prompt", ""))
    )


def job_submit(
    *,
    project: Project,
    user,
    endpoint: str,
    params: dict,
    prompt_version=None,
    image: MediaAsset | None = None,
    last_image: MediaAsset | None = None,
    audio: MediaAsset | None = None,
    source_video: MediaAsset | None = None,
    batch=None,
    requested_in=None,
) -> Generation:
    """Validate, estimate, reserve and queue one job; it joins its version stack (a retake
    from a timeline comment links to that comment as `requested_in`)."""
    assets = {
        "image": image,
        "last_image": last_image,
        "audio": audio,
        "source_video": source_video,
    }
    for asset in assets.values():
        if asset is not None and asset.project_id != project.pk:
            raise ValidationError("An input file belongs to another project")
    params, estimate = job_estimate(endpoint=endpoint, params=params, assets=assets)
    edited = wording_edited(prompt_version=prompt_version, endpoint=endpoint, params=params)
    spend.policy_check(  # costly settings may need an approved prompt version, as approved
        project=project,
        prompt_version=prompt_version,
        endpoint=endpoint,
        params=params,
        wording_edited=edited,
    )
    # Queued, or waiting for a producer when the estimate is above the approval amount.
    state = spend.state_on_submit(project=project, user=user, estimate=estimate)
    with transaction.atomic():
        generation = Generation.objects.create(
            project=project,
            prompt_version=prompt_version,
            wording_edited=edited,
            requested_by=user,
            endpoint=endpoint,
            params=params,
            estimated_cost=estimate,
            batch=batch,
            state=state,
            **assets,
        )
        GenerationEvent.objects.create(
            generation=generation, to_state=state, actor=user, reason="submitted"
        )
        stacks.version_place(generation=generation, requested_in=requested_in)
        spend.job_reserve(generation=generation, user=user)  # refused if over the budget
        activity_record(
            project=project,
            actor=user,
            verb="generation_submitted",
            summary=f"submitted a {generation.get_endpoint_display().lower()} job "
            f"({estimate} USD estimated)",
            prompt=prompt_version.prompt if prompt_version else None,
            generation=generation,
        )
        if state == JobState.QUEUED:
            queue.run_send_on_commit(generation.pk, generation.message_due_at)
        else:
            spend.approval_requested(generation=generation, user=user)
            notifications.approval_waiting(generation=generation, actor=user)
    return generation


def job_submit_batch(*, variations: list[dict], **common) -> list[Generation]:
    """Variations of one request, each its own job, all or none."""
    if not variations:
        raise ValidationError("Choose at least one variation")
    assets = {key: common.get(key) for key in ASSET_FIELDS.values()}
    estimates = [
        job_estimate(endpoint=common["endpoint"], params=params, assets=assets)[1]
        for params in variations
    ]
    spend.budget_check(project=common["project"], amount=sum(estimates), jobs=len(estimates))
    batch = uuid.uuid4()
    with transaction.atomic():
        return [job_submit(params=params, batch=batch, **common) for params in variations]


def job_move(
    generation: Generation, *, to: str, sources, actor=None, reason: str = "", **fields
) -> bool:
    """Move a job from one of `sources` to `to` if nobody moved it first; record why."""
    now = timezone.now()
    updated = Generation.objects.filter(pk=generation.pk, state__in=list(sources)).update(
        state=to, state_changed_at=now, updated_at=now, **fields
    )
    if not updated:
        return False
    from_state = generation.state
    generation.refresh_from_db()
    GenerationEvent.objects.create(
        generation=generation, from_state=from_state, to_state=to, actor=actor, reason=reason[:500]
    )
    spend.job_moved(generation=generation, actor=actor)  # settles the money of an ended job
    return True


def job_claim(*, generation: Generation) -> bool:
    return job_move(
        generation,
        to=JobState.SUBMITTING,
        sources=[JobState.QUEUED],
        # Which worker is on the attempt, for operators; the history people read says no host.
        reason="picked up by a worker",
        attempt_count=F("attempt_count") + 1,
        heartbeat_at=timezone.now(),  # its worker's first sign of life; its heartbeat follows
    )


def job_cancel(*, generation: Generation, user) -> bool:
    """Only a queued (or waiting) job can be cancelled: once sent, the API is making (and
    billing) it."""
    return job_move(
        generation,
        to=JobState.CANCELLED,
        sources=[JobState.QUEUED, JobState.PENDING_APPROVAL],
        actor=user,
        reason="cancelled",
    )


def job_retry(*, generation: Generation, user) -> bool:
    """Send an interrupted or failed job again (the person was told what it may cost). It
    reserves its estimate again: ValidationError when the budget cannot cover it."""
    with transaction.atomic():
        moved = job_move(
            generation,
            to=JobState.QUEUED,
            sources=[JobState.INTERRUPTED, JobState.FAILED],
            actor=user,
            reason="retry requested",
            error_type="",
            error_message="",
            not_before=None,
        )
        if moved:
            spend.job_reserve(generation=generation, user=user, reason="retry")
    if moved:
        transaction.on_commit(lambda: queue.run_schedule(generation.pk))
    return moved


def job_rerun(*, generation: Generation, user) -> Generation:
    """A new job with the same parameters and inputs."""
    return job_submit(
        project=generation.project,
        user=user,
        endpoint=generation.endpoint,
        params=generation.params,
        prompt_version=generation.prompt_version,
        image=generation.image,
        last_image=generation.last_image,
        audio=generation.audio,
        source_video=generation.source_video,
    )


def job_approve(*, generation: Generation, user) -> bool:
    """A producer lets a waiting job run: it joins the queue with its reservation."""
    with transaction.atomic():
        moved = job_move(
            generation,
            to=JobState.QUEUED,
            sources=[JobState.PENDING_APPROVAL],
            actor=user,
            reason="approved by a producer",
        )
        if moved:
            transaction.on_commit(lambda: queue.run_schedule(generation.pk))
            activity_record(
                project=generation.project,
                actor=user,
                verb="approval_given",
                summary=f"approved {_whose(generation)} job of "
                f"{spend.money(generation.estimated_cost)}",
                generation=generation,
            )
            notifications.approval_decided(generation=generation, actor=user, approved=True)
    return moved


def job_decline(*, generation: Generation, user, reason: str = "") -> bool:
    """A producer refuses a waiting job: it ends, and its reservation is released."""
    reason = reason.strip()[:300]
    with transaction.atomic():
        moved = job_move(
            generation,
            to=JobState.DECLINED,
            sources=[JobState.PENDING_APPROVAL],
            actor=user,
            reason="declined by a producer" + (f": {reason}" if reason else ""),
            error_type="declined",
            error_message="A producer declined this job" + (f": {reason}" if reason else "."),
        )
        if moved:
            activity_record(
                project=generation.project,
                actor=user,
                verb="approval_declined",
                summary=f"declined {_whose(generation)} job of "
                f"{spend.money(generation.estimated_cost)}" + (f": {reason}" if reason else ""),
                generation=generation,
            )
            notifications.approval_decided(
                generation=generation, actor=user, approved=False, reason=reason
            )
    return moved


def _whose(generation: Generation) -> str:
    person = generation.requested_by
    return f"{person.get_username()}'s" if person else "a"


def job_requeue(generation: Generation, *, delay: float, reason: str) -> None:
    not_before = timezone.now() + dt.timedelta(seconds=delay)
    if job_move(
        generation,
        to=JobState.QUEUED,
        sources=[JobState.SUBMITTING, JobState.GENERATING],
        reason=reason,
        not_before=not_before,
    ):
        queue.run_schedule(generation.pk, countdown=delay)


def job_finish(generation: Generation, *, to: str, reason: str, **fields) -> None:
    job_move(generation, to=to, sources=ACTIVE_STATES, reason=reason, **fields)
