"""Uploads refused at their size limit while they stream in, not after.

Django reads a whole multipart body (into a temporary file) before a view sees it, so a
10 GB upload would be read and written in full only to be refused by the view's size check
(services/assets.asset_create). `UploadLimitMiddleware` puts `SizeLimitHandler` in front of
Django's own upload handlers: it counts each file's bytes as they arrive and stops reading
the request at the first byte over the limit for that kind of input. The person gets the
same clear message the view would give, as a page or, under /api/, as the API's JSON error;
nothing is kept (the partial temporary file is closed and removed).
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render

from generations.jobs.assets import IMAGE_INTAKE_FACTOR
from generations.ltx import rules

_ARTICLE = {"image": "an", "audio": "an", "video": "a"}
_SMALLER_HINT = {
    "image": "save it as a JPEG at a lower quality or a smaller size",
    "video": "trim it or encode it at a lower bitrate",
    "audio": "encode it as AAC or MP3 at a lower bitrate",
}


def upload_limit(field_name: str) -> tuple[str, int]:
    """The kind of input a file field takes, and the most bytes ltxweb takes for it. Images
    may arrive larger than the API takes, to be offered a re-encode (see asset_create)."""
    kind = field_name if field_name in _SMALLER_HINT else "video"
    return kind, rules.UPLOAD_MAX_BYTES * (IMAGE_INTAKE_FACTOR if kind == "image" else 1)


class UploadTooLarge(Exception):
    def __init__(self, field_name: str, kind: str, limit: int):
        self.field_name = field_name
        self.message = (
            f"The file is over {limit // rules.MB} MB, the most ltxweb takes for "
            f"{_ARTICLE[kind]} {kind}; {_SMALLER_HINT[kind]}"
        )
        super().__init__(self.message)


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes and stops the upload at its limit; passes data on unchanged."""

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        self.kind, self.limit = upload_limit(field_name)
        self.received = 0
        if content_length is not None and content_length > self.limit:
            raise UploadTooLarge(field_name, self.kind, self.limit)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.field_name, self.kind, self.limit)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the file


class UploadLimitMiddleware:
    """Puts SizeLimitHandler first and answers an upload over its limit: a page, or under
    /api/ the API's JSON error. Placed before CsrfViewMiddleware, which reads the body of
    every POST it checks: for those views the body is read here first, inside this guard;
    csrf-exempt views (the JSON API) read it themselves and their UploadTooLarge comes back
    through process_exception."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.upload_handlers.insert(0, SizeLimitHandler(request))
        return self.get_response(request)

    def process_view(self, request, view, view_args, view_kwargs):
        if getattr(view, "csrf_exempt", False) or request.method != "POST":
            return None
        if request.content_type != "multipart/form-data":
            return None
        try:
            request.POST  # noqa: B018 - read now, as the CSRF check is about to
        except UploadTooLarge as exc:
            return self._refused(request, exc)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, UploadTooLarge):
            return self._refused(request, exception)
        return None

    def _refused(self, request, exception: UploadTooLarge):
        for handler in request.upload_handlers:  # the partial temporary file goes now
            partial = getattr(handler, "file", None)
            if partial is not None and hasattr(partial, "close"):
                partial.close()
        # The rest of the body is never read (the server closes the connection).
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "type": "payload_too_large",
                        "message": f"{exception.field_name}: {exception.message}",
                        "fields": {exception.field_name: [exception.message]},
                    }
                },
                status=413,
            )
        return render(
            request,
            "jobs/upload_refused.html",
            {"message": exception.message, "back": request.path},
            status=413,
        )
