"""The asynchronous `/v2/` endpoints (API-CHANGES.md §1, Beta): a generation accepted at once
with a job id (202) and made in a thread; its status polled with `GET /v2/{endpoint}/{id}`;
its video fetched from a signed URL of the simulator's own storage path, with no API key.
Jobs and results are kept 24 hours after they end (--job-ttl), then polls answer 404."""

from __future__ import annotations

import datetime as dt
import hmac
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from generations.ltx import pricing
from generations.simulator.generation import produce
from generations.simulator.handler import BaseHandler
from generations.simulator.inputs import (
    billed_input_seconds,
    check_filter,
    resolve_inputs,
    validated_request,
)
from generations.simulator.state import Refusal, SimulatorState

RESULTS_PATH = "/storage/results/"


@dataclass
class SimulatedJob:
    job_id: str
    endpoint: str
    api_key: str = field(repr=False)
    created_at: float
    cost: Decimal
    status: str = "pending"
    completed_at: float | None = None
    result: Path | None = None
    error: dict | None = None

    def expired(self, now: float, ttl: float) -> bool:
        return self.completed_at is not None and now - self.completed_at > ttl


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat().replace("+00:00", "Z")


class JobRoutes(BaseHandler):
    """POST /v2/{endpoint}, GET /v2/{endpoint}/{id} and GET of a result's signed URL."""

    def _submit(self, endpoint: str):
        api_key = self._authenticate()
        raw = self._read_body()
        self.state.check_rate_limit(api_key)
        request = validated_request(endpoint, raw)
        work = Path(tempfile.mkdtemp(dir=self.state.data_dir / "work"))
        try:
            inputs = resolve_inputs(self.state, endpoint, request, work)
            cost = pricing.estimate_cost(
                endpoint, request, input_seconds=billed_input_seconds(endpoint, inputs)
            )
            # The job holds one of the account's generation slots from now until it ends.
            self.state.slot_take()
            try:
                self.state.reserve_credits(cost)
            except Refusal:
                self.state.slot_give()
                raise
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        job = SimulatedJob(uuid.uuid4().hex, endpoint, api_key, time.time(), cost)
        with self.state.lock:
            self.state.jobs[job.job_id] = job
        threading.Thread(
            target=_make, args=(self.state, job, request, inputs, work), daemon=True
        ).start()
        self._record(endpoint, 202, None, api="v2", job_id=job.job_id, cost=str(cost))
        self._send_json(202, {"id": job.job_id, "created_at": _iso(job.created_at)})

    def _poll(self, endpoint: str, job_id: str):
        api_key = self._authenticate()
        self._record("job-status", None, api="v2", job_id=job_id)
        config = self.state.config
        if self.state.chance(config.poll_fail_rate):
            raise Refusal(503, "service_unavailable", "Service temporarily unavailable")
        job = self.state.job(job_id)
        # Another account's job, or one asked about under another endpoint, is not there.
        if job is None or job.endpoint != endpoint or job.api_key != api_key:
            raise Refusal(404, "not_found_error", f"Job {job_id} not found")
        document = {
            "id": job.job_id,
            "status": job.status,
            "created_at": _iso(job.created_at),
            "completed_at": _iso(job.completed_at),
        }
        if job.status == "completed":
            expires = int(job.completed_at + config.job_ttl)
            signature = self.state.sign(f"results/{job.job_id}", expires)
            base = self.server.public_url
            document["result"] = {
                "video_url": f"{base}{RESULTS_PATH}{job.job_id}.mp4"
                f"?expires={expires}&signature={signature}"
            }
        elif job.status == "failed":
            document["error"] = job.error
        self._record("job-status", 200, None, api="v2", job_id=job_id, job_status=job.status)
        self._send_json(200, document)

    def _send_result(self):
        parts = urlsplit(self.path)
        job_id = parts.path.removeprefix(RESULTS_PATH).removesuffix(".mp4")
        self._record("result", None, job_id=job_id)
        if self.headers.get("Authorization"):
            # As cloud storage answers a signed URL sent with a second credential.
            raise Refusal(
                400, "invalid_request_error", "Only one auth mechanism allowed: the signed URL"
            )
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError):
            raise Refusal(403, "permission_error", "This URL is not signed") from None
        expected = self.state.sign(f"results/{job_id}", expires)
        if not hmac.compare_digest(signature, expected) or expires < time.time():
            raise Refusal(403, "permission_error", "The signature is invalid or has expired")
        job = self.state.job(job_id)
        if job is None or job.result is None:
            raise Refusal(404, "not_found_error", "No such result")
        size = job.result.stat().st_size
        dropped = self.state.chance(self.state.config.drop_rate)
        self._record("result", 200, None, job_id=job_id, dropped=dropped, size=size)
        self._stream_video(job.result, size, dropped=dropped)


def _make(state: SimulatorState, job: SimulatedJob, request: dict, inputs: dict, work: Path):
    """The job's life in its thread: processing, then completed or failed (the failure the
    sync endpoint would have answered, as the job's `error`; its credits given back)."""
    job.status = "processing"
    outcome = "completed"
    try:
        check_filter(request, state.config.filter_words)
        output = produce(state, job.endpoint, request, inputs, work)
        result = state.data_dir / "results" / f"{job.job_id}.mp4"
        shutil.move(output, result)
        job.result = result
    except Refusal as refusal:
        outcome = "failed"
        job.error = {"type": refusal.error_type, "message": refusal.message}
        state.refund_credits(job.cost)
    except Exception as exc:  # a bug of ours: still a failed job, never one stuck processing
        outcome = "failed"
        job.error = {"type": "api_error", "message": f"Internal error: {type(exc).__name__}"}
        state.refund_credits(job.cost)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        state.slot_give()
        job.completed_at = time.time()
        job.status = outcome
    state.record(
        {
            "endpoint": "job",
            "api": "v2",
            "job_id": job.job_id,
            "job_status": job.status,
            "error_type": (job.error or {}).get("type"),
            "cost": str(job.cost) if outcome == "completed" else "0",
            "end": job.completed_at,
        }
    )
