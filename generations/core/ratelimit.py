"""Counters in the shared cache that slow down guessing, each a fixed window opened by the
first attempt, counted *before* the work so a parallel burst cannot slip in. No count may
refuse someone a credential for someone else's failures: a browser that signed in to an
account before has a device cookie (core/signin.py, OWASP's "device cookies") and its attempts
are counted apart, so a guesser holds up only browsers that never signed in as that person."""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: int  # seconds


# For a browser without a device cookie for the account: per person and address, and
SIGN_IN_PER_PERSON = Limit("sign-in", attempts=5, window=15 * 60)
# higher, as an office or a VPN shares an address; it stops one address trying many usernames.
SIGN_IN_PER_ADDRESS = Limit("sign-in-address", attempts=50, window=15 * 60)
# For a browser with one: its own count, which nobody else's attempts touch.
SIGN_IN_PER_DEVICE = Limit("sign-in-device", attempts=5, window=15 * 60)
PASSWORD_RESET_PER_ADDRESS = Limit("password-reset-address", attempts=5, window=60 * 60)
# A token has 256 random bits, so a good one is always let in: this only answers a client that
# keeps sending a wrong or revoked one with 429s (Retry-After) instead of 401s.
API_TOKEN_FAILURES_PER_ADDRESS = Limit("api-token-address", attempts=20, window=15 * 60)
# A share link's password: per link and address (a guest who mistypes waits 15 minutes),
# and per link from anywhere (guessing from many addresses closes the link for an hour).
SHARE_PASSWORD_PER_ADDRESS = Limit("share-password", attempts=5, window=15 * 60)
SHARE_PASSWORD_PER_LINK = Limit("share-password-link", attempts=50, window=60 * 60)


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address
    the outermost trusted proxy saw (entries further left can be forged by the client)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def sign_in_attempt(*, username: str, address: str, device: str = "") -> int:
    """Count a sign-in attempt: 0 when it may go ahead, else the seconds to wait. `device` is
    the browser's device cookie for `username` (a nonce), if it has one."""
    if device:
        return _hit(SIGN_IN_PER_DEVICE, device)
    return _hit(SIGN_IN_PER_ADDRESS, address) or _hit(
        SIGN_IN_PER_PERSON, username.casefold(), address
    )


def sign_in_succeeded(*, username: str, address: str, device: str = "") -> None:
    if device:
        # The shared counts are left as they are: a guesser there gets no fresh tries.
        _reset(SIGN_IN_PER_DEVICE, device)
        return
    _reset(SIGN_IN_PER_PERSON, username.casefold(), address)
    _give_back(SIGN_IN_PER_ADDRESS, address)


def password_reset_attempt(*, address: str) -> int:
    """Count a password-reset request: 0 when it may go ahead, else the seconds to wait."""
    return _hit(PASSWORD_RESET_PER_ADDRESS, address)


def api_token_failed(*, address: str) -> int:
    """Count a failed API token from `address`: 0 while under the limit, else the wait."""
    return _hit(API_TOKEN_FAILURES_PER_ADDRESS, address)


def share_password_attempt(*, link_id: int, address: str) -> int:
    """Count a try at a share link's password: 0 when it may go ahead, else the wait."""
    link = str(link_id)
    return _hit(SHARE_PASSWORD_PER_LINK, link) or _hit(SHARE_PASSWORD_PER_ADDRESS, link, address)


def share_password_succeeded(*, link_id: int, address: str) -> None:
    _reset(SHARE_PASSWORD_PER_ADDRESS, str(link_id), address)
    _give_back(SHARE_PASSWORD_PER_LINK, str(link_id))


def _keys(limit: Limit, parts: tuple[str, ...]) -> tuple[str, str]:
    # Hashed: usernames are anyone's input, and cache keys must be short and plain.
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    count_key = f"ratelimit:{limit.name}:{digest}"
    return count_key, f"{count_key}:ends"


def _hit(limit: Limit, *parts: str) -> int:
    count_key, ends_key = _keys(limit, parts)
    now = time.time()
    cache.add(ends_key, now + limit.window, limit.window)
    remaining = max(1, math.ceil(cache.get(ends_key, now + limit.window) - now))
    cache.add(count_key, 0, remaining)
    try:
        count = cache.incr(count_key)  # atomic on Redis, so parallel requests all count
    except ValueError:  # the window ended between the two lines above
        count = 1
        cache.set(count_key, count, remaining)
    # Some backends' incr (the file cache's) resets the expiry to the default: keep the window.
    cache.touch(count_key, remaining)
    return remaining if count > limit.attempts else 0


def _give_back(limit: Limit, *parts: str) -> None:
    count_key, ends_key = _keys(limit, parts)
    ends = cache.get(ends_key)
    try:
        cache.decr(count_key)
    except ValueError:  # the window has ended anyway
        return
    if ends is not None:
        cache.touch(count_key, max(1, math.ceil(ends - time.time())))


def _reset(limit: Limit, *parts: str) -> None:
    cache.delete_many(_keys(limit, parts))
