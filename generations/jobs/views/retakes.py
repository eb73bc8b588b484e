"""A retake asked for in a timeline comment. It lives with the jobs because it makes one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from generations.jobs import retakes
from generations.ltx import rules
from generations.review.views.reviews import RETAKERS, get_version_for, review_url


@login_required
@require_http_methods(["GET", "POST"])
def comment_retake(request, project_uuid, generation_uuid, comment_id):
    """The retake a range comment asks for, prefilled; sent when the reviewer confirms."""
    version = get_version_for(request, project_uuid, generation_uuid, *RETAKERS)
    comment = get_object_or_404(
        version.comments.select_related("author"), pk=comment_id, parent__isnull=True
    )
    posted = request.method == "POST"
    data = request.POST if posted else {"mode": request.GET.get("mode")}
    error = ""
    try:
        plan = retakes.retake_plan(
            comment=comment,
            **{k: data.get(k) for k in ("start_time", "duration", "prompt", "mode")},
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
        plan = retakes.retake_plan(comment=comment)
    if posted and not error:
        try:
            retake = retakes.retake_from_comment(
                comment=comment,
                user=request.user,
                start_time=plan.start_time,
                duration=plan.duration,
                prompt=plan.prompt,
                mode=plan.mode,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            waits = retake.state == "pending_approval"
            messages.success(
                request,
                f"Retake queued as {retake.version.label} of {version.stack.title} "
                f"({retake.estimated_cost} USD estimated)"
                + ("; it waits for a producer's approval" if waits else ""),
            )
            return redirect(review_url(retake.version))
    return render(
        request,
        "jobs/review_retake.html",
        {
            "project": version.stack.project,
            "version": version,
            "generation": version.generation,
            "comment": comment,
            "plan": plan,
            "modes": rules.RETAKE_MODES,
            "minimum": rules.RETAKE_MIN_SECTION_SECONDS,
            "error": error,
            # Retakes already asked from this comment: another one is paid for again.
            "earlier": comment.retakes.select_related("generation").order_by("number"),
        },
        status=400 if error and posted else 200,
    )
