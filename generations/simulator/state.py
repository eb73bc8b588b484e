"""What request threads share: limits in force, credits, uploads and the record, behind
one lock."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import random
import secrets
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from generations.simulator.config import Config
from generations.simulator.errors import Refusal


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
