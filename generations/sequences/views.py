"""The sequences list and the sequence board: shots in order, edited in place with htmx; the
player, for members and for a guest holding a share link to the sequence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generations.core.access import get_project_for
from generations.core.csvfile import csv_response
from generations.core.media_response import stored_file_response
from generations.core.params import int_param, uuid_param
from generations.jobs.models import Generation, JobState
from generations.jobs.uploads import takes_uploads
from generations.ltx import capabilities
from generations.projects.models import Role
from generations.prompts.services import StaleSave
from generations.review import shares
from generations.review.views import reviews as review_pages
from generations.review.views import shares as guest_pages
from generations.sequences import editorial, roughcut, selectors
from generations.sequences import services as sequences
from generations.sequences.models import RoughCut, Sequence, Shot

EDITORS = (Role.EDITOR,)
# Exporting costs no money: anyone who works on the takes may ask for a rough cut.
EXPORTERS = (Role.EDITOR, Role.PRODUCER, Role.REVIEWER)
COMMENTERS = (Role.EDITOR, Role.PRODUCER, Role.REVIEWER)
CSV_LIMIT_BYTES = 2**20  # a shot list of hundreds of rows is a few kilobytes


def get_sequence_for(request, project_uuid, sequence_uuid, *roles) -> Sequence:
    project = get_project_for(request, project_uuid, *roles)
    return get_object_or_404(Sequence, project=project, uuid=sequence_uuid)


def get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *roles) -> Shot:
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *roles)
    return get_object_or_404(
        Shot.objects.select_related("sequence__project", "prompt__current_version", "frame"),
        sequence=sequence,
        uuid=shot_uuid,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sequence_list(request, project_uuid):
    project = get_project_for(request, project_uuid)
    if request.method == "POST":
        project = get_project_for(request, project_uuid, *EDITORS)
        try:
            sequence = sequences.sequence_create(
                project=project, user=request.user, title=request.POST.get("title", "")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("sequences", project.uuid)
        return redirect("sequence", project.uuid, sequence.uuid)
    return render(
        request,
        "sequences/sequences.html",
        {
            "project": project,
            "sequences": selectors.sequences_of(project=project),
            "can_edit": request.membership.has_role(*EDITORS),
        },
    )


def _board(request, sequence: Sequence, *, error: str = "", status: int = 200, **extra):
    """The board, whole or (for htmx) its shots alone."""
    cards = selectors.board(sequence=sequence)
    context = {
        "project": sequence.project,
        "sequence": sequence,
        "cards": cards,
        "spend": selectors.sequence_spend(cards=cards),
        "roughcuts": list(sequence.roughcuts.select_related("requested_by")[:3]),
        "can_export": request.membership.has_role(*EXPORTERS),
        "can_edit": request.membership.has_role(*EDITORS),
        "can_share": request.membership.has_role(*guest_pages.SHARERS),
        "days": shares.DEFAULT_DAYS,
        "max_days": shares.MAX_DAYS,
        "error": error,
        **extra,
    }
    template = "sequences/sequence_board.html" + ("#board" if request.htmx else "")
    return render(request, template, context, status=status)


def _after_change(request, sequence: Sequence, error: str = "", *, typed=None):
    if request.htmx:
        return _board(request, sequence, error=error, status=422 if error else 200)
    if error and typed:
        # Without htmx a redirect would lose what was typed: the board again, the form filled.
        return _board(request, sequence, error=error, status=422, new_shot=typed)
    if error:
        messages.error(request, error)
    return redirect("sequence", sequence.project.uuid, sequence.uuid)


@login_required
@require_GET
def sequence_board(request, project_uuid, sequence_uuid):
    return _board(request, get_sequence_for(request, project_uuid, sequence_uuid))


@login_required
@require_POST
def sequence_rename(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *EDITORS)
    try:
        sequences.sequence_rename(sequence=sequence, title=request.POST.get("title", ""))
    except ValidationError as exc:
        return _after_change(request, sequence, " ".join(exc.messages))
    return redirect("sequence", sequence.project.uuid, sequence.uuid)


@login_required
@require_POST
def shot_add(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *EDITORS)
    try:
        sequences.shot_add(
            sequence=sequence,
            user=request.user,
            title=request.POST.get("title", ""),
            notes=request.POST.get("notes", ""),
            target_seconds=request.POST.get("target_seconds"),
            prompt_text=request.POST.get("prompt_text", ""),
        )
    except ValidationError as exc:
        return _after_change(request, sequence, " ".join(exc.messages), typed=request.POST)
    return _after_change(request, sequence)


@login_required
@require_POST
def shot_edit(request, project_uuid, sequence_uuid, shot_uuid):
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    try:
        sequences.shot_update(
            shot=shot,
            user=request.user,
            title=request.POST.get("title", ""),
            notes=request.POST.get("notes", ""),
            target_seconds=request.POST.get("target_seconds"),
            prompt_text=request.POST.get("prompt_text", ""),
            prompt_based_on=int_param(request.POST.get("prompt_version")),
        )
    except (ValidationError, StaleSave) as exc:
        # The shot's page again, with what was typed and the refusal under its field.
        shot.refresh_from_db()
        return _shot_page(request, shot, values=request.POST, refusal=exc, status=400)
    return _after_change(request, shot.sequence)


@login_required
@require_POST
def shot_move(request, project_uuid, sequence_uuid, shot_uuid):
    """To a position (`to`, 1 is first: a drop on the board) or one step (`step`, -1 or 1:
    the keyboard and the buttons)."""
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    to = int_param(request.POST.get("to"))
    step = int_param(request.POST.get("step"))
    if to is None and step not in (-1, 1):
        return _after_change(request, shot.sequence, "Say where the shot goes")
    sequences.shot_move(shot=shot, to=to - 1 if to is not None else shot.position + step)
    return _after_change(request, shot.sequence)


def _on_shot(request, project_uuid, sequence_uuid, shot_uuid, change):
    """An editor's change to one shot, and the board after it (or what was wrong)."""
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    try:
        change(shot=shot, user=request.user)
    except ValidationError as exc:
        return _after_change(request, shot.sequence, " ".join(exc.messages))
    return _after_change(request, shot.sequence)


