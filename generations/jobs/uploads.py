"""Uploads refused at their size limit while they stream in: Django reads a whole multipart
body into a temporary file before a view sees it, so a 10 GB upload would otherwise be read in full
only to be refused. Nothing is kept; the person gets the message the view would give."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadhandler import FileUploadHandler
from django.http import JsonResponse
from django.shortcuts import render

from generations.jobs.assets import intake_limit, too_large_message


def takes_uploads(view):
    """Marks a view whose form carries files: any other refuses a body larger than a form."""
    view.takes_uploads = True
    return view


# A file field's kind, by its name (image-to-video's last image is an image too); any other
# field takes a video.
FILE_FIELD_KINDS = {"image": "image", "last_image": "image", "audio": "audio"}


def _largest_body(view) -> int:
    """Every file a form takes at its limit, and room for the form's fields."""
    if not getattr(view, "takes_uploads", False):
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    kinds = [*FILE_FIELD_KINDS.values(), "video"]
    return sum(intake_limit(kind) for kind in kinds) + 2**20


class UploadTooLarge(Exception):
    def __init__(self, field_name: str, kind: str):
        self.field_name = field_name
        self.message = too_large_message(kind)
        super().__init__(self.message)


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes and stops the upload at its limit; passes data on unchanged."""

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        self.kind = FILE_FIELD_KINDS.get(field_name, "video")
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
        # Refused from the headers alone, before a byte of the body is read: a body larger
        # than this page takes, and an upload from someone not signed in. (The CSRF token is
        # in the body, so it is checked once the body is read, within these limits.)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > _largest_body(view):
            return self._refused(request, UploadTooLarge("", "video"), taken=False)
        if request.content_type != "multipart/form-data":
            return None
        if getattr(view, "takes_uploads", False) and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            request.POST  # noqa: B018 - read now, as the CSRF check is about to
        except UploadTooLarge as exc:
            return self._refused(request, exc)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, UploadTooLarge):
            return self._refused(request, exception)
        return None

    def _refused(self, request, exception: UploadTooLarge, taken: bool = True):
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
        message = exception.message if taken else "This request is larger than this page takes."
        return render(
            request,
            "jobs/upload_refused.html",
            {"message": message, "back": request.path},
            status=413,
        )
