"""A generation's request, prompt and media inputs (uploads, data URIs, https URLs fetched as
the API fetches them), checked as the real API checks them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from generations import media
from generations.ltx import rules, schemas
from generations.simulator.handler import SEND_CHUNK
from generations.simulator.state import Refusal, SimulatorState, invalid


def resolve_inputs(
    state: SimulatorState, endpoint: str, request: dict, work: Path
) -> dict[str, tuple[Path, media.MediaInfo]]:
    inputs = {}
    for field_name, kind in rules.MEDIA_FIELDS.items():
        uri = request.get(field_name)
        if uri is None:
            continue
        parsed = rules.parse_media_uri(uri, field=field_name)
        if parsed.method == "storage":
            path = state.stored_file(uri, field_name)
        elif parsed.method == "data":
            path = work / field_name
            path.write_bytes(parsed.decoded())
        else:
            path = fetch(parsed, work / field_name, state.config.allow_fetch_hosts)
        info = checked_input(field_name, kind, path)
        if kind == "video":
            check_video_for(endpoint, request, info)
        inputs[field_name] = (path, info)
    return inputs


def fetch(parsed: rules.MediaUri, dest: Path, allowed: dict[str, str | None]) -> Path:
    """Fetch an https input as the API does: no redirects, a size and a time limit."""
    parts = urlsplit(parsed.uri)
    host = (parts.hostname or "").lower()
    if host not in allowed:
        raise invalid(
            f"Could not fetch {parsed.kind} from {host}: the file is not publicly accessible"
        )
    target = allowed[host]
    url = parsed.uri if target is None else f"http://{target}{parts.path or '/'}"
    if target is not None and parts.query:
        url += f"?{parts.query}"
    limit = rules.HTTPS_MAX_BYTES[parsed.kind]
    timeout = rules.HTTPS_FETCH_TIMEOUT_SECONDS[parsed.kind]
    deadline = time.monotonic() + timeout
    try:
        with requests.get(url, stream=True, allow_redirects=False, timeout=timeout) as resp:
            if 300 <= resp.status_code < 400:
                raise invalid(f"{parsed.uri} redirects; media URLs must not redirect")
            if resp.status_code != 200:
                raise invalid(f"Could not fetch {parsed.uri}: HTTP {resp.status_code}")
            size = 0
            with open(dest, "wb") as out:
                for chunk in resp.iter_content(SEND_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise invalid(
                            f"{parsed.uri} is larger than {limit // rules.MB} MB, the "
                            f"limit for {parsed.kind} URLs; use /v1/upload instead"
                        )
                    if time.monotonic() > deadline:
                        raise requests.Timeout()
                    out.write(chunk)
    except requests.RequestException:
        raise invalid(f"Could not fetch {parsed.uri} within {timeout} s") from None
    return dest


def billed_input_seconds(endpoint: str, inputs: dict) -> float | None:
    if endpoint == rules.AUDIO_TO_VIDEO:
        return inputs["audio_uri"][1].duration
    if endpoint == rules.RETAKE:
        return inputs["video_uri"][1].duration
    return None


def validated_request(endpoint: str, raw: bytes) -> dict:
    """The request a generation endpoint was sent, checked field by field."""
    try:
        payload = json.loads(raw or b"null")
    except (UnicodeDecodeError, ValueError):
        raise invalid("The request body must be valid JSON") from None
    try:
        return schemas.validate_request(endpoint, payload)
    except rules.RequestInvalid as exc:
        raise invalid(exc.message) from None


def check_filter(request: dict, filter_words: list[str]) -> None:
    prompt = (request.get("prompt") or "").lower()
    for word in filter_words:
        if word and word.lower() in prompt:
            raise Refusal(
                422, "content_filtered_error", "Content is filtered due to policy restrictions"
            )


def checked_input(field_name: str, kind: str, path: Path) -> media.MediaInfo:
    """What a media input holds, refused when the API would not take it."""
    try:
        info = media.probe(path)
        media.check_api_input(info, kind)
    except media.MediaError as exc:
        raise invalid(f"{field_name}: {exc.message}") from None
    return info


def check_video_for(endpoint: str, request: dict, info: media.MediaInfo) -> None:
    """A retake's or an extend's input video, refused when the API's limits would."""
    try:
        if endpoint == rules.EXTEND:
            rules.check_extend(
                width=info.width,
                height=info.height,
                fps=info.fps,
                frames=info.frames,
                duration=request["duration"],
                context=request.get("context"),
            )
        else:
            rules.check_retake_video(
                width=info.width,
                height=info.height,
                duration=info.duration,
                frames=info.frames,
            )
    except rules.RequestInvalid as exc:
        raise invalid(exc.message) from None
