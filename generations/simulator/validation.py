"""Request validation, as the real API answers it: the body is JSON with the documented
fields (the request models the client sends, ltx/schemas.py), the prompt passes the content
filter, and every media input is a file the model can take."""

from __future__ import annotations

import json
from pathlib import Path

from generations import media
from generations.ltx import rules, schemas
from generations.simulator.errors import Refusal


def validated_request(endpoint: str, raw: bytes) -> dict:
    """The request a generation endpoint was sent, checked field by field."""
    try:
        payload = json.loads(raw or b"null")
    except (UnicodeDecodeError, ValueError):
        raise Refusal(400, "invalid_request_error", "The request body must be valid JSON") from None
    try:
        return schemas.validate_request(endpoint, payload)
    except rules.RequestInvalid as exc:
        raise Refusal(400, "invalid_request_error", exc.message) from None


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
        raise Refusal(400, "invalid_request_error", f"{field_name}: {exc.message}") from None
    if kind == "video":
        try:
            rules.check_retake_video(
                width=info.width,
                height=info.height,
                duration=info.duration,
                frames=info.frames,
            )
        except rules.RequestInvalid as exc:
            raise Refusal(400, "invalid_request_error", exc.message) from None
    return info
