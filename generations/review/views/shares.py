"""Share links: made and revoked by the team; opened by guests without an account, who see
only the finished versions the link covers and the comments left through it. Guest pages are
never cached, indexed, or sent on as a referrer (the token is in the URL). The gate a guest
passes (`guest_link`, `guest_gate`, `guest_may_open`, `private_response`) is public: the
sequences room's player of a sequence's link goes through the same one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from generations.core import ratelimit
from generations.core.access import get_project_for
from generations.core.media_response import stored_file_response
from generations.core.params import uuid_param
from generations.projects.models import Role
from generations.review import comments, shares
from generations.review import selectors as selectors_reviews
from generations.review.models import ShareLink, Stack, TimelineComment, Version

SHARERS = (Role.REVIEWER, Role.PRODUCER)
GUEST_SESSION_KEY = "share_links_unlocked"
GUEST_NAME_KEY = "share_guest_name"


def _shares_page(request, project, status=200, **extra):
    links = (
        ShareLink.objects.filter(project=project)
        .select_related("stack", "sequence", "created_by")
        .prefetch_related("versions__stack")
    )
    context = {
        "project": project,
        "links": links,
        "now": timezone.now(),
        "stacks": Stack.objects.filter(project=project).select_related("newest"),
        "versions": Version.objects.filter(stack__project=project, generation__state="succeeded")
        .select_related("stack")
        .order_by("stack__title", "number"),
        "chosen_stack": request.GET.get("stack", ""),
        "days": shares.DEFAULT_DAYS,
        "max_days": shares.MAX_DAYS,
        **extra,
    }
    return render(request, "review/review_shares.html", context, status=status)


@login_required
@require_GET
def share_list(request, project_uuid):
    project = get_project_for(request, project_uuid, *SHARERS)
    return _shares_page(request, project)


@login_required
@require_POST
def share_new(request, project_uuid):
    project = get_project_for(request, project_uuid, *SHARERS)
    post = request.POST
    stack = None
    if post.get("stack"):
        stack = get_object_or_404(Stack, project=project, uuid=uuid_param(post["stack"], "stack"))
    versions = Version.objects.filter(
        stack__project=project,
        generation__uuid__in=[uuid_param(v, "video") for v in post.getlist("versions")],
    ).select_related("stack")
    try:
        link, token = shares.share_create(
            project=project,
            user=request.user,
            label=post.get("label", ""),
            days=post.get("days", shares.DEFAULT_DAYS),
            password=post.get("password", ""),
            stack=stack,
            versions=versions,
        )
    except ValidationError as exc:
        return _shares_page(request, project, 400, errors=exc.messages, values=post)
    # The link is shown this once: only its hash is kept.
    url = request.build_absolute_uri(reverse("share", args=[token]))
    return _shares_page(request, project, 201, new_link=link, new_url=url)


@login_required
@require_POST
def share_revoke(request, project_uuid, link_id):
    project = get_project_for(request, project_uuid, *SHARERS)
    link = get_object_or_404(ShareLink, project=project, pk=link_id)
    shares.share_revoke(link=link, user=request.user)
    messages.success(request, f"Revoked: {link.label} no longer opens")
    return redirect("shares", project_uuid=project.uuid)


def private_response(response):
    """A guest's page: never cached, indexed, or its URL (the token) sent on."""
    response["Cache-Control"] = "private, no-store"
    # Same-origin only: the token never leaves as a referrer, and forms keep their Origin.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _closed(request, link: ShareLink):
    reason = "was revoked" if link.revoked_at else "has expired"
    return private_response(
        render(request, "review/share_closed.html", {"reason": reason}, status=410)
    )


def _password_page(request, share_token, error: str = "", status: int = 200):
    context = {"token": share_token, "error": error}
    return private_response(render(request, "review/share_password.html", context, status=status))


def guest_link(request, share_token) -> ShareLink:
    """The link a token opens, open or not; no such link is a 404."""
    link = shares.share_find(token=share_token)
    if link is None:
        raise Http404("No such link")
    return link


def _unlocked(request, link: ShareLink) -> bool:
    return not link.has_password or link.pk in request.session.get(GUEST_SESSION_KEY, [])


def guest_may_open(request, link: ShareLink) -> bool:
    """Whether this guest sees what the link covers: it is open, and unlocked if it must be."""
    return link.is_open(timezone.now()) and _unlocked(request, link)


def guest_gate(request, link: ShareLink, share_token):
    """The page a guest gets instead of the link's own (it closed, or it asks for its
    password), or None when they may go in."""
    if not link.is_open(timezone.now()):
        return _closed(request, link)
    if not _unlocked(request, link):
        return _password_page(request, share_token)
    return None


