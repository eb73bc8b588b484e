"""ltxsim: a local server of the LTX-2 API that behaves as its docs say.

Its endpoints, authentication, validation (the client's own `rules`), errors, limits and MP4
answers are the documented ones, and load and faults can be injected. No Django imports.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from generations.ltx import capabilities
from generations.simulator.generation import GenerationRoutes
from generations.simulator.handler import logger
from generations.simulator.jobs import RESULTS_PATH, JobRoutes
from generations.simulator.state import (
    Config,
    Refusal,
    SimulatorState,
    add_arguments,
    config_from_options,
)
from generations.simulator.uploads import UploadRoutes

ENDPOINTS = set(capabilities.ALL_ENDPOINTS)


class Handler(UploadRoutes, GenerationRoutes, JobRoutes):
    """Routes each request to its endpoint; the endpoints live in uploads.py,
    generation.py and jobs.py (the asynchronous /v2/ ones), the plumbing they share in
    handler.py."""

    server: SimulatorServer

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
        ended = "failed"  # an error other than the client going away
        try:
            method()
            ended = "answered"
        except (BrokenPipeError, ConnectionResetError):
            ended = "client disconnected"
            self.close_connection = True
        finally:
            self._write_record(ended)
            with self.state.lock:
                self.state.active_requests -= 1

    def _post(self):
        path = urlsplit(self.path).path
        version, _, endpoint = path.removeprefix("/").partition("/")
        # An endpoint the profile played does not describe (extend under the contract) is
        # not there, as on the API the profile describes. Uploads are v1 only.
        offered = _offered(endpoint) or (version == "v1" and endpoint == "upload")
        if version not in ("v1", "v2") or not offered:
            refusal = Refusal(404, "not_found_error", f"No such endpoint: POST {path}")
            self._refuse(endpoint, refusal)
            return
        try:
            if endpoint == "upload":
                self._create_upload()
            elif version == "v2":
                self._submit(endpoint)
            else:
                self._generate(endpoint)
        except Refusal as refusal:
            self._refuse(endpoint, refusal)

    def _put(self):
        self._record("storage", None)  # until answered
        try:
            self._receive_upload()
        except Refusal as refusal:
            self._refuse("storage", refusal)

    def _get(self):
        self.body_read = True
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._record("healthz", 200)
            self._send_json(200, {"status": "ok", "simulator": True})
            return
        endpoint, _, job_id = path.removeprefix("/v2/").partition("/")
        try:
            if path.startswith(RESULTS_PATH):
                self._send_result()
                return
            if path.startswith("/v2/") and _offered(endpoint) and job_id and "/" not in job_id:
                self._poll(endpoint, job_id)
                return
        except Refusal as refusal:
            self._refuse(self.noted["endpoint"], refusal)
            return
        self._refuse("get", Refusal(404, "not_found_error", f"No such endpoint: GET {path}"))


def _offered(endpoint: str) -> bool:
    return endpoint in ENDPOINTS and capabilities.active().offers_endpoint(endpoint)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, config: Config):
        self.state = SimulatorState(config)
        super().__init__((config.host, config.port), Handler)
        host, port = self.server_address[:2]
        self.public_url = (config.public_url or f"http://{host}:{port}").rstrip("/")


def serve(config: Config) -> None:
    if config.profile:
        capabilities.choose(lambda: config.profile)
    server = SimulatorServer(config)
    logger.info(
        "ltxsim serving the LTX-2 API at %s (%d key(s) accepted)",
        server.public_url,
        len(config.api_keys),
    )
    print(f"ltxsim: LTX-2 API simulator at {server.public_url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _profile_from_environment(parser: argparse.ArgumentParser) -> str:
    try:
        capabilities.load(os.environ["LTX_CAPABILITIES"])
    except capabilities.CapabilitiesError as exc:
        parser.error(str(exc))
    return os.environ["LTX_CAPABILITIES"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ltxsim", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    # Run on its own, it plays the API the app beside it was told of.
    if options["profile"] is None and os.environ.get("LTX_CAPABILITIES"):
        options["profile"] = _profile_from_environment(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s ltxsim %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(config_from_options(options))
