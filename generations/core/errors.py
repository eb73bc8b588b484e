"""The page for a request Django or a view refused as malformed (400): it says what was wrong
when a view said so with BadRequest, whose messages are ours and name only the sender's own
input. And the 503 for an outage, which the JSON API answers in its envelope."""

import redis
from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError
from django.shortcuts import render
from django.template.response import SimpleTemplateResponse
from django.utils.deprecation import MiddlewareMixin

# The database or the cache (Redis, where the rate limits count) unreachable: the request was
# fine and will work once it is back. Sign-in then waits too, rather than going uncounted.
OUTAGES = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
OUTAGE_HEADERS = {"Retry-After": "30"}


def bad_request(request, exception):
    message = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"message": message}, status=400)


class OutageMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if isinstance(exception, OUTAGES):  # no request context: it would read the session
            return SimpleTemplateResponse("503.html", status=503, headers=OUTAGE_HEADERS)
        return None
