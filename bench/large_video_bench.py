"""Storing a large video: a 100 MB MP4 from the API to S3 (moto) and to files.

    .venv/bin/python bench/large_video_bench.py
    .venv/bin/python bench/large_video_bench.py --megabytes 100 --repeat 3

Makes a real ~100 MB MP4 once (1080p noise, lossless H.264, so it cannot be compressed
away), serves it from a tiny local HTTP server that answers POST /v1/text-to-video as the
API does, and moves it the way a worker does: jobs.store.video_receive() streams it into
the storage's staging area (the download), then jobs.store.generation_store() reads it back,
checks it, remuxes it
with its provenance tags and the index first, hashes it, makes the poster and saves both
to the storage (FileSystemStorage, or S3Storage on a moto server on loopback).

Targets (issue 19): storing adds at most 2 s beyond the download, and the worker grows by
less than 64 MB. "Storing" is generation_store's wall time; for comparison, "plain save"
is the storage saving the same bytes with no app code (a file copy, or boto3's upload_file
to the same moto server). Each target runs in its own process; the memory growth is its
peak RSS (VmHWM, reset before each run) above its RSS before, over download and storing,
and tracemalloc's peak for Python's own allocations in a separate, untimed run. CPU is the
child process's, all threads (the API server is the parent's).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

BUCKET = "ltxweb-bench"
S3_KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing-secret"}
CHUNK = 1024 * 1024
TARGET_STORE_S = 2.0
TARGET_GROWTH_MB = 64
REQUEST = {
    "prompt": "Static on an old television, very close",
    "model": "ltx-2-fast",
    "duration": 6,
    "resolution": "1920x1080",
    "fps": 25,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    load = os.getloadavg()[0]  # other work on the machine shows in every figure below
    with tempfile.TemporaryDirectory(prefix="ltxweb-bench-") as tmp:
        tmp = Path(tmp)
        video = tmp / "large.mp4"
        made = time.monotonic()
        make_video(video, args.megabytes)
        made = time.monotonic() - made
        api = ApiServer(video)
        moto = Moto()
        try:
            results = {}
            for target in ("filesystem", "s3"):
                env = _common.base_env(tmp / f"var-{target}", LOG_LEVEL="WARNING")
                if target == "s3":
                    env.update(
                        S3_BUCKET=BUCKET,
                        S3_ENDPOINT_URL=moto.url,
                        S3_REGION="us-east-1",
                        **S3_KEYS,
                    )
                results[target] = _common.run_json(
                    [
                        str(Path(__file__).resolve()),
                        "--child",
                        target,
                        "--video",
                        str(video),
                        "--api",
                        api.url,
                        "--repeat",
                        str(args.repeat),
                    ],
                    env,
                )
        finally:
            api.close()
            moto.close()
        size_mb = video.stat().st_size / 2**20 if video.exists() else 0
    print(f"machine: {_common.machine()}")
    print(
        f"large_video_bench: a {size_mb:.0f} MB MP4 (made in {made:.0f} s), {args.repeat} runs "
        "per target, medians; download = LTXClient.generate, storing = generation_store; "
        f"load average {load:.1f} at the start\n"
    )
    rows = []
    for target, r in results.items():
        rows.append(
            [
                target,
                f"{r['download_s']:.2f}",
                f"{r['store_s']:.2f}",
                f"{r['plain_s']:.2f}",
                f"{r['store_cpu_s']:.2f}",
                f"{r['growth_mb']:.1f}",
                f"{r['traced_peak_mb']:.1f}",
            ]
        )
    print(
        _common.table(
            [
                "target",
                "download s",
                "storing s",
                "plain save s",
                "storing CPU s",
                "RSS growth MB (VmHWM)",
                "tracemalloc peak MB",
            ],
            rows,
        )
    )
    for target, r in results.items():
        print(
            f"{target}: storing within {TARGET_STORE_S:g} s of the download: "
            f"{'yes' if r['store_s'] <= TARGET_STORE_S else 'NO'}; growth under "
            f"{TARGET_GROWTH_MB} MB: {'yes' if r['growth_mb'] < TARGET_GROWTH_MB else 'NO'}"
        )


# -- the 100 MB video, and an API that serves it -------------------------------------------


def make_video(path: Path, megabytes: int) -> None:
    """1080p25 frames of noise, lossless H.264: about 3 MB a frame that no encoder shrinks."""
    import av

    width, height = 1920, 1080
    luma, chroma = width * height, (width // 2) * (height // 2)
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        written, index = 0, 0
        while written < megabytes * 10**6:
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane, size in zip(frame.planes, (luma, chroma, chroma), strict=True):
                plane.update(os.urandom(size))
            frame.pts = index
            index += 1
            for packet in stream.encode(frame):
                written += packet.size
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


class _ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, video: Path, **kwargs):
        self.video = video
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        size = self.video.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.send_header("x-request-id", uuid.uuid4().hex)
        self.end_headers()
        with open(self.video, "rb") as fh:
            shutil.copyfileobj(fh, self.wfile, CHUNK)


class ApiServer:
    def __init__(self, video: Path):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_ApiHandler, video=video))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Moto:
    """moto's S3 server on a free loopback port, with the bucket made."""

    def __init__(self):
        import requests

        port = _common.free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        _s3(self.url).create_bucket(Bucket=BUCKET)

    def close(self):
        _common.stop(self.process)


