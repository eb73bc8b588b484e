"""Input files: checked by their content, kept in the app's storage."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models import Q

from generations import media
from generations.jobs import urlfetch
from generations.jobs.models import Generation, MediaAsset
from generations.ltx import rules
from generations.projects.models import Project


def asset_create(
    *, project: Project, user, uploaded, kind: str, convert: bool = False
) -> MediaAsset:
    """Keep an uploaded file as an input of `kind` if the API would take it, else a
    ValidationError saying what would work. With `convert`, audio the API does not take is
    re-encoded as AAC-LC and an image over the upload limit as a smaller JPEG."""
    limit = intake_limit(kind)
    with _workspace() as work:
        path = work / "upload"
        digest = hashlib.sha256()
        size = 0
        with open(path, "wb") as out:
            for chunk in uploaded.chunks():
                size += len(chunk)
                if size > limit:
                    raise ValidationError(too_large_message(kind))
                digest.update(chunk)
                out.write(chunk)
        name = (getattr(uploaded, "name", "") or "upload")[:200]
        return _keep(
            project, user, path, kind, name=name, sha256=digest.hexdigest(), convert=convert
        )


def asset_from_url(*, project: Project, user, url: str, kind: str, convert: bool = False):
    """Fetch the file at an https link (under the API's rules for links, see urlfetch) and keep
    it as an upload would be: it reaches the API through its upload endpoint like any other."""
    url = (url or "").strip()
    with _workspace() as work:
        path = work / "download"
        try:
            fetched = urlfetch.fetch(url, path, kind=kind)
        except urlfetch.FetchError as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        name = PurePosixPath(urlsplit(url).path).name or urlsplit(url).hostname or "link"
        return _keep(
            project, user, path, kind, name=name[:200], sha256=fetched.sha256, convert=convert
        )


IMAGE_INTAKE_FACTOR = 2
_SMALLER_HINT = {
    "image": "save it as a JPEG at a lower quality or a smaller size",
    "video": "trim it or encode it at a lower bitrate",
    "audio": "encode it as AAC or MP3 at a lower bitrate",
}


def intake_limit(kind: str) -> int:
    """The most bytes ltxweb takes for `kind`: images may arrive larger than the API takes, so
    that they can be offered a re-encode."""
    return rules.UPLOAD_MAX_BYTES * (IMAGE_INTAKE_FACTOR if kind == "image" else 1)


def too_large_message(kind: str) -> str:
    article = "an" if kind in ("image", "audio") else "a"
    return (
        f"The file is over {intake_limit(kind) // rules.MB} MB, the most ltxweb takes for "
        f"{article} {kind}; {_SMALLER_HINT[kind]}"
    )


@contextlib.contextmanager
def _workspace():
    tmp_root = Path(settings.VAR_DIR) / "incoming"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root) as work:
        yield Path(work)


def _keep(
    project, user, path: Path, kind: str, *, name: str, sha256: str, convert: bool
) -> MediaAsset:
    """Check the received file by its content, fix it if asked and possible, and store it.
    `sha256` is the received file's, computed as it arrived."""
    try:
        info = media.probe(path)
        media.check_api_input(info, kind)
        if kind == "image" and info.size_bytes > rules.UPLOAD_MAX_BYTES:
            raise media.MediaError(
                f"this {info.format} image is {info.size_bytes / rules.MB:.1f} MB, over the "
                f"API's {rules.UPLOAD_MAX_BYTES // rules.MB} MB limit for uploads. Tick "
                '"re-encode" to send it as a JPEG under the limit, or save it smaller',
                convertible=True,
            )
    except media.MediaError as exc:
        if not (convert and exc.convertible):
            code = "convertible" if exc.convertible else None
            raise ValidationError(exc.message, code=code) from None
        path, info, name = _fixed(path, kind, name)
        sha256 = _sha256(path)  # a new file
    asset = MediaAsset(
        project=project,
        kind=kind,
        original_name=name,
        mime=info.mime,
        size_bytes=info.size_bytes,
        sha256=sha256,
        info=dataclasses.asdict(info),
        created_by=user,
    )
    with open(path, "rb") as fh:
        asset.file.save("input", File(fh), save=False)
    asset.save()
    return asset


def _fixed(path: Path, kind: str, name: str):
    try:
        if kind == "audio":
            converted = path.with_name("converted.m4a")
            info = media.convert_audio_to_aac_m4a(path, converted)
            return converted, info, f"{name} (converted to AAC-LC)"[:255]
        converted = path.with_name("converted.jpg")
        info = media.shrink_image(path, converted, max_bytes=rules.UPLOAD_MAX_BYTES)
        return converted, info, f"{name} (re-encoded as JPEG)"[:255]
    except media.MediaError as exc:
        raise ValidationError(f"The {kind} could not be converted: {exc.message}") from None


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def asset_discard(*, asset: MediaAsset) -> None:
    """Remove an input kept for a request that was then refused, unless a job uses it; its
    file too, unless that is a generation's video (a retake's source)."""
    uses = Q(image=asset) | Q(last_image=asset) | Q(audio=asset) | Q(source_video=asset)
    if Generation.objects.filter(uses).exists():
        return
    if not Generation.objects.filter(video=asset.file.name).exists():
        asset.file.delete(save=False)
    asset.delete()


def asset_from_frame(
    *, generation, user, last: bool = False, at_seconds: float | None = None
) -> MediaAsset:
    """The first or last frame of a finished video (or the one at `at_seconds`), kept as an
    image input: a take that continues where another ends, ends where another starts, or a
    shot's storyboard frame."""
    which = f"{at_seconds:.3f}s" if at_seconds is not None else ("last" if last else "first")
    with _workspace() as work:
        video, still = work / "video.mp4", work / "frame.jpg"
        with generation.video.open("rb") as source, open(video, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                out.write(chunk)
        try:
            media.still_frame(video, still, last=last, at_seconds=at_seconds)
        except media.MediaError as exc:
            raise ValidationError(f"The {which} frame could not be taken: {exc.message}") from None
        name = f"{which} frame of {generation.uuid}.jpg"
        asset = _keep(
            generation.project, user, still, "image", name=name, sha256=_sha256(still), convert=True
        )
    MediaAsset.objects.filter(pk=asset.pk).update(frame_of=generation, frame_at=which)
    asset.frame_of, asset.frame_at = generation, which
    return asset


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
