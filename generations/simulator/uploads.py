"""/v1/upload and the signed upload URLs it hands out, as the API's docs describe them."""

from __future__ import annotations

import hmac
import os
import time
from urllib.parse import parse_qs, urlsplit

from generations.ltx import rules
from generations.simulator.handler import SEND_CHUNK, BaseHandler
from generations.simulator.state import Refusal, invalid

UPLOAD_SIZE_HEADER = "x-goog-content-length-range"


class UploadRoutes(BaseHandler):
    """POST /v1/upload answers with a signed URL; PUT to that URL stores the file."""

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
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "required_headers": {UPLOAD_SIZE_HEADER: f"0,{rules.UPLOAD_MAX_BYTES}"},
        }
        self._record("upload", 200)
        self._send_json(200, document)

    def _receive_upload(self):
        parts = urlsplit(self.path)
        upload_id = parts.path.removeprefix("/storage/uploads/")
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError, IndexError):
            raise invalid("The upload URL is not signed", 403) from None
        if not hmac.compare_digest(signature, self.state.sign(upload_id, expires)):
            raise invalid("The upload URL's signature is invalid", 403)
        if time.time() > expires:
            raise invalid(
                "The upload URL has expired: upload URLs are valid for "
                f"{self.state.config.upload_url_ttl / 3600:g} hour(s); request a new one",
                403,
            )
        with self.state.lock:
            stored = self.state.uploads.get(upload_id)
        if stored is None:
            raise invalid("No such upload", 404)
        if self.headers.get(UPLOAD_SIZE_HEADER) != f"0,{rules.UPLOAD_MAX_BYTES}":
            raise invalid(f"The upload must carry the required header {UPLOAD_SIZE_HEADER}")
        if not self.headers.get("Content-Type"):
            raise invalid("The upload needs a Content-Type header")
        length = self._content_length()
        if length > rules.UPLOAD_MAX_BYTES:
            raise Refusal(
                413,
                "request_too_large",
                f"The file is {length} bytes; uploads are limited to "
                f"{rules.UPLOAD_MAX_BYTES} bytes",
            )
        if length == 0:
            raise invalid("The upload is empty")
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
            raise ConnectionResetError("the client stopped sending the file")
        os.replace(tmp, stored.path)
        with self.state.lock:
            stored.complete = True
        self._record("storage", 200, size=length)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("x-request-id", self.request_id)
        self.end_headers()
