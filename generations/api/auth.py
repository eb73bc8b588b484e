"""Who is calling: a personal API token (`Authorization: Bearer ltxw_…`), never the session
cookie, so the API needs no CSRF check and another site cannot act as a signed-in visitor."""

from ninja.security import HttpBearer

from generations.api.errors import ApiError
from generations.core import ratelimit
from generations.projects.tokens import token_authenticate

REALM = 'Bearer realm="ltxweb"'


class BearerToken(HttpBearer):
    """ninja's bearer scheme, with our answers: 401 with a challenge that says what is wrong,
    and 429 to an address that keeps sending wrong tokens."""

    openapi_bearerFormat = "ltxw_ followed by 43 URL-safe characters"
    openapi_description = (
        "A personal API token. Only its hash is stored; it is shown once, when made."
    )

    def __call__(self, request):
        header = request.headers.get(self.header, "")
        if not header:
            raise ApiError(
                401,
                "authentication_required",
                "Send your API token in an Authorization header: 'Authorization: Bearer "
                "ltxw_…'. Make one on the API tokens page of your account.",
                headers={"WWW-Authenticate": REALM},
            )
        scheme, _, raw = header.partition(" ")
        user = self.authenticate(request, raw.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            # Only wrong tokens are counted and only they are refused: a good token works from
            # an address that others have sent wrong ones from (ratelimit.py says why).
            if wait := ratelimit.api_token_failed(address=ratelimit.client_address(request)):
                raise ApiError(
                    429,
                    "rate_limited",
                    "Too many requests with a wrong API token from your address: wait "
                    f"{wait} seconds",
                    headers={"Retry-After": str(wait)},
                )
            raise ApiError(
                401,
                "invalid_token",
                "The API token is not valid: it is mistyped, revoked, or its owner's account "
                "is closed. Tokens are sent as 'Authorization: Bearer ltxw_…'.",
                headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            )
        request.user = user
        return user

    def authenticate(self, request, token):
        return token_authenticate(raw=token)
