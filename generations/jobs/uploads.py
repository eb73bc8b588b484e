"""Uploads refused at their size limit while they stream in: Django reads a whole multipart
body into a temporary file before a view sees it, so a 10 GB upload would otherwise be read in full
only to be refused. Nothing is kept; the person gets the message the view would give."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render

from generations.jobs.assets import intake_limit, too_large_message


class UploadTooLarge(Exception):
    def __init__(self, field_name: str, kind: str):
        self.field_name = field_name
        self.message = too_large_message(kind)
        super().__init__(self.message)


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes and stops the upload at its limit; passes data on unchanged."""

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        # A file field named for its kind (image, audio); any other takes a video.
        self.kind = field_name if field_name in ("image", "audio") else "video"
        self.limit = intake_limit(self.kind)
        self.received = 0
        if content_length is not None and content_length > self.limit:
            raise UploadTooLarge(field_name, self.kind)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.field_name, self.kind)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the file


class UploadLimitMiddleware:
    """Puts SizeLimitHandler first and answers an upload over its limit. Before
    CsrfViewMiddleware, which reads every POST body it checks: those are read here first,
    inside this guard; csrf-exempt views (the API) raise through process_exception."""

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
