"""Delivery: the approved version of each stack, one by one or as a zip streamed as it is
made, with a manifest and each version's comments (CSV, and the drawings on frames as PNGs
beside it); and a version's timeline comments as CSV, as a zip of the CSV and its drawings,
or as EDL markers; one comment's drawing as a PNG."""

from __future__ import annotations

import csv
import io
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from generations.core.access import get_project_for
from generations.core.csvfile import csv_document, csv_response, csv_text
from generations.review import drawings, edl, timecode
from generations.review import selectors as selectors_reviews
from generations.review.views.reviews import get_version_for
from generations.review.zipstream import Entry, zip_stream

# The manifest's columns, in order: each read from a deliverable (d) and its job (g).
MANIFEST = {
    "file": lambda d, g: d.file_name,
    "stack": lambda d, g: d.version.stack.title,
    "version": lambda d, g: d.version.label,
    "prompt": lambda d, g: g.prompt_text,
    "endpoint": lambda d, g: g.endpoint,
    "model": lambda d, g: g.params.get("model", ""),
    "duration": lambda d, g: (g.video_info or {}).get("duration", g.params.get("duration")),
    # As delivered (a retake's is its source's; a portrait take's is taller than wide).
    "resolution": lambda d, g: "x".join(map(str, g.frame_size)),
    "fps": lambda d, g: (g.video_info or {}).get("fps", g.params.get("fps")),
    "parameters": lambda d, g: {k: v for k, v in g.params.items() if k != "prompt"},
    "request_id": lambda d, g: d.request_id,
    "estimated_cost_usd": lambda d, g: str(g.estimated_cost),
    "cost_usd": lambda d, g: "" if g.final_cost is None else str(g.final_cost),
    "approved_by": lambda d, g: d.approved_by,
    "approved_at": lambda d, g: d.approved_at.isoformat() if d.approved_at else "",
    "generation": lambda d, g: str(g.uuid),
    "sha256": lambda d, g: g.video_sha256,
}


def manifest_rows(deliverables) -> list[dict]:
    return [{name: read(d, d.generation) for name, read in MANIFEST.items()} for d in deliverables]


def manifest_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST)
    for row in rows:
        writer.writerow(
            [
                json.dumps(row[f], sort_keys=True) if f == "parameters" else csv_text(row[f])
                for f in MANIFEST
            ]
        )
    return out.getvalue()


def manifest_json(project, rows) -> str:
    return json.dumps(
        {"project": project.name, "made_at": timezone.now().isoformat(), "videos": rows},
        indent=2,
        ensure_ascii=False,
    )


@login_required
@require_GET
def deliverables(request, project_uuid):
    project = get_project_for(request, project_uuid)
    return render(
        request,
        "review/review_deliverables.html",
        {"project": project, "items": selectors_reviews.approved_deliverables(project=project)},
    )


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def deliverables_manifest(request, project_uuid, fmt):
    project = get_project_for(request, project_uuid)
    if fmt not in ("csv", "json"):
        raise Http404("A manifest is CSV or JSON")
    rows = manifest_rows(selectors_reviews.approved_deliverables(project=project))
    stem = f"{slugify(project.name) or 'project'}-approved"
    if fmt == "json":
        response = HttpResponse(manifest_json(project, rows), content_type="application/json")
        return _attachment(response, f"{stem}.json")
    response = HttpResponse(manifest_csv(rows), content_type="text/csv; charset=utf-8")
    return _attachment(response, f"{stem}.csv")


@login_required
@require_GET
def deliverables_zip(request, project_uuid):
    """Every approved version and the manifest, streamed: never whole in memory or on disk."""
    project = get_project_for(request, project_uuid)
    items = selectors_reviews.approved_deliverables(project=project)
    rows = manifest_rows(items)
    texts = {
        "manifest.csv": manifest_csv(rows).encode(),
        "manifest.json": manifest_json(project, rows).encode(),
    }

    def entries():
        for item in items:
            video = item.generation.video
            yield Entry(
                name=item.file_name,
                size=video.storage.size(video.name),
                open=lambda video=video: video.storage.open(video.name, "rb"),
                modified=item.generation.state_changed_at,
            )
            # Its comments beside it, named after the take (numbered names stay apart).
            yield from _comment_entries(item.version, stem=item.file_name.removesuffix(".mp4"))
        for name, data in texts.items():
            yield Entry(name=name, size=len(data), data=data, compress=True)

    response = StreamingHttpResponse(zip_stream(entries()), content_type="application/zip")
    return _attachment(response, f"{slugify(project.name) or 'project'}-approved.zip")


