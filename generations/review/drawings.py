"""Comments' drawings as PNGs: the shapes rendered over the frame they were drawn on, decoded
from the stored video at the comment's time, at the video's own size."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.utils.text import slugify

from generations import media
from generations.media import drawing as drawings
from generations.review.models import TimelineComment, Version

log = logging.getLogger(__name__)
_COPY_CHUNK = 1 << 20


def drawing_file_name(comment: TimelineComment, *, stem: str) -> str:
    """`<stem>-comment-<id>.png`: the same name in a comment export's CSV, its zip, the
    deliverables and the PNG's own download."""
    return f"{stem}-comment-{comment.pk}.png"


def version_stem(version: Version) -> str:
    """A version's files' stem, `<stack>-<version>`, as its take's download is named."""
    return f"{slugify(version.stack.title)[:60] or 'video'}-{version.label}"


@contextlib.contextmanager
def _local_video(version: Version) -> Iterator[Path | None]:
    """The version's video as a local file (copied out of the storage, which may be S3), or
    None when it has none or it cannot be read."""
    video = version.generation.video
    if not video:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="ltxweb-drawing-") as work:
        path = Path(work) / "video.mp4"
        try:
            with video.open("rb") as source, open(path, "wb") as out:
                for chunk in iter(lambda: source.read(_COPY_CHUNK), b""):
                    out.write(chunk)
        except OSError:
            log.warning("drawings of %s drawn on black: its video could not be read", version)
            yield None
        else:
            yield path


def drawing_pngs(
    *, version: Version, comments: Iterable[TimelineComment]
) -> Iterator[tuple[TimelineComment, bytes]]:
    """Each of `comments` that has a drawing, with its PNG: the video is copied once for all.
    A frame that cannot be decoded leaves the drawing on black, at the video's size, so an
    export never fails for want of one picture."""
    comments = [c for c in comments if c.drawing]
    if not comments:
        return
    with _local_video(version) as path:
        for comment in comments:
            picture = None
            if path is not None:
                try:
                    picture = media.frame_picture(path, comment.start_seconds or 0.0)
                except media.MediaError as exc:
                    log.warning("comment %s drawn on black: %s", comment.pk, exc.message)
            if picture is None:
                picture = drawings.blank_frame(version.generation.frame_size)
            yield comment, drawings.render_png(comment.drawing, picture)


def drawing_png(*, version: Version, comment: TimelineComment) -> bytes:
    """One comment's drawing (on `version`) as a PNG over its frame."""
    for _, png in drawing_pngs(version=version, comments=[comment]):
        return png
    raise ValueError("this comment has no drawing")