def _s3(url: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["S3_SECRET_ACCESS_KEY"],
    )


# -- the child: one storage target ---------------------------------------------------------


def child(args) -> dict:
    _common.django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from generations.jobs import store as job_store
    from generations.jobs.models import Endpoint, Generation, JobState
    from generations.ltx.client import LTXClient
    from generations.ltx.schemas import TextToVideo
    from generations.projects.models import Project

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    project = Project.objects.create(name="Large videos", created_by=user)
    client = LTXClient(args.api, "bench-key")
    pid = os.getpid()

    def app_path() -> tuple[float, float, float]:
        """Download and store one video: seconds downloading, seconds and CPU storing."""
        generation = Generation.objects.create(
            project=project,
            requested_by=user,
            endpoint=Endpoint.TEXT_TO_VIDEO,
            params=REQUEST,
            state=JobState.STORING,
            estimated_cost="0.24",
        )
        start = time.perf_counter()
        job_store.video_receive(
            generation=generation, client=client, request=TextToVideo(**REQUEST)
        )
        downloaded, cpu = time.perf_counter(), time.process_time()
        job_store.generation_store(generation_id=generation.pk)
        stored, cpu = time.perf_counter(), time.process_time() - cpu
        generation.refresh_from_db()
        assert generation.state == JobState.SUCCEEDED, generation.error_message
        return downloaded - start, stored - downloaded, cpu

    s3 = None
    if args.child == "s3":
        s3 = _s3(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])

    def plain_save() -> float:
        """The same bytes saved to the same storage with no app code."""
        start = time.perf_counter()
        if s3 is not None:
            s3.upload_file(args.video, BUCKET, f"plain/{uuid.uuid4().hex}.mp4")
        else:
            shutil.copyfile(args.video, Path(settings.MEDIA_ROOT) / f"{uuid.uuid4().hex}.mp4")
        return time.perf_counter() - start

    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    app_path()  # warm-up: imports, connections, the bucket's first object
    plain_save()
    runs, growth, plain = [], [], []
    for _ in range(args.repeat):  # interleaved, so that noise falls on both alike
        gc.collect()
        _common.reset_hwm(pid)
        before = _common.vm_rss_bytes(pid)
        runs.append(app_path())
        growth.append((_common.vm_hwm_bytes(pid) - before) / 2**20)
        plain.append(plain_save())
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(app_path)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    tracemalloc.start()
    app_path()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "download_s": _common.median([d for d, _, _ in runs]),
        "store_s": _common.median([s for _, s, _ in runs]),
        "store_cpu_s": _common.median([c for _, _, c in runs]),
        "plain_s": _common.median(plain),
        "growth_mb": max(growth),
        "traced_peak_mb": traced_peak / 2**20,
    }


if __name__ == "__main__":
    main()
