"""How a simulator is set up: the Config a server starts from, and the command-line
options (`python -m generations.simulator`, `manage.py ltxsim`) that fill it."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from generations.ltx import rules
from generations.simulator import DEMO_API_KEY


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