def _comment_file_stem(version) -> str:
    return f"{drawings.version_stem(version)}-comments"


# A comment export's columns: each read from a comment or reply (c), its thread (t) and fps.
COMMENT_COLUMNS = {
    "id": lambda c, t, fps: c.pk,
    "reply_to": lambda c, t, fps: c.parent_id or "",
    "timecode_in": lambda c, t, fps: timecode.timecode(t.start_seconds, fps),
    "timecode_out": lambda c, t, fps: timecode.timecode(t.end_seconds, fps) if t.is_range else "",
    "start_seconds": lambda c, t, fps: t.start_seconds,
    "end_seconds": lambda c, t, fps: t.end_seconds if t.is_range else "",
    "author": lambda c, t, fps: csv_text(c.author_label),
    "guest": lambda c, t, fps: "yes" if c.is_guest else "no",
    "comment": lambda c, t, fps: csv_text(c.body),
    "resolved": lambda c, t, fps: "yes" if t.is_resolved else "no",
    "carried_from": lambda c, t, fps: t.carried_from.version.label if t.carried_from_id else "",
    "created_at": lambda c, t, fps: c.created_at.isoformat(),
}


def comment_table(version, threads, *, stem: str) -> tuple[list[str], list[list]]:
    """The comment export's header and rows; the `drawing` column names the PNG of a
    comment's drawing (`drawings.drawing_file_name`), exported beside the CSV."""
    header = [*COMMENT_COLUMNS, "drawing"]
    rows = [
        [read(item, thread, version.fps) for read in COMMENT_COLUMNS.values()]
        + [drawings.drawing_file_name(item, stem=stem) if item.drawing else ""]
        for thread in threads
        for item in [thread, *thread.thread]
    ]
    return header, rows


def _comment_entries(version, *, stem: str):
    """A version's comments as zip entries: `<stem>-comments.csv`, then each drawing's PNG
    (rendered as the archive is sent); nothing when it has no comments."""
    threads = selectors_reviews.version_comments(version=version)
    if not threads:
        return
    data = csv_document(*comment_table(version, threads, stem=stem)).encode()
    yield Entry(name=f"{stem}-comments.csv", size=len(data), data=data, compress=True)
    drawn = [item for thread in threads for item in [thread, *thread.thread]]
    for comment, png in drawings.drawing_pngs(version=version, comments=drawn):
        name = drawings.drawing_file_name(comment, stem=stem)
        yield Entry(name=name, size=len(png), data=png, modified=comment.created_at)


@login_required
@require_GET
def comments_csv(request, project_uuid, generation_uuid):
    version = get_version_for(request, project_uuid, generation_uuid)
    threads = selectors_reviews.version_comments(version=version)
    header, rows = comment_table(version, threads, stem=drawings.version_stem(version))
    response = csv_response("", header, rows)
    return _attachment(response, f"{_comment_file_stem(version)}.csv")


@login_required
@require_GET
def comments_zip(request, project_uuid, generation_uuid):
    """The comment export with the drawings: the CSV and a PNG per drawing, streamed."""
    version = get_version_for(request, project_uuid, generation_uuid)
    entries = _comment_entries(version, stem=drawings.version_stem(version))
    response = StreamingHttpResponse(zip_stream(entries), content_type="application/zip")
    return _attachment(response, f"{_comment_file_stem(version)}.zip")


@login_required
@require_GET
def comment_drawing(request, project_uuid, generation_uuid, comment_id):
    """One comment's drawing, rendered over its frame, as a PNG."""
    version = get_version_for(request, project_uuid, generation_uuid)
    comment = get_object_or_404(version.comments, pk=comment_id)
    if not comment.drawing:
        raise Http404("This comment has no drawing")
    png = drawings.drawing_png(version=version, comment=comment)
    response = HttpResponse(png, content_type="image/png")
    name = drawings.drawing_file_name(comment, stem=drawings.version_stem(version))
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def comments_edl(request, project_uuid, generation_uuid):
    version = get_version_for(request, project_uuid, generation_uuid)
    markers = [
        edl.Marker(
            start=c.start_seconds,
            end=c.end_seconds,
            text=f"{c.author_label}: {c.body}",
            colour="Green" if c.is_resolved else ("Yellow" if c.is_guest else "Blue"),
        )
        for c in selectors_reviews.version_comments(version=version)
    ]
    text = edl.edl(title=f"{version.stack.title} {version.label}", fps=version.fps, markers=markers)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    return _attachment(response, f"{_comment_file_stem(version)}.edl")
