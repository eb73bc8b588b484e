"""Serving stored media with HTTP range requests, so that browsers can seek in a <video>:
Django's FileResponse (5.2) ignores Range, and Safari will not play a video served without it.
"""

import os
import re
from http import HTTPStatus

from django.http import Http404, HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import content_disposition_header

# Low per-chunk overhead; a hundred concurrent downloads hold only a few megabytes.
CHUNK_SIZE = 64 * 1024
# The videos are private to a team: shared caches must not keep them (hence "private"),
# and a browser may reuse what it has for an hour while someone scrubs back and forth.
MAX_AGE = 60 * 60

# A single range; a list of ranges gets the whole file, which RFC 9110 allows. 18 digits (an
# exabyte) spare int() absurdly long numbers.
_SINGLE_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})", re.IGNORECASE)


class _UnsatisfiableRange(Exception):
    """A well-formed range that lies wholly outside the file."""


def ranged_file_response(
    request: HttpRequest,
    open_file,
    *,
    size: int,
    content_type: str,
    filename: str | None = None,
    as_attachment: bool = False,
) -> StreamingHttpResponse:
    """`open_file` (`size` bytes), or the single range a GET asks for (206; 416 when wholly
    past the end). The response takes over `open_file` and closes it when it is closed."""
    status, first, length = HTTPStatus.OK, 0, size
    content_range = None
    header = request.headers.get("Range")
    # With If-Range, a client asks for the range only if its copy is still current. We
    # send no validators (ETag, Last-Modified) to compare against, so the whole file it is.
    if header and request.method == "GET" and "If-Range" not in request.headers:
        try:
            requested = _requested_range(header, size)
        except _UnsatisfiableRange:
            status, length = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 0
            content_range = f"bytes */{size}"
        else:
            if requested is not None:
                first, last = requested
                status, length = HTTPStatus.PARTIAL_CONTENT, last - first + 1
                content_range = f"bytes {first}-{last}/{size}"

    body = _FileChunks(open_file, start=first, length=0 if request.method == "HEAD" else length)
    response = StreamingHttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if content_range is not None:
        response["Content-Range"] = content_range
    # Without a filename, content_disposition_header gives nothing for inline files.
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment, os.path.basename(filename or "")) or "inline"
    )
    response["Cache-Control"] = f"private, max-age={MAX_AGE}"
    return response


def _requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a Range header asks for; None when the header is to be
    ignored, _UnsatisfiableRange when no byte of the file was asked for."""
    match = _SINGLE_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == last == "":  # "bytes=-"
        return None
    if first == "":
        suffix_length = int(last)
        if suffix_length == 0 or size == 0:
            raise _UnsatisfiableRange
        return max(size - suffix_length, 0), size - 1
    first = int(first)
    last = int(last) if last else None
    if last is not None and last < first:
        return None
    if first >= size:
        raise _UnsatisfiableRange
    return first, size - 1 if last is None else min(last, size - 1)


class _FileChunks:
    """`length` bytes of a file from `start`, a chunk at a time. StreamingHttpResponse closes
    its content with the response, which closes the file; a generator would not do, as closing
    one that never started does not run its cleanup."""

    def __init__(self, file, *, start: int, length: int):
        self._file = file
        self._start = start
        self._length = length

    def __iter__(self):
        if self._length == 0:
            return
        self._file.seek(self._start)
        remaining = self._length
        while remaining > 0:
            chunk = self._file.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return  # shorter than `size` said: clients see a failed transfer
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


def stored_file_response(request, field_file, *, content_type, filename, as_attachment=False):
    """A stored file (a FieldFile) for the browser: streamed with Range support from local
    files, or a redirect to a presigned URL from S3."""
    if not field_file:
        raise Http404("Not stored yet")
    storage = field_file.storage
    try:
        storage.path(field_file.name)
    except NotImplementedError:
        # S3 and the like: a presigned URL that expires within minutes.
        return HttpResponseRedirect(storage.url(field_file.name))
    handle = storage.open(field_file.name, "rb")
    return ranged_file_response(
        request,
        handle,
        size=storage.size(field_file.name),
        content_type=content_type,
        filename=filename,
        as_attachment=as_attachment,
    )
