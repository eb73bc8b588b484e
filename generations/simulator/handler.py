"""The simulator's request handler plumbing, shared by the upload and generation routes."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from generations.ltx import rules
from generations.simulator.state import Refusal, SimulatorState, invalid

logger = logging.getLogger("ltxsim")

MAX_BODY_BYTES = 20 * rules.MB  # the infrastructure's limit: data URIs of 15 MB fit
SEND_CHUNK = 256 * 1024


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ltxsim/1"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        logger.debug("%s - %s", self.address_string(), format % args)

    @property
    def state(self) -> SimulatorState:
        return self.server.state

    def _start(self):
        self.request_id = uuid.uuid4().hex
        self.started = time.time()
        self.body_read = False
        self._record(self.path.partition("?")[0].removeprefix("/v1/"), None)  # until answered

    def _send_json(self, status: int, document: dict, extra_headers: dict | None = None):
        body = json.dumps(document).encode()
        self._send(status, "application/json", body, extra_headers, close=not self.body_read)

    def _send_error(self, refusal: Refusal):
        headers = {}
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        if refusal.status == 413 or refusal.error_type == "gateway_timeout":
            # These come from the infrastructure, not the API: a plain page, no JSON envelope.
            phrase = HTTPStatus(refusal.status).phrase
            body = (
                f"<html><head><title>{refusal.status} {phrase}</title></head>"
                f"<body><h1>{refusal.status} {phrase}</h1><p>{refusal.message}</p></body></html>"
            ).encode()
            self._send(refusal.status, "text/html", body, headers, close=True)
            return
        self._send_json(
            refusal.status,
            {"type": "error", "error": {"type": refusal.error_type, "message": refusal.message}},
            headers,
        )

    def _send(self, status: int, content_type: str, body: bytes, headers: dict | None, close):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", self.request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _stream_video(self, path, size: int, *, dropped: bool):
        """Answer with the MP4 at `path`. Only its first third is sent when the answer is to
        be lost: the client sees the connection cut mid-body, as when a proxy fails."""
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.send_header("x-request-id", self.request_id)
        if dropped:
            self.send_header("Connection", "close")
        self.end_headers()
        with open(path, "rb") as fh:
            self.connection.sendfile(fh, count=size // 3 if dropped else size)
        if dropped:
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

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
            raise invalid("invalid Content-Length") from None

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

    def _record(self, endpoint: str, status: int | None, error_type: str | None = None, **extra):
        # Noted here, written by the server when the request ends, however it ends: a request
        # whose client went away is in the record too.
        self.noted = {"endpoint": endpoint, "status": status, "error_type": error_type, **extra}

    def _write_record(self, ended: str):
        times = {"request_id": self.request_id, "start": self.started, "end": time.time()}
        times["method"] = self.command
        self.state.record({**self.noted, **times, "ended": ended})

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
        self._record(endpoint, refusal.status, refusal.error_type)
        self._send_error(refusal)
