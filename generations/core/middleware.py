"""Times are shown in each person's own time zone, which their browser reports in a cookie
(static/js/app.js); until it has, they are shown in settings.TIME_ZONE."""

import zoneinfo
from urllib.parse import unquote

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
