"""Delivery: the approved version of each stack, one by one or as a zip streamed as it is
made, with a manifest; and a version's timeline comments as CSV or as EDL markers."""

from __future__ import annotations

import csv
import io
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from generations.core.access import get_project_for
from generations.core.csvfile import csv_response, csv_text
from generations.review import edl, timecode
from generations.review import selectors as selectors_reviews
from generations.review.views.reviews import get_version_for
from generations.review.zipstream import Entry, zip_stream

MANIFEST_FIELDS = [
    "file",
    "stack",
    "version",
    "prompt",
    "endpoint",
    "model",
    "duration",
    "resolution",
    "fps",
    "parameters",
    "request_id",
    "estimated_cost_usd",
    "cost_usd",
    "approved_by",
    "approved_at",
    "generation",
    "sha256",
]


def manifest_rows(deliverables) -> list[dict]:
    rows = []
    for item in deliverables:
        generation = item.generation
        params = generation.params
        rows.append(
            {
                "file": item.file_name,
                "stack": item.version.stack.title,
                "version": item.version.label,
                "prompt": generation.prompt_text,
                "endpoint": generation.endpoint,
                "model": params.get("model", ""),
                "duration": (generation.video_info or {}).get("duration", params.get("duration")),
                "resolution": params.get("resolution", ""),
                "fps": (generation.video_info or {}).get("fps", params.get("fps")),
                "parameters": {k: v for k, v in params.items() if k != "prompt"},
                "request_id": item.request_id,
                "estimated_cost_usd": str(generation.estimated_cost),
                "cost_usd": "" if generation.final_cost is None else str(generation.final_cost),
                "approved_by": item.approved_by,
                "approved_at": item.approved_at.isoformat() if item.approved_at else "",
                "generation": str(generation.uuid),
                "sha256": generation.video_sha256,
            }
        )
    return rows


def manifest_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_FIELDS)
    for row in rows:
        writer.writerow(
            [
                json.dumps(row[f], sort_keys=True) if f == "parameters" else csv_text(row[f])
                for f in MANIFEST_FIELDS
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
        for name, data in texts.items():
            yield Entry(name=name, size=len(data), data=data, compress=True)

    response = StreamingHttpResponse(zip_stream(entries()), content_type="application/zip")
    return _attachment(response, f"{slugify(project.name) or 'project'}-approved.zip")


# -- a version's comments ---------------------------------------------------------------------


def _comment_file_stem(version) -> str:
    return f"{slugify(version.stack.title)[:60] or 'video'}-{version.label}-comments"


@login_required
@require_GET
def comments_csv(request, project_uuid, generation_uuid):
    version = get_version_for(request, project_uuid, generation_uuid)
    fps = version.fps
    rows = []
    for comment in selectors_reviews.version_comments(version=version):
        for item in [comment, *comment.thread]:
            rows.append(
                [
                    item.pk,
                    item.parent_id or "",
                    timecode.timecode(comment.start_seconds, fps),
                    timecode.timecode(comment.end_seconds, fps) if comment.is_range else "",
                    comment.start_seconds,
                    comment.end_seconds if comment.is_range else "",
                    csv_text(item.author_label),
                    "yes" if item.is_guest else "no",
                    csv_text(item.body),
                    "yes" if comment.is_resolved else "no",
                    comment.carried_from.version.label if comment.carried_from_id else "",
                    item.created_at.isoformat(),
                ]
            )
    return _attachment(
        csv_response(
            "",
            [
                "id",
                "reply_to",
                "timecode_in",
                "timecode_out",
                "start_seconds",
                "end_seconds",
                "author",
                "guest",
                "comment",
                "resolved",
                "carried_from",
                "created_at",
            ],
            rows,
        ),
        f"{_comment_file_stem(version)}.csv",
    )


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
