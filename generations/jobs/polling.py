"""The cheap answer to a polling card: 304 when the browser's copy is current, checked without
loading the person signed in.

Cards poll every few seconds, many at once, and most polls change nothing. The usual way in,
`login_required` then the membership, reads the user row, then the membership; here a single
query reads the generation's update time joined to the membership and to the person's password
hash, and the session is verified against that hash exactly as
`django.contrib.auth.get_user` verifies it. Whenever anything is off (no session, another
backend, an outsider, a deactivated person, a changed password, a hash from an older secret)
there is no 304 here and the view takes the usual way, which decides as it always has:
redirects to sign-in, flushes a stale session, cycles a key, answers 404.

`UnchangedCardMiddleware` gives that answer before the rest of the middleware stack and the
view (a fifth of a 304's cost); the view gives the same answer if it is not installed.
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.crypto import constant_time_compare

from generations.jobs import selectors

# The only backend whose get_user() this mirrors: the user by primary key, if active.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
CARD_URL_NAME = "generation_card"


def unchanged_etag(request, asked: str, *, project_uuid, generation_uuid) -> str | None:
    """The card's ETag if it is among those `asked` (If-None-Match) and the session is a valid
    sign-in of an active member of the project; else None."""
    updated_at = member_updated_at(
        request, project_uuid=project_uuid, generation_uuid=generation_uuid
    )
    if updated_at is None:
        return None
    tag = etag(updated_at)
    return tag if tag in etags(asked) else None


def member_updated_at(request, *, project_uuid, generation_uuid):
    """When the generation last changed, if the session is a valid sign-in of an active member
    of its project; else None."""
    session = request.session
    try:
        backend = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return None
    if backend != MODEL_BACKEND or backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    row = selectors.generation_updated_at(
        user_id=user_id, project_uuid=project_uuid, generation_uuid=generation_uuid
    )
    if row is None:
        return None
    updated_at, password = row
    # The hash get_user() compares: an HMAC of the stored password hash, so a password changed
    # anywhere signs this session out here too.
    expected = get_user_model()(password=password).get_session_auth_hash()
    if not session_hash or not constant_time_compare(session_hash, expected):
        return None
    return updated_at


def etag(updated_at) -> str:
    """The card's validator: its exact update time. A Last-Modified date has whole seconds, so
    two changes within one second (storing, then succeeded) would leave a card stuck."""
    return f'"{int(updated_at.timestamp() * 1_000_000)}"'


def etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def not_modified(tag: str) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    response["ETag"] = tag
    # What the 200 says, which a 304 repeats (RFC 9110 15.4.5).
    response["Cache-Control"] = "private, no-cache"
    return response


class UnchangedCardMiddleware:
    """An unchanged card's 304, straight after the session middleware: none of the middleware
    below it has anything to do for a body-less answer to a GET (no form, no CSRF check, no
    messages, no time zone, no page to frame), and the view is not called. The host is checked
    as CommonMiddleware would (a disallowed one is a 400), the URL is Django's own resolution
    of the path, and the check is the view's. Anything else goes on down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        asked = request.META.get("HTTP_IF_NONE_MATCH")
        if asked and request.method == "GET" and request.path_info.endswith("/card/"):
            request.get_host()  # raises DisallowedHost for a host not allowed, as usual
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.url_name == CARD_URL_NAME:
                tag = unchanged_etag(request, asked, **match.kwargs)
                if tag is not None:
                    return not_modified(tag)
        return self.get_response(request)
