"""ltxsim: a local server of the LTX-2 API that behaves as its docs say.

It serves `/v1/text-to-video`, `/v1/image-to-video`, `/v1/audio-to-video`, `/v1/retake` and
`/v1/upload` (plus the signed upload URLs under `/storage/`), with the documented auth,
validation (the same `rules` as the client), error envelope, limits and real MP4 answers.
Load and faults can be injected so the app can be tested against a realistic, unreliable API.

It knows nothing of the app: no Django imports.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import random
import secrets
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from generations import media
from generations.ltx import pricing, rules, schemas
from generations.simulator import DEMO_API_KEY, render

logger = logging.getLogger("ltxsim")

MAX_BODY_BYTES = 20 * rules.MB  # the infrastructure's limit: data URIs of 15 MB fit
UPLOAD_SIZE_HEADER = "x-goog-content-length-range"
SEND_CHUNK = 256 * 1024
ENDPOINTS = set(rules.GENERATION_ENDPOINTS)


@dataclass
class Config:
    api_keys: list[str]
    host: str = "127.0.0.1"
    port: int = 8001
    public_url: str | None = None  # how clients reach us, for upload URLs
    latency: float = 0.0
    concurrency_limit: int | None = None
    rate_limit_per_minute: int | None = None
    fail_rate: float = 0.0
    fail_status: int = 500
    credits: Decimal | None = None
    filter_words: list[str] = field(default_factory=list)
    drop_rate: float = 0.0
    record_path: Path | None = None
    data_dir: Path | None = None
    allow_fetch_hosts: dict[str, str | None] = field(default_factory=dict)
    upload_url_ttl: float = rules.UPLOAD_URL_TTL_SECONDS
    file_ttl: float = rules.UPLOADED_FILE_TTL_SECONDS
    seed: int | None = None


class Refusal(Exception):
    """An error answer: status, documented type and message (and maybe Retry-After)."""

    def __init__(self, status: int, error_type: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.retry_after = retry_after


@dataclass
class StoredUpload:
    path: Path
    created: float
    content_type: str | None = None
    complete: bool = False


class SimulatorState:
    """Everything shared between request threads, behind one lock."""

    def __init__(self, config: Config):
        self.config = config
        self.lock = threading.Lock()
        self.in_flight = 0  # generations being made
        self.peak_in_flight = 0
        self.active_requests = 0  # requests of any kind being answered
        self.request_times: dict[str, deque[float]] = {}
        self.balance = config.credits
        self.uploads: dict[str, StoredUpload] = {}
        self.random = random.Random(config.seed)
        self.signing_key = secrets.token_bytes(32)
        if config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ltxsim-")
            self.data_dir = Path(self._tmp.name)
        else:
            self.data_dir = config.data_dir
        (self.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "cache").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "work").mkdir(parents=True, exist_ok=True)
        self.record_lock = threading.Lock()

    # -- limits ----------------------------------------------------------------------------

    def check_rate_limit(self, api_key: str) -> None:
        limit = self.config.rate_limit_per_minute
        if not limit:
            return
        now = time.monotonic()
        with self.lock:
            window = self.request_times.setdefault(api_key, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(60 - (now - window[0])))
                raise Refusal(
                    429,
                    "rate_limit_error",
                    f"Too many requests: the limit is {limit} per minute. Please try again later.",
                    retry_after,
                )
            window.append(now)

    @contextlib.contextmanager
    def generation_slot(self):
        limit = self.config.concurrency_limit
        with self.lock:
            if limit is not None and self.in_flight >= limit:
                raise Refusal(
                    429,
                    "concurrency_limit_error",
                    f"Too many concurrent requests: at most {limit} generations at once.",
                    max(1, math.ceil(self.config.latency)),
                )
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1

    def reserve_credits(self, cost: Decimal) -> None:
        with self.lock:
            if self.balance is None:
                return
            if cost > self.balance:
                raise Refusal(
                    402,
                    "insufficient_funds_error",
                    f"Insufficient funds. Required: {cost} credits, available: "
                    f"{self.balance} credits",
                )
            self.balance -= cost

    def refund_credits(self, cost: Decimal) -> None:
        with self.lock:
            if self.balance is not None:
                self.balance += cost

    def chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self.lock:
            return self.random.random() < probability

    # -- uploads ---------------------------------------------------------------------------

    def sign(self, upload_id: str, expires: int) -> str:
        message = f"{upload_id}:{expires}".encode()
        return hmac.new(self.signing_key, message, hashlib.sha256).hexdigest()

    def new_upload(self) -> tuple[str, int]:
        upload_id = uuid.uuid4().hex
        now = time.time()
        with self.lock:
            self.uploads[upload_id] = StoredUpload(
                path=self.data_dir / "uploads" / upload_id, created=now
            )
        return upload_id, int(now + self.config.upload_url_ttl)

    def stored_file(self, storage_uri: str, field_name: str) -> Path:
        upload_id = storage_uri.rsplit("/", 1)[-1]
        with self.lock:
            stored = self.uploads.get(upload_id)
        if stored is None or not stored.complete:
            raise Refusal(
                400,
                "invalid_request_error",
                f"{field_name} {storage_uri} was not found: upload a file to its upload_url first",
            )
        if time.time() - stored.created > self.config.file_ttl:
            raise Refusal(
                400,
                "invalid_request_error",
                f"{field_name} {storage_uri} has expired: uploaded files are kept for "
                f"{self.config.file_ttl / 3600:g} hours",
            )
        return stored.path

    # -- the record ------------------------------------------------------------------------

    def record(self, entry: dict) -> None:
        if self.config.record_path is None:
            return
        line = json.dumps(entry, sort_keys=True)
        with self.record_lock, open(self.config.record_path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ltxsim/1"
    server: SimulatorServer

    # -- plumbing --------------------------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        logger.debug("%s - %s", self.address_string(), format % args)

    @property
    def state(self) -> SimulatorState:
        return self.server.state

    def _start(self):
        self.request_id = uuid.uuid4().hex
        self.started = time.time()
        self.body_read = False

    def _send_json(self, status: int, document: dict, extra_headers: dict | None = None):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.request_id)
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        if not self.body_read:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, refusal: Refusal):
        headers = {}
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        if refusal.status == 413 or refusal.error_type == "gateway_timeout":
            # These come from the infrastructure, not the API: no JSON envelope.
            self._send_plain(refusal.status, refusal.message, headers)
            return
        self._send_json(
            refusal.status,
            {"type": "error", "error": {"type": refusal.error_type, "message": refusal.message}},
            headers,
        )

    def _send_plain(self, status: int, text: str, headers: dict | None = None):
        phrase = HTTPStatus(status).phrase
        body = (
            f"<html><head><title>{status} {phrase}</title></head>"
            f"<body><h1>{status} {phrase}</h1><p>{text}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = self._content_length()
        if length > MAX_BODY_BYTES:
            raise Refusal(
                413,
                "request_too_large",
                f"Request body of {length} bytes exceeds the limit of {MAX_BODY_BYTES} bytes",
            )
        body = self.rfile.read(length) if length else b""
        self.body_read = True
        return body

    def _content_length(self) -> int:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise Refusal(
                411, "invalid_request_error", "chunked request bodies are not accepted here"
            )
        try:
            return max(int(self.headers.get("Content-Length") or 0), 0)
        except ValueError:
            raise Refusal(400, "invalid_request_error", "invalid Content-Length") from None

    def _authenticate(self) -> str:
        header = self.headers.get("Authorization")
        if not header:
            raise Refusal(401, "authentication_error", "Missing authorization header")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Refusal(
                401, "authentication_error", "Malformed header: use 'Bearer YOUR_API_KEY'"
            )
        key = key.strip()
        if not any(hmac.compare_digest(key, known) for known in self.state.config.api_keys):
            raise Refusal(401, "authentication_error", "Invalid API key")
        return key

    def _record(self, endpoint: str, status: int, error_type: str | None = None, **extra):
        self.state.record(
            {
                "endpoint": endpoint,
                "status": status,
                "error_type": error_type,
                "request_id": self.request_id,
                "start": self.started,
                "end": time.time(),
                **extra,
            }
        )

    # -- routes ----------------------------------------------------------------------------

    def do_POST(self):  # noqa: N802 - the stdlib's name
        self._serve(self._post)

    def do_PUT(self):  # noqa: N802
        self._serve(self._put)

    def do_GET(self):  # noqa: N802
        self._serve(self._get)

    def _serve(self, method):
        self._start()
        with self.state.lock:
            self.state.active_requests += 1
        try:
            method()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with self.state.lock:
                self.state.active_requests -= 1

    def _post(self):
        path = urlsplit(self.path).path
        endpoint = path.removeprefix("/v1/")
        if not path.startswith("/v1/") or (endpoint not in ENDPOINTS and endpoint != "upload"):
            refusal = Refusal(404, "not_found_error", f"No such endpoint: POST {path}")
            self._refuse(endpoint, refusal)
            return
        try:
            if endpoint == "upload":
                self._create_upload()
            else:
                self._generate(endpoint)
        except Refusal as refusal:
            self._refuse(endpoint, refusal)

    def _put(self):
        try:
            self._receive_upload()
        except Refusal as refusal:
            self._refuse("storage", refusal)

    def _get(self):
        self.body_read = True
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send_json(200, {"status": "ok", "simulator": True})
            return
        self._refuse("get", Refusal(404, "not_found_error", f"No such endpoint: GET {path}"))

    def _refuse(self, endpoint: str, refusal: Refusal):
        if not self.body_read and refusal.status != 413:
            # Drain a small body so the connection stays usable (keep-alive).
            with contextlib.suppress(Refusal, OSError):
                length = self._content_length()
                if length <= MAX_BODY_BYTES:
                    self.rfile.read(length)
                    self.body_read = True
        logger.info(
            "%s -> %s %s (request id %s)",
            endpoint,
            refusal.status,
            refusal.error_type,
            self.request_id,
        )
        self._send_error(refusal)
        self._record(endpoint, refusal.status, refusal.error_type)

    # -- /v1/upload ------------------------------------------------------------------------

    def _create_upload(self):
        api_key = self._authenticate()
        self._read_body()  # documented as taking no body; anything sent is ignored
        self.state.check_rate_limit(api_key)
        upload_id, expires = self.state.new_upload()
        signature = self.state.sign(upload_id, expires)
        base = self.server.public_url
        document = {
            "upload_url": f"{base}/storage/uploads/{upload_id}?expires={expires}"
            f"&signature={signature}",
            "storage_uri": f"ltx://uploads/{upload_id}",
            "expires_at": dt.datetime.fromtimestamp(expires, dt.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "required_headers": {UPLOAD_SIZE_HEADER: f"0,{rules.UPLOAD_MAX_BYTES}"},
        }
        self._send_json(200, document)
        self._record("upload", 200)

    def _receive_upload(self):
        parts = urlsplit(self.path)
        upload_id = parts.path.removeprefix("/storage/uploads/")
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError, IndexError):
            raise Refusal(403, "invalid_request_error", "The upload URL is not signed") from None
        if not hmac.compare_digest(signature, self.state.sign(upload_id, expires)):
            raise Refusal(403, "invalid_request_error", "The upload URL's signature is invalid")
        if time.time() > expires:
            raise Refusal(
                403,
                "invalid_request_error",
                "The upload URL has expired: upload URLs are valid for "
                f"{self.state.config.upload_url_ttl / 3600:g} hour(s); request a new one",
            )
        with self.state.lock:
            stored = self.state.uploads.get(upload_id)
        if stored is None:
            raise Refusal(404, "invalid_request_error", "No such upload")
        if self.headers.get(UPLOAD_SIZE_HEADER) != f"0,{rules.UPLOAD_MAX_BYTES}":
            raise Refusal(
                400,
                "invalid_request_error",
                f"The upload must carry the required header {UPLOAD_SIZE_HEADER}",
            )
        content_type = self.headers.get("Content-Type")
        if not content_type:
            raise Refusal(400, "invalid_request_error", "The upload needs a Content-Type header")
        length = self._content_length()
        if length > rules.UPLOAD_MAX_BYTES:
            raise Refusal(
                413,
                "request_too_large",
                f"The file is {length} bytes; uploads are limited to "
                f"{rules.UPLOAD_MAX_BYTES} bytes",
            )
        if length == 0:
            raise Refusal(400, "invalid_request_error", "The upload is empty")
        tmp = stored.path.with_suffix(".part")
        remaining = length
        with open(tmp, "wb") as out:
            while remaining:
                chunk = self.rfile.read(min(SEND_CHUNK, remaining))
                if not chunk:
                    break
                out.write(chunk)
                remaining -= len(chunk)
        self.body_read = True
        if remaining:
            tmp.unlink(missing_ok=True)
            self.close_connection = True
            return
        os.replace(tmp, stored.path)
        with self.state.lock:
            stored.content_type = rules.normalize_mime(content_type)
            stored.complete = True
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("x-request-id", self.request_id)
        self.end_headers()
        self._record("storage", 200, size=length)

    # -- generations -----------------------------------------------------------------------

    def _generate(self, endpoint: str):
        api_key = self._authenticate()
        raw = self._read_body()
        self.state.check_rate_limit(api_key)
        try:
            payload = json.loads(raw or b"null")
        except (UnicodeDecodeError, ValueError):
            raise Refusal(
                400, "invalid_request_error", "The request body must be valid JSON"
            ) from None
        try:
            request = schemas.validate_request(endpoint, payload)
        except rules.RequestInvalid as exc:
            raise Refusal(400, "invalid_request_error", exc.message) from None
        self._check_filter(request)
        with tempfile.TemporaryDirectory(dir=self.state.data_dir / "work") as work:
            inputs = self._resolve_inputs(request, Path(work))
            cost = pricing.estimate_cost(
                endpoint, request, input_seconds=self._billed_input_seconds(endpoint, inputs)
            )
            with self.state.generation_slot():
                self.state.reserve_credits(cost)
                try:
                    output = self._produce(endpoint, request, inputs, Path(work))
                except BaseException:
                    self.state.refund_credits(cost)
                    raise
                self._send_video(endpoint, output, cost)

    def _check_filter(self, request: dict):
        prompt = (request.get("prompt") or "").lower()
        for word in self.state.config.filter_words:
            if word and word.lower() in prompt:
                raise Refusal(
                    422, "content_filtered_error", "Content is filtered due to policy restrictions"
                )

    def _resolve_inputs(self, request: dict, work: Path) -> dict[str, tuple[Path, media.MediaInfo]]:
        inputs = {}
        for field_name, kind in rules.MEDIA_FIELDS.items():
            uri = request.get(field_name)
            if uri is None:
                continue
            parsed = rules.parse_media_uri(uri, field=field_name)
            if parsed.method == "storage":
                path = self.state.stored_file(uri, field_name)
            elif parsed.method == "data":
                path = work / field_name
                path.write_bytes(parsed.decoded())
            else:
                path = self._fetch(parsed, work / field_name)
            try:
                info = media.probe(path)
                media.check_api_input(info, kind)
            except media.MediaError as exc:
                raise Refusal(
                    400, "invalid_request_error", f"{field_name}: {exc.message}"
                ) from None
            if kind == "video":
                try:
                    rules.check_retake_video(
                        width=info.width,
                        height=info.height,
                        duration=info.duration,
                        frames=info.frames,
                    )
                except rules.RequestInvalid as exc:
                    raise Refusal(400, "invalid_request_error", exc.message) from None
            inputs[field_name] = (path, info)
        return inputs

    def _fetch(self, parsed: rules.MediaUri, dest: Path) -> Path:
        """Fetch an https input as the API does: no redirects, a size and a time limit."""
        parts = urlsplit(parsed.uri)
        host = (parts.hostname or "").lower()
        allowed = self.state.config.allow_fetch_hosts
        if host not in allowed:
            raise Refusal(
                400,
                "invalid_request_error",
                f"Could not fetch {parsed.kind} from {host}: the file is not publicly accessible",
            )
        target = allowed[host]
        url = parsed.uri if target is None else f"http://{target}{parts.path or '/'}"
        if target is not None and parts.query:
            url += f"?{parts.query}"
        limit = rules.HTTPS_MAX_BYTES[parsed.kind]
        timeout = rules.HTTPS_FETCH_TIMEOUT_SECONDS[parsed.kind]
        deadline = time.monotonic() + timeout
        try:
            with requests.get(url, stream=True, allow_redirects=False, timeout=timeout) as resp:
                if 300 <= resp.status_code < 400:
                    raise Refusal(
                        400,
                        "invalid_request_error",
                        f"{parsed.uri} redirects; media URLs must not redirect",
                    )
                if resp.status_code != 200:
                    raise Refusal(
                        400,
                        "invalid_request_error",
                        f"Could not fetch {parsed.uri}: HTTP {resp.status_code}",
                    )
                size = 0
                with open(dest, "wb") as out:
                    for chunk in resp.iter_content(SEND_CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise Refusal(
                                400,
                                "invalid_request_error",
                                f"{parsed.uri} is larger than {limit // rules.MB} MB, the "
                                f"limit for {parsed.kind} URLs; use /v1/upload instead",
                            )
                        if time.monotonic() > deadline:
                            raise requests.Timeout()
                        out.write(chunk)
        except requests.RequestException:
            raise Refusal(
                400,
                "invalid_request_error",
                f"Could not fetch {parsed.uri} within {timeout} s",
            ) from None
        return dest

    @staticmethod
    def _billed_input_seconds(endpoint: str, inputs: dict) -> float | None:
        if endpoint == rules.AUDIO_TO_VIDEO:
            return inputs["audio_uri"][1].duration
        if endpoint == rules.RETAKE:
            return inputs["video_uri"][1].duration
        return None

    def _produce(self, endpoint: str, request: dict, inputs: dict, work: Path) -> Path:
        config = self.state.config
        if config.latency:
            time.sleep(config.latency)
        if self.state.chance(config.fail_rate):
            if config.fail_status == 503:
                raise Refusal(503, "service_unavailable", "Service temporarily unavailable")
            if config.fail_status == 504:
                raise Refusal(504, "gateway_timeout", "upstream request timeout")
            raise Refusal(500, "api_error", "Internal server error")
        output = work / "output.mp4"
        cache_dir = self.state.data_dir / "cache"
        captions = _captions(endpoint, request)
        if endpoint == rules.RETAKE:
            render.render_retake(
                output,
                source=inputs["video_uri"][0],
                start_time=request["start_time"],
                duration=request["duration"],
                mode=request["mode"],
                caption_lines=captions,
                cache_dir=cache_dir,
            )
            return output
        image = inputs.get("image_uri", (None,))[0]
        if endpoint == rules.AUDIO_TO_VIDEO:
            audio_path, audio_info = inputs["audio_uri"]
            width, height = rules.parse_resolution(request["resolution"])
            render.render_generation(
                output,
                width=width,
                height=height,
                fps=rules.AUDIO_TO_VIDEO_FPS,
                frames=max(1, round(audio_info.duration * rules.AUDIO_TO_VIDEO_FPS)),
                caption_lines=captions,
                first_image=image,
                soundtrack=audio_path,
                cache_dir=cache_dir,
            )
            return output
        width, height = rules.parse_resolution(request["resolution"])
        render.render_generation(
            output,
            width=width,
            height=height,
            fps=request["fps"],
            frames=request["duration"] * request["fps"],
            caption_lines=captions,
            first_image=image,
            generate_audio=request["generate_audio"],
            cache_dir=cache_dir,
        )
        return output

    def _send_video(self, endpoint: str, path: Path, cost: Decimal):
        size = path.stat().st_size
        dropped = self.state.chance(self.state.config.drop_rate)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.send_header("x-request-id", self.request_id)
        if dropped:
            self.send_header("Connection", "close")
        self.end_headers()
        # Only the first part is sent when the response is to be lost: the client sees the
        # connection cut mid-body, as when a proxy or network fails.
        to_send = size // 3 if dropped else size
        with open(path, "rb") as fh:
            while to_send > 0:
                chunk = fh.read(min(SEND_CHUNK, to_send))
                if not chunk:
                    break
                self.wfile.write(chunk)
                to_send -= len(chunk)
        if dropped:
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        self._record(endpoint, 200, None, dropped=dropped, cost=str(cost), size=size)


def _captions(endpoint: str, request: dict) -> list[str]:
    prompt = (request.get("prompt") or "").strip() or "(no prompt)"
    if endpoint == rules.RETAKE:
        details = (
            f"retake {request['mode']} from {request['start_time']:g} s "
            f"for {request['duration']:g} s"
        )
    elif endpoint == rules.AUDIO_TO_VIDEO:
        details = f"audio-to-video {request['model']} {request['resolution']} 25 fps"
    else:
        details = (
            f"{endpoint} {request['model']} {request['resolution']} {request['fps']} fps "
            f"{request['duration']} s"
        )
        if request.get("camera_motion"):
            details += f" {request['camera_motion']}"
        if not request.get("generate_audio", True):
            details += " silent"
    # No request id in the picture: identical requests then share one cached render.
    return [prompt, details, "ltxsim · simulated LTX-2 video"]


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, config: Config):
        self.state = SimulatorState(config)
        super().__init__((config.host, config.port), Handler)
        host, port = self.server_address[:2]
        self.public_url = (config.public_url or f"http://{host}:{port}").rstrip("/")


# -- command line --------------------------------------------------------------------------


def _probability(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def _rate(value: str) -> int:
    number, _, unit = value.partition("/")
    if unit not in ("", "min", "m", "minute"):
        raise argparse.ArgumentTypeError("write the rate as N/min")
    try:
        count = int(number)
    except ValueError:
        raise argparse.ArgumentTypeError("write the rate as N/min") from None
    if count < 1:
        raise argparse.ArgumentTypeError("the rate must be at least 1/min")
    return count


def _fetch_host(value: str) -> tuple[str, str | None]:
    host, _, target = value.partition("=")
    if not host:
        raise argparse.ArgumentTypeError("write HOST or HOST=ADDRESS:PORT")
    return host.lower(), target or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="a key to accept (repeatable); default: $LTXV_API_KEY, else the demo key",
    )
    parser.add_argument("--public-url", help="the base URL clients use to reach this server")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to generations")
    parser.add_argument("--concurrency-limit", type=int, help="generations in flight at most")
    parser.add_argument("--rate-limit", type=_rate, help="requests per minute, as N/min")
    parser.add_argument("--fail-rate", type=_probability, default=0.0)
    parser.add_argument("--fail-status", type=int, choices=(500, 503, 504), default=500)
    parser.add_argument("--credits", type=Decimal, help="account balance in USD (unlimited)")
    parser.add_argument("--filter-words", default="", help="comma-separated words to refuse")
    parser.add_argument("--drop-rate", type=_probability, default=0.0)
    parser.add_argument("--record", type=Path, help="append a JSON line per request here")
    parser.add_argument("--data-dir", type=Path, help="where uploads and renders are kept")
    parser.add_argument(
        "--allow-fetch-host",
        action="append",
        type=_fetch_host,
        default=[],
        help="an https host whose files may be fetched; HOST=ADDRESS:PORT serves that host "
        "from a local plain-HTTP server (for tests and demos)",
    )
    parser.add_argument("--upload-url-ttl", type=float, default=rules.UPLOAD_URL_TTL_SECONDS)
    parser.add_argument("--file-ttl", type=float, default=rules.UPLOADED_FILE_TTL_SECONDS)
    parser.add_argument("--seed", type=int, help="seed for fault injection")


def config_from_options(options: dict) -> Config:
    api_keys = options.get("api_keys") or [os.environ.get("LTXV_API_KEY") or DEMO_API_KEY]
    return Config(
        api_keys=api_keys,
        host=options["host"],
        port=options["port"],
        public_url=options.get("public_url"),
        latency=options["latency"],
        concurrency_limit=options.get("concurrency_limit"),
        rate_limit_per_minute=options.get("rate_limit"),
        fail_rate=options["fail_rate"],
        fail_status=options["fail_status"],
        credits=options.get("credits"),
        filter_words=[w.strip() for w in options["filter_words"].split(",") if w.strip()],
        drop_rate=options["drop_rate"],
        record_path=options.get("record"),
        data_dir=options.get("data_dir"),
        allow_fetch_hosts=dict(options["allow_fetch_host"]),
        upload_url_ttl=options["upload_url_ttl"],
        file_ttl=options["file_ttl"],
        seed=options.get("seed"),
    )


def serve(config: Config, *, ready=None) -> None:
    server = SimulatorServer(config)
    logger.info(
        "ltxsim serving the LTX-2 API at %s (%d key(s) accepted)",
        server.public_url,
        len(config.api_keys),
    )
    print(f"ltxsim: LTX-2 API simulator at {server.public_url}", flush=True)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ltxsim", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s ltxsim %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(config_from_options(options))
