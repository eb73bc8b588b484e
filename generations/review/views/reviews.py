"""Reviewing videos: the reviewer's queue, a version's review page, decisions."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.core.params import int_param, uuid_param
from generations.jobs.models import Generation
from generations.projects.models import Role
from generations.review import comments, stacks
from generations.review import selectors as selectors_reviews
from generations.review import services as reviews
from generations.review.models import ReviewState, Stack, Version

DECIDERS = (Role.REVIEWER,)
COMMENTERS = (Role.EDITOR, Role.PRODUCER, Role.REVIEWER)
# A retake is paid for: the people who generate (editors) and reviewers, who ask for them.
RETAKERS = (Role.EDITOR, Role.REVIEWER)
QUEUE_FILTERS = ("project", "prompt")


def get_version_for(request, project_uuid, generation_uuid, *roles) -> Version:
    project = get_project_for(request, project_uuid, *roles)
    generation = get_object_or_404(Generation, project=project, uuid=generation_uuid)
    try:
        return selectors_reviews.version_for_generation(generation=generation)
    except Version.DoesNotExist:
        raise Http404("This video is in no version stack") from None


def _queue_filters(data) -> dict[str, str]:
    filters = {key: data.get(key, "").strip() for key in QUEUE_FILTERS if data.get(key, "").strip()}
    uuid_param(filters.get("project"), "project")
    return filters


def _queue(request, filters):
    projects = selectors_reviews.projects_deciding(user=request.user)
    return projects, selectors_reviews.review_queue(
        projects=projects, project_uuid=filters.get("project", ""), prompt=filters.get("prompt", "")
    )


def review_url(version: Version, filters: dict | None = None) -> str:
    url = reverse("review", args=[version.stack.project.uuid, version.generation.uuid])
    if filters is not None:
        url += "?" + urlencode({"queue": "1", **filters})
    return url


@login_required
@require_GET
def review_queue(request):
    """Every finished video waiting for this person's decision, across their projects."""
    filters = _queue_filters(request.GET)
    projects, queue = _queue(request, filters)
    if filters.get("project") and not any(str(p.uuid) == filters["project"] for p in projects):
        filters.pop("project")  # not one of theirs: show the whole queue instead
        projects, queue = _queue(request, filters)
    versions = list(queue[:200])
    return render(
        request,
        "review/review_queue.html",
        {
            "projects": projects,
            "versions": versions,
            "filters": filters,
            # The empty queue's next step: that project's gallery, where its takes are made.
            "chosen_project": next(
                (p for p in projects if str(p.uuid) == filters.get("project")), None
            ),
            "first_url": review_url(versions[0], filters) if versions else "",
            "query": urlencode({"queue": "1", **filters}),
        },
    )


@login_required
@require_GET
def review(request, project_uuid, generation_uuid):
    return _review_page(request, get_version_for(request, project_uuid, generation_uuid))


def _review_page(request, version: Version, *, status: int = 200, **extra):
    in_queue = request.GET.get("queue") == "1"
    filters = _queue_filters(request.GET)
    next_url = ""
    if in_queue:
        _, queue = _queue(request, filters)
        following = selectors_reviews.queue_next(queue=queue, after=version)
        next_url = review_url(following, filters) if following else reverse("review_queue")
    return render(
        request,
        "review/review_version.html",
        {
            **_comments_context(request, version),
            "stack": version.stack,
            "versions": selectors_reviews.stack_versions(stack=version.stack),
            "decisions": selectors_reviews.version_decisions(version=version),
            "can_decide": request.membership.has_role(*DECIDERS),
            "reviewable": version.generation.state == "succeeded",
            "in_queue": in_queue,
            "queue_query": urlencode({"queue": "1", **filters}) if in_queue else "",
            "next_url": next_url,
            "states": ReviewState,
            "retake_section": stacks.retake_range(version),
            **extra,
        },
        status=status,
    )


