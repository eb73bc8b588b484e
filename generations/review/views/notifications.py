"""A person's notifications: the list, the unread count htmx refreshes, email per project."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from generations.core.access import get_project_for
from generations.projects import selectors as project_selectors
from generations.review import notifications
from generations.review import selectors as selectors_reviews
from generations.review.models import NotificationSetting


@login_required
@require_GET
def notification_list(request):
    projects = list(project_selectors.project_list_for_user(user=request.user))
    muted = set(
        NotificationSetting.objects.filter(user=request.user, email=False).values_list(
            "project_id", flat=True
        )
    )
    return render(
        request,
        "review/notifications.html",
        {
            "notes": selectors_reviews.notification_list(user=request.user),
            "unread": selectors_reviews.unread_count(user=request.user),
            "email_settings": [(project, project.pk not in muted) for project in projects],
        },
    )


@login_required
@require_GET
def notification_count(request):
    """The link in the header, with its unread count: what htmx polls (modestly)."""
    response = render(
        request,
        "review/notifications.html#count",
        {"unread": selectors_reviews.unread_count(user=request.user)},
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
def notifications_read(request):
    count = notifications.notifications_mark_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read")
    return redirect("notifications")


@login_required
@require_POST
def notification_open(request, notification_id):
    """Mark one read and go where it points (a path inside the site, never elsewhere)."""
    note = get_object_or_404(
        selectors_reviews.notifications_of(user=request.user), pk=notification_id
    )
    notifications.notifications_mark_read(user=request.user, ids=[note.pk])
    safe = note.url.startswith("/") and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(note.url if safe else "notifications")


@login_required
@require_POST
def notification_email(request, project_uuid):
    """Turn email on or off for one project (in-app notifications stay)."""
    project = get_project_for(request, project_uuid)
    email = request.POST.get("email") == "on"
    notifications.email_setting_set(user=request.user, project=project, email=email)
    messages.success(
        request,
        f"Email about {project.name}: {'on' if email else 'off'}"
        + ("" if email else " (notifications still appear here)"),
    )
    return redirect("notifications")