@login_required
@require_POST
def shot_duplicate(request, project_uuid, sequence_uuid, shot_uuid):
    return _on_shot(request, project_uuid, sequence_uuid, shot_uuid, sequences.shot_duplicate)


@login_required
@require_POST
def shot_split(request, project_uuid, sequence_uuid, shot_uuid):
    return _on_shot(request, project_uuid, sequence_uuid, shot_uuid, sequences.shot_split)


@login_required
@require_POST
def shot_delete(request, project_uuid, sequence_uuid, shot_uuid):
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    sequences.shot_delete(shot=shot)
    return _after_change(request, shot.sequence)


@login_required
@require_POST
def shot_select(request, project_uuid, sequence_uuid, shot_uuid):
    """Choose the take for the cut (`take`: its version number; empty: the approved one)."""
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    number = int_param(request.POST.get("take"))
    version = None
    if number is not None:
        version = selectors.shot_takes(shot=shot).filter(number=number).first()
    try:
        if number is not None and version is None:
            raise ValidationError("That take is not one of this shot's")
        sequences.shot_take_select(shot=shot, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("shot", shot.sequence.project.uuid, shot.sequence.uuid, shot.uuid)


@login_required
@require_POST
def shot_continue(request, project_uuid, sequence_uuid, shot_uuid):
    """A new take from the previous shot's last frame (and, `bridge`, to the next one's first)."""
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    try:
        generation = sequences.shot_continue(
            shot=shot, user=request.user, bridge=request.POST.get("bridge") == "1"
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Queued {generation.version.label} of {shot.title}")
    return redirect("shot", shot.sequence.project.uuid, shot.sequence.uuid, shot.uuid)


@takes_uploads
@login_required
@require_POST
def shot_frame(request, project_uuid, sequence_uuid, shot_uuid):
    """Set the storyboard frame (an upload, or `take` + `at_seconds`), clear it (`clear`), or
    make a take from it (`generate`)."""
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid, *EDITORS)
    post = request.POST
    try:
        if post.get("clear"):
            sequences.shot_frame_clear(shot=shot)
        elif post.get("generate"):
            generation = sequences.shot_from_frame(shot=shot, user=request.user)
            messages.success(request, f"Queued {generation.version.label} of {shot.title}")
        else:
            take = None
            if post.get("take"):
                take = get_object_or_404(
                    Generation,
                    project=shot.sequence.project,
                    uuid=uuid_param(post["take"], "take"),
                )
            sequences.shot_frame_set(
                shot=shot,
                user=request.user,
                upload=request.FILES.get("frame"),
                generation=take,
                at_seconds=post.get("at_seconds"),
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("shot", shot.sequence.project.uuid, shot.sequence.uuid, shot.uuid)


@login_required
@require_GET
def shot_frame_image(request, project_uuid, sequence_uuid, shot_uuid):
    shot = get_shot_for(request, project_uuid, sequence_uuid, shot_uuid)
    if shot.frame is None:
        raise Http404("No storyboard frame")
    return stored_file_response(
        request, shot.frame.file, content_type=shot.frame.mime, filename="frame.jpg"
    )


@login_required
@require_GET
def shot_detail(request, project_uuid, sequence_uuid, shot_uuid):
    return _shot_page(request, get_shot_for(request, project_uuid, sequence_uuid, shot_uuid))


def _shot_page(request, shot: Shot, *, values=None, refusal=None, status: int = 200):
    """The shot's page; after a refused edit, the words typed (`values`) kept in its form and
    the refusal under its field, a stale prompt's newest words shown beside them."""
    current = shot.prompt.current_version if shot.prompt else None
    errors: dict[str, list[str]] = {}
    if isinstance(refusal, StaleSave):
        errors["prompt_text"] = [str(refusal)]
    elif refusal is not None:
        raw = refusal.message_dict if hasattr(refusal, "error_dict") else {"": refusal.messages}
        for field, said in raw.items():
            field = field if field in ("title", "target_seconds") else "general"
            errors.setdefault(field, []).extend(said)
    if values is None:
        values = {
            "title": shot.title,
            "target_seconds": shot.target_seconds,
            "prompt_text": current.text if current else "",
            "notes": shot.notes,
        }
    cards = selectors.board(sequence=shot.sequence)
    index = next(n for n, card in enumerate(cards) if card.shot.pk == shot.pk)
    model = shot.prompt.current_version.settings.get("model", "") if shot.prompt else ""
    return render(
        request,
        "sequences/shot.html",
        {
            "project": shot.sequence.project,
            "sequence": shot.sequence,
            "shot": shot,
            "card": cards[index],
            "previous": cards[index - 1] if index > 0 else None,
            "following": cards[index + 1] if index + 1 < len(cards) else None,
            "bridges": capabilities.active().takes_last_frame(model),
            "extend_offered": "extend" in capabilities.active().endpoints,
            "takes": selectors.shot_takes(shot=shot),
            "project_takes": Generation.objects.filter(
                project=shot.sequence.project, state=JobState.SUCCEEDED
            )
            .select_related("version__stack")
            .order_by("-state_changed_at")[:50],
            "can_edit": request.membership.has_role(*EDITORS),
            "can_retake": request.membership.has_role(*review_pages.RETAKERS),
            "values": values,
            "errors": errors,
            # A refused stale save's form is based on the newest version now: saving again,
            # having read it, is deliberate.
            "prompt_current": current,
            "stale": isinstance(refusal, StaleSave),
        },
        status=status,
    )


@takes_uploads
@login_required
@require_POST
def shots_import(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *EDITORS)
    upload = request.FILES.get("shot_list")
    if upload is None:
        return _after_change(request, sequence, "Choose a CSV file of shots")
    if upload.size > CSV_LIMIT_BYTES:
        return _after_change(request, sequence, "A shot list is at most 1 MB")
    try:
        text = upload.read().decode("utf-8-sig")
        added = sequences.shots_import(sequence=sequence, user=request.user, text=text)
    except UnicodeDecodeError:
        return _after_change(request, sequence, "The shot list is not UTF-8 text (save as CSV)")
    except ValidationError as exc:
        return _after_change(request, sequence, "Nothing added: " + "; ".join(exc.messages))
    messages.success(request, f"{len(added)} shot{'s' if len(added) != 1 else ''} added")
    return _after_change(request, sequence)


@login_required
@require_GET
def shots_export(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid)
    return csv_response(
        f"{sequence.uuid}-shots.csv",
        list(sequences.CSV_COLUMNS),
        selectors.shot_list_rows(sequence=sequence),
    )


def _exports(request, sequence: Sequence, *, error: str = "", status: int = 200):
    context = {
        "project": sequence.project,
        "sequence": sequence,
        "roughcuts": list(sequence.roughcuts.select_related("requested_by")[:3]),
        "can_export": request.membership.has_role(*EXPORTERS),
        "export_error": error,
    }
    return render(request, "sequences/sequence_board.html#exports", context, status=status)


@login_required
@require_POST
def roughcut_new(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *EXPORTERS)
    try:
        roughcut.roughcut_request(sequence=sequence, user=request.user)
    except ValidationError as exc:
        if request.htmx:
            return _exports(request, sequence, error=" ".join(exc.messages), status=422)
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _exports(request, sequence)
    return redirect("sequence", sequence.project.uuid, sequence.uuid)


@login_required
@require_GET
def roughcut_list(request, project_uuid, sequence_uuid):
    """The exports section alone: polled while a rough cut is being joined."""
    return _exports(request, get_sequence_for(request, project_uuid, sequence_uuid))


@login_required
@require_GET
def roughcut_download(request, project_uuid, sequence_uuid, roughcut_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid)
    cut = get_object_or_404(
        RoughCut, sequence=sequence, uuid=roughcut_uuid, state=RoughCut.State.SUCCEEDED
    )
    return stored_file_response(
        request,
        cut.file,
        content_type="video/mp4",
        filename=f"{slugify(sequence.title) or 'sequence'}-rough-cut.mp4",
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_GET
def sequence_timeline(request, project_uuid, sequence_uuid, fmt):
    """The sequence as an editor's timeline: OpenTimelineIO (`otio`) or a CMX 3600 EDL."""
    sequence = get_sequence_for(request, project_uuid, sequence_uuid)
    try:
        result = editorial.timeline(sequence=sequence, cards=selectors.board(sequence=sequence))
    except editorial.Refusal as refusal:
        messages.error(request, refusal.message)
        return redirect("sequence", sequence.project.uuid, sequence.uuid)
    if fmt == "otio":
        text, content_type = editorial.otio_json(result), "application/json"
    else:
        text, content_type = editorial.cmx_edl(result), "text/plain; charset=utf-8"
    response = HttpResponse(text, content_type=content_type)
    stem = slugify(sequence.title) or "sequence"
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


def _player(request, sequence: Sequence, *, link=None, token="", errors=None, status=200):
    """The takes of the cut on one timeline; with `link` (opened by `token`), as its guest
    sees it: only the comments left through that link, and the media through its URLs."""
    segments, left_out = selectors.playlist(cards=selectors.board(sequence=sequence))
    context = {
        "project": sequence.project,
        "sequence": sequence,
        "segments": segments,
        "left_out": left_out,
        "total": segments[-1].end if segments else 0,
        "threads": selectors.sequence_comments(segments=segments, share_link=link),
        "can_comment": link is not None or request.membership.has_role(*COMMENTERS),
        "link": link,
        "token": token,
        "guest_name": request.session.get(guest_pages.GUEST_NAME_KEY, "") if link else "",
        "errors": errors or {},
        # A refused comment's form comes back with what was typed in it.
        "values": request.POST if errors else {},
    }
    template = "sequences/sequence_play.html" + ("#comments" if request.htmx else "")
    response = render(request, template, context, status=status)
    return guest_pages.private_response(response) if link else response


@login_required
@require_GET
def sequence_play(request, project_uuid, sequence_uuid):
    """The takes in order on one timeline, with every take's comments on it."""
    return _player(request, get_sequence_for(request, project_uuid, sequence_uuid))


def _comment_errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}


@login_required
@require_POST
def sequence_comment(request, project_uuid, sequence_uuid):
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *COMMENTERS)
    try:
        sequences.sequence_comment_add(
            sequence=sequence,
            author=request.user,
            body=request.POST.get("body", ""),
            at_seconds=request.POST.get("at_seconds"),
            end_seconds=request.POST.get("end_seconds"),
        )
    except ValidationError as exc:
        errors = _comment_errors(exc)
        return _player(request, sequence, errors=errors, status=422 if request.htmx else 400)
    if request.htmx:
        return _player(request, sequence)
    return redirect("sequence_play", sequence.project.uuid, sequence.uuid)


@login_required
@require_POST
def sequence_share(request, project_uuid, sequence_uuid):
    """A guest link to the sequence's cut, made by those who share stacks; it is listed and
    revoked with the project's other links."""
    sequence = get_sequence_for(request, project_uuid, sequence_uuid, *guest_pages.SHARERS)
    post = request.POST
    try:
        link, token = shares.share_create(
            project=sequence.project,
            user=request.user,
            label=post.get("label", ""),
            days=post.get("days", shares.DEFAULT_DAYS),
            password=post.get("password", ""),
            sequence=sequence,
        )
    except ValidationError as exc:
        return _board(request, sequence, status=400, share_errors=exc.messages, values=post)
    # The link is shown this once: only its hash is kept.
    url = request.build_absolute_uri(reverse("share", args=[token]))
    return _board(request, sequence, status=201, new_link=link, new_url=url)


def _sequence_link(request, share_token):
    """The link a guest holds, if it is a sequence's: any other link has no page here."""
    link = guest_pages.guest_link(request, share_token)
    if link.sequence_id is None:
        raise Http404("Not a sequence's link")
    return link


@require_GET
def share_sequence(request, share_token):
    """A guest plays the sequence's cut as it stands now (a take chosen since shows instead)."""
    link = _sequence_link(request, share_token)
    gate = guest_pages.guest_gate(request, link, share_token)
    if gate is not None:
        return gate
    return _player(request, link.sequence, link=link, token=share_token)


@require_POST
def share_sequence_comment(request, share_token):
    """A guest's comment on the timeline lands, as a member's does, on the take and frame
    under it, marked as written through this link."""
    link = _sequence_link(request, share_token)
    if not guest_pages.guest_may_open(request, link):
        return redirect("share", share_token=share_token)
    post = request.POST
    try:
        comment = sequences.sequence_comment_add(
            sequence=link.sequence,
            share_link=link,
            guest_name=post.get("guest_name", "")
            or request.session.get(guest_pages.GUEST_NAME_KEY, ""),
            body=post.get("body", ""),
            at_seconds=post.get("at_seconds"),
            end_seconds=post.get("end_seconds"),
        )
    except ValidationError as exc:
        return _player(
            request,
            link.sequence,
            link=link,
            token=share_token,
            errors=_comment_errors(exc),
            status=422 if request.htmx else 400,
        )
    request.session[guest_pages.GUEST_NAME_KEY] = comment.guest_name
    if request.htmx:
        return _player(request, link.sequence, link=link, token=share_token)
    return redirect("share_sequence", share_token=share_token)


@require_GET
def share_sequence_video(request, share_token, generation_uuid):
    """A take's video for the guest, only while it is in the sequence's cut: a take since
    replaced, or any other video of the project, is a 404."""
    link = _sequence_link(request, share_token)
    if not guest_pages.guest_may_open(request, link):
        raise Http404("Not available")
    take = selectors.cut_take(sequence=link.sequence, generation_uuid=generation_uuid)
    if take is None:
        raise Http404("Not in this sequence's cut")
    response = stored_file_response(
        request, take.generation.video, content_type="video/mp4", filename=f"{take.label}.mp4"
    )
    return guest_pages.private_response(response)