@login_required
@require_POST
def review_decide(request, project_uuid, generation_uuid):
    version = get_version_for(request, project_uuid, generation_uuid, *DECIDERS)
    in_queue = request.POST.get("queue") == "1"
    filters = _queue_filters(request.POST)
    try:
        decision = reviews.review_decide(
            version=version,
            reviewer=request.user,
            state=request.POST.get("state", ""),
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(review_url(version, filters if in_queue else None))
    decided = decision.get_state_display().lower()
    messages.success(request, f"{version.stack.title} {version.label}: {decided}")
    if in_queue:
        _, queue = _queue(request, filters)
        following = selectors_reviews.queue_next(queue=queue, after=version)
        if following is None:
            messages.info(request, "The queue is empty: nothing else waits for your decision")
            return redirect("review_queue")
        return redirect(review_url(following, filters))
    return redirect(review_url(version))


def _comments_context(request, version: Version, **extra) -> dict:
    return {
        "project": version.stack.project,
        "version": version,
        "generation": version.generation,
        "comments": selectors_reviews.version_comments(version=version),
        "can_comment": request.membership.has_role(*COMMENTERS),
        "can_retake": request.membership.has_role(*RETAKERS),
        **extra,
    }


def _comments_response(request, version: Version, *, errors=None, comment=None):
    """The comment list alone for htmx (the form stays as typed on an error); otherwise
    back to the review page, at the comment, or (refused) the page again with the form as
    typed: a redirect would lose it."""
    if request.htmx:
        context = _comments_context(request, version, comment_errors=errors or {})
        return render(request, "review/review_version.html#comments", context)
    if errors:
        return _review_page(request, version, status=422, comment_errors=errors, typed=request.POST)
    url = review_url(version)
    return redirect(url + (f"#comment-{comment.pk}" if comment else "#comments"))


@login_required
@require_POST
def comment_add(request, project_uuid, generation_uuid):
    version = get_version_for(request, project_uuid, generation_uuid, *COMMENTERS)
    post = request.POST
    parent = None
    if post.get("parent"):
        parent = get_object_or_404(version.comments, pk=int_param(post["parent"], 0))
    try:
        comment = comments.comment_add(
            version=version,
            author=request.user,
            body=post.get("body", ""),
            start_seconds=post.get("start_seconds"),
            end_seconds=post.get("end_seconds"),
            parent=parent,
            drawing=post.get("drawing"),
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        return _comments_response(request, version, errors=errors)
    return _comments_response(request, version, comment=comment)


@login_required
@require_POST
def comment_resolve(request, project_uuid, generation_uuid, comment_id):
    version = get_version_for(request, project_uuid, generation_uuid, *COMMENTERS)
    comment = get_object_or_404(version.comments, pk=comment_id)
    comment = comments.comment_resolve(
        comment=comment, user=request.user, resolved=request.POST.get("resolved") != "0"
    )
    return _comments_response(request, version, comment=comment)


def get_stack_for(request, project_uuid, stack_uuid, *roles) -> Stack:
    project = get_project_for(request, project_uuid, *roles)
    return get_object_or_404(
        Stack.objects.select_related("project", "prompt"), project=project, uuid=stack_uuid
    )


@login_required
@require_GET
def stack_detail(request, project_uuid, stack_uuid):
    stack = get_stack_for(request, project_uuid, stack_uuid)
    versions = list(selectors_reviews.stack_versions(stack=stack))
    return render(
        request,
        "review/review_stack.html",
        {"project": stack.project, "stack": stack, "versions": versions},
    )


@login_required
@require_GET
def stack_compare(request, project_uuid, stack_uuid):
    """Two versions side by side, played in sync, with what differs between them."""
    stack = get_stack_for(request, project_uuid, stack_uuid)
    versions = {v.number: v for v in selectors_reviews.stack_versions(stack=stack)}
    newest = max(versions)
    b = versions.get(int_param(request.GET.get("b"), newest)) or versions[newest]
    default_a = b.retake_of.number if b.retake_of_id else max(b.number - 1, 1)
    a = versions.get(int_param(request.GET.get("a"), default_a)) or versions[default_a]
    # Said, not silently swapped: a version asked for that the stack has not, or one version
    # compared with itself.
    notices = [
        f"This stack has no v{asked}: {shown.label} is shown instead."
        for asked, shown in (
            (int_param(request.GET.get("a")), a),
            (int_param(request.GET.get("b")), b),
        )
        if asked is not None and asked != shown.number
    ]
    if a.pk == b.pk and len(versions) > 1:
        notices.append(f"{a.label} is compared with itself: choose another version on one side.")
    comparison = selectors_reviews.versions_compare(a=a, b=b)
    return render(
        request,
        "review/review_compare.html",
        {
            "project": stack.project,
            "stack": stack,
            "a": a,
            "b": b,
            "pair": (a, b),
            "versions": sorted(versions.values(), key=lambda v: v.number),
            "comparison": comparison,
            "notices": notices,
        },
    )
