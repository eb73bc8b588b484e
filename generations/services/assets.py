"""Input files: checked by their content, kept in the app's storage."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File

from generations import media
from generations.ltx import rules
from generations.models import MediaAsset, Project


def asset_create(
    *, project: Project, user, uploaded, kind: str, convert: bool = False
) -> MediaAsset:
    """Keep an uploaded file as an input of `kind` (image, video or audio) if the API would
    take it; otherwise a ValidationError that says what is wrong and what would work.

    With `convert`, audio the API refuses only for its coding (PCM WAV, HE-AAC, FLAC…) is
    re-encoded as AAC-LC in M4A and kept instead."""
    tmp_root = Path(settings.VAR_DIR) / "incoming"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root) as work:
        path = Path(work) / "upload"
        digest = hashlib.sha256()
        size = 0
        with open(path, "wb") as out:
            for chunk in uploaded.chunks():
                size += len(chunk)
                if size > rules.UPLOAD_MAX_BYTES:
                    raise ValidationError(
                        f"The file is over {rules.UPLOAD_MAX_BYTES // rules.MB} MB, the API's "
                        "limit for uploads"
                    )
                digest.update(chunk)
                out.write(chunk)
        name = (getattr(uploaded, "name", "") or "upload")[:200]
        try:
            info = media.probe(path)
            media.check_api_input(info, kind)
        except media.MediaError as exc:
            if not (convert and exc.convertible and kind == "audio"):
                code = "convertible" if exc.convertible else None
                raise ValidationError(exc.message, code=code) from None
            path, info = _converted_audio(path)
            digest = hashlib.sha256(path.read_bytes())
            size = info.size_bytes
            name = f"{name} (converted to AAC-LC)"
        asset = MediaAsset(
            project=project,
            kind=kind,
            original_name=name,
            mime=info.mime,
            size_bytes=size,
            sha256=digest.hexdigest(),
            info=dataclasses.asdict(info),
            created_by=user,
        )
        with open(path, "rb") as fh:
            asset.file.save("input", File(fh), save=False)
        asset.save()
    return asset


def _converted_audio(path: Path):
    converted = path.with_name("converted.m4a")
    try:
        return converted, media.convert_audio_to_aac_m4a(path, converted)
    except media.MediaError as exc:
        raise ValidationError(f"The audio could not be converted: {exc.message}") from None


def asset_from_generation(*, generation, user) -> MediaAsset:
    """A finished video as the input of a retake: the same stored file, not a copy."""
    existing = MediaAsset.objects.filter(
        project=generation.project, kind="video", file=generation.video.name
    ).first()
    if existing:
        return existing
    info = generation.video_info
    return MediaAsset.objects.create(
        project=generation.project,
        kind="video",
        file=generation.video.name,
        original_name=f"{generation.uuid}.mp4",
        mime="video/mp4",
        size_bytes=info.get("size_bytes", 0),
        sha256=generation.video_sha256,
        info=info,
        created_by=user,
    )