def _guest_version(request, share_token, generation_uuid):
    """The link and one version it covers, or None for the caller to answer with."""
    link = guest_link(request, share_token)
    if not guest_may_open(request, link):
        return link, None
    version = shares.share_versions(link=link).filter(generation__uuid=generation_uuid).first()
    if version is None:
        raise Http404("Not in this link")
    return link, version


@require_GET
def share(request, share_token):
    link = guest_link(request, share_token)
    gate = guest_gate(request, link, share_token)
    if gate is not None:
        return gate
    if link.sequence_id is not None:
        # A sequence plays in its own room's player (that room calls this one, not back).
        return private_response(redirect("share_sequence", share_token=share_token))
    context = {"link": link, "token": share_token, "versions": shares.share_versions(link=link)}
    return private_response(render(request, "review/share.html", context))


@require_POST
def share_unlock(request, share_token):
    link = guest_link(request, share_token)
    if not link.is_open(timezone.now()):
        return _closed(request, link)
    address = ratelimit.client_address(request)
    try:
        right = shares.share_password_check(
            link=link, password=request.POST.get("password", ""), address=address
        )
    except shares.TooManyTries as exc:
        error = f"Too many tries: wait {max(1, round(exc.wait / 60))} minutes"
        response = _password_page(request, share_token, error, 429)
        response["Retry-After"] = str(exc.wait)
        return response
    if not right:
        return _password_page(request, share_token, "That is not the password", 403)
    request.session.cycle_key()  # a new session id for the newly granted access
    request.session[GUEST_SESSION_KEY] = [*request.session.get(GUEST_SESSION_KEY, []), link.pk]
    return redirect("share", share_token=share_token)


def _guest_context(request, link, token, version, **extra):
    return {
        "link": link,
        "token": token,
        "version": version,
        "generation": version.generation,
        "comments": selectors_reviews.version_comments(version=version, share_link=link),
        "guest_name": request.session.get(GUEST_NAME_KEY, ""),
        **extra,
    }


@require_GET
def share_version(request, share_token, generation_uuid):
    link, version = _guest_version(request, share_token, generation_uuid)
    if version is None:
        return redirect("share", share_token=share_token)
    context = _guest_context(request, link, share_token, version)
    return private_response(render(request, "review/share_version.html", context))


def _guest_file(request, share_token, generation_uuid, field: str, content_type: str, ext=""):
    """A version's video or poster; with `ext`, downloaded under the version's label."""
    link, version = _guest_version(request, share_token, generation_uuid)
    if version is None:
        raise Http404("Not available")
    name = f"{version.label}{ext}" if ext else None
    file = getattr(version.generation, field)
    return private_response(
        stored_file_response(request, file, content_type=content_type, filename=name)
    )


@require_GET
def share_video(request, share_token, generation_uuid):
    return _guest_file(request, share_token, generation_uuid, "video", "video/mp4", ".mp4")


@require_GET
def share_poster(request, share_token, generation_uuid):
    return _guest_file(request, share_token, generation_uuid, "poster", "image/jpeg")


@require_POST
def share_comment(request, share_token, generation_uuid):
    """A guest's timeline comment (or reply in a thread of their link)."""
    link, version = _guest_version(request, share_token, generation_uuid)
    if version is None:
        return redirect("share", share_token=share_token)
    post = request.POST
    parent = None
    if post.get("parent"):
        parent = get_object_or_404(
            TimelineComment,
            version=version,
            share_link=link,
            pk=post["parent"] if post["parent"].isdigit() else 0,
        )
    guest_name = post.get("guest_name", "") or request.session.get(GUEST_NAME_KEY, "")
    errors = None
    try:
        comment = comments.comment_add(
            version=version,
            body=post.get("body", ""),
            start_seconds=post.get("start_seconds"),
            end_seconds=post.get("end_seconds"),
            parent=parent,
            drawing=post.get("drawing"),
            share_link=link,
            guest_name=guest_name,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
    else:
        request.session[GUEST_NAME_KEY] = comment.guest_name
        if not request.htmx:
            url = reverse("share_version", args=[share_token, version.generation.uuid])
            return redirect(f"{url}#comment-{comment.pk}")
    context = _guest_context(request, link, share_token, version, comment_errors=errors or {})
    template = "review/share_version.html" + ("#comments" if request.htmx else "")
    status = 400 if errors and not request.htmx else 200
    return private_response(render(request, template, context, status=status))
