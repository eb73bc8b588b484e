"""`make run`'s last step: the simulator, a real Celery worker, beat and the web server together,
a worker that dies started again."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=60, what="it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url):
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.ConnectionError:
        return False


def test_runall_serves_the_site_with_simulator_and_worker(tmp_path):
    web_port, sim_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "LTXWEB_VAR_DIR": str(tmp_path),
        "LTXSIM_PORT": str(sim_port),
        "DEBUG": "true",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    seeded = subprocess.run(
        [*manage, "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    username, password = re.search(r"username '(\w+)', password '([^']+)'", seeded.stdout).groups()
    assert "ltxsim-demo-key" in seeded.stdout

    log = tmp_path / "runall.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*manage, "runall", "--port", str(web_port), "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        site = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: answers(f"{site}/login/"), what="the web server")
        wait_for(lambda: answers(f"http://127.0.0.1:{sim_port}/healthz"), what="the simulator")
        wait_for(lambda: "ready." in log.read_text(), what="the Celery worker")

        session = requests.Session()
        login_page = session.get(f"{site}/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
        home = session.post(
            f"{site}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{site}/login/"},
        )
        assert home.status_code == 200
        assert "Demo project" in home.text
        status = session.get(f"{site}/status/ltx-api/")
        assert "Answering" in status.text and f":{sim_port}" in status.text
        assert "ltxsim-demo-key" not in home.text + status.text
        wait_for(lambda: "beat: Starting" in log.read_text(), what="Celery beat (the sweep)")

        # A worker that dies is started again, and the new one gets ready.
        [worker_pid] = re.findall(r"started worker \(pid (\d+)\)", log.read_text())
        # Links in the worker's emails name the port the app runs on.
        environ = Path(f"/proc/{worker_pid}/environ").read_bytes().split(b"\0")
        assert f"SITE_URL={site}".encode() in environ
        os.kill(int(worker_pid), signal.SIGKILL)
        wait_for(
            lambda: len(re.findall(r"started worker \(pid (\d+)\)", log.read_text())) == 2,
            what="the worker to be started again",
        )
        assert "worker exited with code -9; restarting it in 1 s" in log.read_text()
        wait_for(lambda: log.read_text().count("ready.") == 2, what="the new worker")
        assert process.poll() is None  # the rest kept running
        assert answers(f"{site}/login/")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert "stopped" in log.read_text()
    for port in (web_port, sim_port):
        assert not answers(f"http://127.0.0.1:{port}/"), f"port {port} still answers"
