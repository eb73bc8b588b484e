"""A plain client for the LTX-2 API (no Django): one HTTP call per method, MP4s streamed to
disk, every failure an `errors.LTXError`. One attempt only: retrying is the caller's
decision, since only the caller knows what a retry may cost."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests
from urllib3.exceptions import NewConnectionError

from generations.ltx import errors, rules
from generations.ltx.schemas import LTXRequest

logger = logging.getLogger(__name__)

VIDEO_CONTENT_TYPES = ("video/mp4", "application/octet-stream")
CHUNK_SIZE = 1024 * 1024
# Far above any real answer (a 10 s 4K video is tens of MB): a guard, not a rule of the API.
MAX_VIDEO_BYTES = 2 * 1024**3
USER_AGENT = "ltxweb-ltx-client/1"
# A poll is answered at once: a silence this long is a failed poll, tried again.
POLL_READ_TIMEOUT = 30.0
JOB_STATUSES = ("pending", "processing", "completed", "failed")


@dataclass(frozen=True)
class VideoResult:
    request_id: str | None
    size_bytes: int


@dataclass(frozen=True)
class SubmittedJob:
    """An asynchronous job the API accepted (`POST /v2/{endpoint}`, 202)."""

    job_id: str
    request_id: str | None


@dataclass(frozen=True)
class JobStatus:
    """One poll of an asynchronous job: pending, processing, completed or failed."""

    job_id: str
    status: str
    video_url: str | None = field(default=None, repr=False)  # signed: never logged
    error: object = None

    TERMINAL = ("completed", "failed")

    @property
    def terminal(self) -> bool:
        return self.status in self.TERMINAL


@dataclass(frozen=True)
class Upload:
    storage_uri: str
    upload_url: str = field(repr=False)  # signed: a credential in itself, never logged
    expires_at: dt.datetime
    required_headers: dict[str, str] = field(repr=False)
    request_id: str | None = None


class LTXClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 900.0,
    ):
        if not api_key:
            raise ValueError("an LTX API key is required")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        # Generations take minutes: the read timeout is the longest silence we accept.
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()

    def __repr__(self) -> str:  # never show the key
        return f"<LTXClient {self.base_url}>"

    def _url(self, endpoint: str, version: str = "v1") -> str:
        return f"{self.base_url}/{version}/{endpoint}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}", "User-Agent": USER_AGENT}

    def _send(
        self, method: str, url: str, *, billed: bool = True, timeout=None, **kwargs
    ) -> requests.Response:
        """Send one request; failures before any answer become LTXErrors. Only a `billed`
        request's lost answer may have cost money: an upload's (or its PUT's) cost nothing, so
        it is a connection failure, retried as one."""
        lost = errors.ResponseLostError if billed else errors.ConnectionFailedError
        cost = "may still be processed (and billed)" if billed else "cost nothing"
        timeout = timeout or self.timeout
        try:
            return self.session.request(method, url, timeout=timeout, **kwargs)
        except requests.exceptions.ConnectTimeout as exc:
            raise errors.ConnectionFailedError(
                f"Could not connect to the API: {_reason(exc)}"
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise lost(
                f"No answer from the API within {timeout[1]:g} s; the request was sent and {cost}"
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            if _never_connected(exc):
                raise errors.ConnectionFailedError(
                    f"Could not connect to {self.base_url}: {_reason(exc)}"
                ) from exc
            message = f"The connection to the API broke before an answer arrived ({cost})"
            raise lost(f"{message}: {_reason(exc)}") from exc

    @staticmethod
    def _raise_for_error(response: requests.Response) -> None:
        if 200 <= response.status_code < 300:
            return
        error = _error(response)
        logger.info(
            "LTX API %s %s -> %s %s (request id %s)",
            response.request.method,
            response.request.path_url,
            response.status_code,
            error.error_type,
            error.request_id,
        )
        raise error

    def generate(
        self,
        request: LTXRequest,
        dest: str | os.PathLike | IO[bytes] | Callable[[IO[bytes]], object],
        *,
        max_bytes: int = MAX_VIDEO_BYTES,
    ) -> VideoResult:
        """Stream the MP4 to `dest`: a path (written only once whole), a binary file, or a
        function handed the body as a readable file to read to its end (a shared storage's
        save). A body cut short or over `max_bytes` raises ResponseLostError from its reads,
        so no reader takes part of a video for a whole one (it may still have been billed)."""
        payload = request.payload()
        url = self._url(request.endpoint)
        response = self._send("POST", url, json=payload, headers=self._headers(), stream=True)
        with response:
            self._raise_for_error(response)
            size = _receive(response, dest, max_bytes, lost=errors.ResponseLostError)
        request_id = response.headers.get("x-request-id")
        logger.info(
            "LTX API %s -> %s, %d bytes (request id %s)",
            request.endpoint,
            response.status_code,
            size,
            request_id,
        )
        return VideoResult(request_id=request_id, size_bytes=size)

    def submit(self, request: LTXRequest) -> SubmittedJob:
        """POST /v2/{endpoint}: the same body as v1, answered at once with the job's id. A
        lost answer may still have started (and will bill) a job whose id we never learn."""
        url = self._url(request.endpoint, "v2")
        response = self._send("POST", url, json=request.payload(), headers=self._headers())
        with response:
            self._raise_for_error(response)
            request_id = response.headers.get("x-request-id")
            document = _json(response, "job")
            job_id = document.get("id")
            if not isinstance(job_id, str) or not job_id:
                raise errors.UnexpectedResponseError(
                    "The API accepted the job but sent no job id",
                    status=response.status_code,
                    request_id=request_id,
                )
        logger.info("LTX API v2 %s -> job %s (request id %s)", request.endpoint, job_id, request_id)
        return SubmittedJob(job_id=job_id, request_id=request_id)

    def job_status(self, endpoint: str, job_id: str) -> JobStatus:
        """GET /v2/{endpoint}/{id}: a poll costs nothing, so a lost answer is only a failed
        connection. A 404 means the job is unknown or past its retention: JobExpiredError."""
        url = self._url(f"{endpoint}/{job_id}", "v2")
        timeout = (self.timeout[0], POLL_READ_TIMEOUT)
        response = self._send("GET", url, billed=False, timeout=timeout, headers=self._headers())
        with response:
            if response.status_code == 404:
                raise errors.JobExpiredError(
                    f"The API no longer knows job {job_id}: it does not exist or its result "
                    "expired (results are kept 24 hours)",
                    status=404,
                    request_id=response.headers.get("x-request-id"),
                )
            self._raise_for_error(response)
            document = _json(response, "job status")
        status = document.get("status")
        if status not in JOB_STATUSES:
            raise errors.UnexpectedResponseError(
                f"The job status {status!r} is not one the API documents",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
            )
        result = document.get("result") if isinstance(document.get("result"), dict) else {}
        video_url = result.get("video_url")
        if status == "completed" and not isinstance(video_url, str):
            raise errors.UnexpectedResponseError(
                "The job completed without a result.video_url", status=response.status_code
            )
        return JobStatus(job_id, status, video_url=video_url, error=document.get("error"))

    def download(
        self,
        url: str,
        dest: str | os.PathLike | IO[bytes] | Callable[[IO[bytes]], object],
        *,
        max_bytes: int = MAX_VIDEO_BYTES,
    ) -> VideoResult:
        """Stream a completed job's result to `dest` (as `generate` does). The URL points at
        cloud storage, not at the API: it is signed, and our key is never sent there. Any
        failure is a DownloadFailedError: the result stays for 24 hours, so it is fetched
        again."""
        headers = {"User-Agent": USER_AGENT}
        try:
            response = self._send("GET", url, billed=False, headers=headers, stream=True)
        except errors.ConnectionFailedError as exc:
            raise errors.DownloadFailedError(exc.message) from exc
        with response:
            if not 200 <= response.status_code < 300:
                raise errors.DownloadFailedError(
                    f"The result download answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            size = _receive(response, dest, max_bytes, lost=errors.DownloadFailedError)
        return VideoResult(request_id=response.headers.get("x-request-id"), size_bytes=size)

    def create_upload(self) -> Upload:
        """POST /v1/upload: a signed URL to PUT one file to, and its storage URI."""
        response = self._send("POST", self._url("upload"), billed=False, headers=self._headers())
        with response:
            self._raise_for_error(response)
            request_id = response.headers.get("x-request-id")
            try:
                document = response.json()
                return Upload(
                    storage_uri=document["storage_uri"],
                    upload_url=document["upload_url"],
                    expires_at=_parse_datetime(document["expires_at"]),
                    required_headers=dict(document.get("required_headers") or {}),
                    request_id=request_id,
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise errors.UnexpectedResponseError(
                    f"The upload answer was not the documented JSON: {exc}",
                    status=response.status_code,
                    request_id=request_id,
                ) from exc

    def upload(self, source: str | os.PathLike | IO[bytes], content_type: str) -> Upload:
        """Upload a file (path or binary file object) and return its `ltx://` storage URI."""
        content_type = rules.normalize_mime(content_type)
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as fh:
                return self.upload(fh, content_type)
        size = _remaining_size(source)
        if size is not None and size > rules.UPLOAD_MAX_BYTES:
            raise rules.RequestInvalid(
                f"file is {size / rules.MB:.1f} MB; uploads are limited to "
                f"{rules.UPLOAD_MAX_BYTES // rules.MB} MB"
            )
        upload = self.create_upload()
        # The signed URL goes to cloud storage, not to the API: never send our key there.
        headers = {"Content-Type": content_type, **upload.required_headers}
        response = self._send("PUT", upload.upload_url, billed=False, data=source, headers=headers)
        with response:
            if not 200 <= response.status_code < 300:
                raise _error(response)  # not logged: the signed URL is a credential
        logger.info(
            "LTX upload stored as %s (request id %s)", upload.storage_uri, upload.request_id
        )
        return upload


def _receive(response: requests.Response, dest, max_bytes: int, *, lost) -> int:
    """Read a video answer into `dest`; its size. A body cut short raises `lost`."""
    request_id = response.headers.get("x-request-id")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type not in VIDEO_CONTENT_TYPES:
        raise errors.UnexpectedResponseError(
            f"Expected an MP4 but got {content_type or 'no content type'}",
            status=response.status_code,
            request_id=request_id,
        )
    body = _Body(response, request_id, max_bytes, lost=lost)
    if isinstance(dest, str | os.PathLike):
        _write_to_path(body, Path(dest))
    elif callable(dest):
        _hand_over(body, dest)
    else:
        shutil.copyfileobj(body, dest, CHUNK_SIZE)
    return body.size


def _json(response: requests.Response, what: str) -> dict:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise errors.UnexpectedResponseError(
            f"The {what} answer was not the documented JSON",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        )
    return document


def _error(response: requests.Response) -> errors.LTXError:
    # Error bodies are small: never read a huge one.
    return errors.error_from_response(
        response.status_code,
        response.content[:65536],
        request_id=response.headers.get("x-request-id"),
        retry_after=response.headers.get("Retry-After"),
    )


class _Body(io.RawIOBase):
    """The answer's body as a readable, unseekable binary file, checked as it is read; its
    size is how many bytes it had (the kept, tagged copy is hashed)."""

    def __init__(
        self, response: requests.Response, request_id: str | None, max_bytes: int, *, lost
    ):
        self._response, self._request_id, self._max_bytes = response, request_id, max_bytes
        self._lost_class = lost
        length = response.headers.get("Content-Length")
        self._expected = int(length) if length is not None and length.isdigit() else None
        self._chunks = response.iter_content(CHUNK_SIZE)
        self._pending = bytearray()  # deleting from its front costs nothing in CPython
        self.size, self.done, self.error = 0, False, None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            while not self.done and (size is None or size < 0 or len(self._pending) < size):
                self._pending += self._next()
        except errors.LTXError as exc:
            self.error = exc  # kept: a reader (boto3's upload) may wrap what it raised
            raise
        size = len(self._pending) if size is None or size < 0 else size
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def _next(self) -> bytes:
        if self._expected is not None and self._expected > self._max_bytes:
            limit = self._max_bytes
            raise self._lost(f"The video is {self._expected} bytes, over our limit of {limit}")
        try:
            chunk = next(self._chunks, b"")
        except requests.exceptions.RequestException as exc:  # requests wraps socket errors
            raise self._lost(
                f"The video stopped arriving after {self.size} bytes: {_reason(exc)}"
            ) from exc
        self.size += len(chunk)
        if self.size > self._max_bytes:
            limit = self._max_bytes
            raise self._lost(f"The video passed our limit of {limit} bytes; it was not kept")
        if not chunk:
            self.done = True
            if self._expected is not None and self._expected != self.size:
                cut = f"{self.size} of {self._expected} bytes arrived"
                raise self._lost(f"The video was cut short: {cut}")
            if self.size == 0:
                raise errors.UnexpectedResponseError(
                    "The API answered success with an empty body",
                    status=self._response.status_code,
                    request_id=self._request_id,
                )
        return chunk

    def _lost(self, message: str) -> errors.LTXError:
        status = self._response.status_code
        return self._lost_class(message, status=status, request_id=self._request_id)


def _hand_over(body: _Body, take: Callable[[IO[bytes]], object]) -> None:
    """`take` reads the body to its end; the body's own error wins over however the reader
    reported it."""
    try:
        take(body)
    except Exception as exc:
        if body.error is None or exc is body.error:
            raise
        raise body.error from exc
    if body.error is not None:
        raise body.error
    if not body.done:
        raise ValueError("the video was not read to its end")


def _write_to_path(body: _Body, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".ltx-", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(body, out, CHUNK_SIZE)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _remaining_size(fh: IO[bytes]) -> int | None:
    try:
        position = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end - position


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP connection was never made, so the request was never sent."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


def _reason(exc: BaseException) -> str:
    """The error's text without any URL's query: a signed upload URL's is a credential."""
    text = re.sub(r"\?[^\s'\"()]*", "?…", str(exc))
    return text if len(text) < 300 else text[:300] + "…"


def _parse_datetime(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z too
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
