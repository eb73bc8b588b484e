"""The sign-in limiter (generations/core/ratelimit.py) put round a sign-in view, so the app's
sign-in and the admin site's count alike, and the device cookie it gives a browser that signs
in: later attempts from that browser at that account are counted apart from everyone else's.
"""

import secrets
from functools import wraps

from django.conf import settings

from generations.core import ratelimit

DEVICE_COOKIE = "ltxw_device"
DEVICE_COOKIE_AGE = 365 * 24 * 60 * 60
# Its own salt, so no other signed value of the app can pass for a device cookie.
_DEVICE_SALT = "generations.core.signin.device"


def device_for(request, username: str) -> str:
    """The nonce of the browser's device cookie if it was given for `username`, else ""."""
    value = request.get_signed_cookie(
        DEVICE_COOKIE, default="", salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_AGE
    )
    nonce, _, name = value.partition(":")
    return nonce if nonce and name == username.casefold() else ""


def sign_in_limited(refuse):
    """Count each POST to the wrapped sign-in view before it checks the password, answer
    `refuse(request, wait)` instead while the limit holds, and give the count back and a
    device cookie on a sign-in that succeeds."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            username = request.POST.get("username", "")
            address = ratelimit.client_address(request)
            device = device_for(request, username)
            if wait := ratelimit.sign_in_attempt(username=username, address=address, device=device):
                return refuse(request, wait)
            before = request.user
            response = view(request, *args, **kwargs)
            # login() puts the person it signs in on the request: that is how we know.
            if request.user is before or not request.user.is_authenticated:
                return response
            ratelimit.sign_in_succeeded(username=username, address=address, device=device)
            response.set_signed_cookie(
                DEVICE_COOKIE,
                f"{secrets.token_urlsafe(16)}:{username.casefold()}",
                salt=_DEVICE_SALT,
                max_age=DEVICE_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response

        return wrapper

    return decorator
