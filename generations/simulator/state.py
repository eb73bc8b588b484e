"""How a simulator is set up (Config, filled from the command line), what its request threads
share behind one lock, and the one way a request fails: raise Refusal, and the handler answers
with the documented status and error envelope."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import math
import os
import random
import secrets
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

from generations.ltx import capabilities, rules
from generations.simulator import DEMO_API_KEY


class Refusal(Exception):
    """An error answer: status, documented type and message (and maybe Retry-After)."""

    def __init__(self, status: int, error_type: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.retry_after = retry_after


def invalid(message: str, status: int = 400) -> Refusal:
    """The refusal of a request the API finds wrong: invalid_request_error."""
    return Refusal(status, "invalid_request_error", message)


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
    job_ttl: float = rules.ASYNC_JOB_TTL_SECONDS  # an async job and its result, once ended
    poll_fail_rate: float = 0.0  # async polls answered 503
    profile: str | None = None  # the capabilities offered; None: the process's own choice


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


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def _profile(value: str) -> str:
    try:
        capabilities.load(value)
    except capabilities.CapabilitiesError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options named as Config's fields, so `config_from_options` can pass them through."""
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
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        dest="rate_limit_per_minute",
        help="requests per minute, as N/min",
    )
    parser.add_argument("--fail-rate", type=_probability, default=0.0)
    parser.add_argument("--fail-status", type=int, choices=(500, 503, 504), default=500)
    parser.add_argument("--credits", type=Decimal, help="account balance in USD (unlimited)")
    parser.add_argument(
        "--filter-words", type=_words, default="", help="comma-separated words to refuse"
    )
    parser.add_argument("--drop-rate", type=_probability, default=0.0)
    parser.add_argument(
        "--record", type=Path, dest="record_path", help="append a JSON line per request here"
    )
    parser.add_argument("--data-dir", type=Path, help="where uploads and renders are kept")
    parser.add_argument(
        "--allow-fetch-host",
        action="append",
        type=_fetch_host,
        default=[],
        dest="allow_fetch_hosts",
        help="an https host whose files may be fetched; HOST=ADDRESS:PORT serves that host "
        "from a local plain-HTTP server (for tests and demos)",
    )
    parser.add_argument("--upload-url-ttl", type=float, default=rules.UPLOAD_URL_TTL_SECONDS)
    parser.add_argument("--file-ttl", type=float, default=rules.UPLOADED_FILE_TTL_SECONDS)
    parser.add_argument("--seed", type=int, help="seed for fault injection")
    parser.add_argument(
        "--job-ttl",
        type=float,
        default=rules.ASYNC_JOB_TTL_SECONDS,
        help="seconds an ended /v2 job and its result are kept (then polls answer 404)",
    )
    parser.add_argument(
        "--poll-fail-rate", type=_probability, default=0.0, help="/v2 polls answered 503"
    )
    parser.add_argument(
        "--profile",
        type=_profile,
        help="the API it plays: contract, current, or a capabilities .toml file "
        "(default: $LTX_CAPABILITIES, else contract)",
    )


def config_from_options(options: dict) -> Config:
    # Django's management command adds options of its own (verbosity...): only ours pass.
    config = Config(**{f.name: options[f.name] for f in fields(Config) if f.name in options})
    config.api_keys = config.api_keys or [os.environ.get("LTXV_API_KEY") or DEMO_API_KEY]
    config.allow_fetch_hosts = dict(config.allow_fetch_hosts)
    return config


@dataclass
class StoredUpload:
    path: Path
    created: float
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
        self.jobs: dict = {}  # /v2 jobs by id (simulator/jobs.py)
        self.random = random.Random(config.seed)
        self.signing_key = secrets.token_bytes(32)
        if config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ltxsim-")
            self.data_dir = Path(self._tmp.name)
        else:
            self.data_dir = config.data_dir
        for folder in ("uploads", "cache", "work", "results"):
            (self.data_dir / folder).mkdir(parents=True, exist_ok=True)
        self.record_lock = threading.Lock()

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
        self.slot_take()
        try:
            yield
        finally:
            self.slot_give()

    def slot_take(self) -> None:
        """One of the account's concurrent generations (an async job holds it until it
        ends), refused with the documented 429 when all are taken."""
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

    def slot_give(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def job(self, job_id: str):
        """A /v2 job, or None once it is past its retention (its result deleted then)."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or not job.expired(time.time(), self.config.job_ttl):
                return job
            del self.jobs[job_id]
        if job.result is not None:
            job.result.unlink(missing_ok=True)
        return None

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
            raise invalid(
                f"{field_name} {storage_uri} was not found: upload a file to its upload_url first"
            )
        if time.time() - stored.created > self.config.file_ttl:
            raise invalid(
                f"{field_name} {storage_uri} has expired: uploaded files are kept for "
                f"{self.config.file_ttl / 3600:g} hours"
            )
        return stored.path

    def record(self, entry: dict) -> None:
        if self.config.record_path is None:
            return
        line = json.dumps(entry, sort_keys=True)
        with self.record_lock, open(self.config.record_path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
