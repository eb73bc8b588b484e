"""The app's one way to reach the LTX-2 API (the simulator unless configured otherwise)."""

from dataclasses import dataclass

import requests
from django.conf import settings

from generations.ltx import LTXClient


def ltx_client(*, api_key: str | None = None) -> LTXClient:
    """A client for the installation's key, or for `api_key` (a project's own)."""
    return LTXClient(
        settings.LTX_API_BASE_URL,
        api_key or settings.LTXV_API_KEY,
        read_timeout=settings.LTX_READ_TIMEOUT_SECONDS,
    )


def ltx_capabilities_setting() -> str:
    """The capabilities profile the installation chose (LTX_CAPABILITIES): a profile's name
    or the path of the operator's own file. Read at every use, so an override takes effect."""
    return settings.LTX_CAPABILITIES


@dataclass(frozen=True)
class ApiStatus:
    base_url: str
    simulator: bool
    reachable: bool
    detail: str


def ltx_api_status() -> ApiStatus:
    """Whether the API answers at all. It has no free health endpoint, so any HTTP answer to
    a GET of its root counts as reachable; nothing is generated or billed."""
    base_url = settings.LTX_API_BASE_URL
    try:
        response = requests.get(base_url + "/", timeout=2, allow_redirects=False)
    except requests.Timeout:
        return ApiStatus(base_url, settings.LTX_USES_SIMULATOR, False, "no answer within 2 s")
    except requests.ConnectionError:
        detail = "the connection could not be made"
        return ApiStatus(base_url, settings.LTX_USES_SIMULATOR, False, detail)
    except requests.RequestException as exc:
        detail = f"the request failed ({type(exc).__name__})"
        return ApiStatus(base_url, settings.LTX_USES_SIMULATOR, False, detail)
    # Whatever the code (a 404 is usual: the root is no page), an answer is what is checked; a
    # bare "HTTP 404" beside "Answering" read as a failure.
    detail = f"its root answered with HTTP {response.status_code}, as expected"
    if request_id := response.headers.get("x-request-id"):
        detail += f"; request id {request_id}"
    return ApiStatus(base_url, settings.LTX_USES_SIMULATOR, True, detail)
