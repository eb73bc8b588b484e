"""The check behind a polling card's 304, without loading the person signed in.

Cards poll every few seconds, many at once, and most polls change nothing. The usual way in,
`login_required` then the membership, reads the user row, then the membership; here a single
query reads the generation's update time joined to the membership and to the person's password
hash, and the session is verified against that hash exactly as
`django.contrib.auth.get_user` verifies it. Whenever anything is off (no session, another
backend, an outsider, a deactivated person, a changed password, a hash from an older secret)
this answers None and the view takes the usual way, which decides as it always has: redirects
to sign-in, flushes a stale session, cycles a key, answers 404.
"""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare

from generations import selectors

# The only backend whose get_user() this mirrors: the user by primary key, if active.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def member_updated_at(request, *, project_uuid, generation_uuid):
    """When the generation last changed, if the session is a valid sign-in of an active member
    of its project; else None (the caller then takes the usual way)."""
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
