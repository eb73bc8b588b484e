"""Times are shown in each person's own time zone, which their browser reports in a cookie
(static/js/app.js); until it has, they are shown in settings.TIME_ZONE. Text with a NUL
character is refused."""

import zoneinfo
from urllib.parse import unquote

from django.core.exceptions import BadRequest
from django.utils import timezone

TZ_COOKIE = "tz"


class TimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = _zone(unquote(request.COOKIES.get(TZ_COOKIE, "")))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None  # a name that is not a zone, or a path in disguise


class RefuseNulMiddleware:
    """PostgreSQL cannot store a NUL character, so a query or form field holding one gets a 400
    page; as a view hook it runs after the CSRF check. The JSON API checks its own input."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        fields = [*request.GET.lists(), *(request.POST.lists() if request.method == "POST" else [])]
        for name, values in fields:
            if "\x00" in name or any("\x00" in value for value in values):
                shown = name.replace("\x00", "")[:60] or "a field"
                raise BadRequest(f"“{shown}” holds a NUL character, which text cannot contain.")
        return None
