"""A small process supervisor for `manage.py runall` (and the tests that run its loop): starts
its children, restarts those marked for it when they exit, with a growing wait between tries,
and stops all when told to or when a child not marked for it exits. No Django."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

# A crashed child waits this long before it is started again, doubled at each crash in a row
# and capped, so a child that cannot start does not spin; one that ran a while starts afresh.
RESTART_FIRST_WAIT = 1.0
RESTART_MAX_WAIT = 30.0
RESTART_RESET_AFTER = 60.0


@dataclass
class Child:
    name: str
    command: list[str]
    restart: bool = False  # started again when it exits; otherwise its exit stops everything
    env: dict[str, str] | None = None
    stdout: object = None  # a file for its output; None: the supervisor's own
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    wait: float = RESTART_FIRST_WAIT
    due: float | None = None  # when an exited child is started again


class Supervisor:
    def __init__(self, children: list[Child], *, cwd, say: Callable[[str], None] = print):
        self.children = children
        self.cwd = cwd
        self.say = say

    def start(self, child: Child) -> None:
        # Own process groups: Ctrl-C reaches the supervisor once, and it stops them in order.
        child.process = subprocess.Popen(
            child.command,
            cwd=self.cwd,
            env=child.env,
            stdout=child.stdout,
            stderr=subprocess.STDOUT if child.stdout else None,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.due = None
        self.say(f"started {child.name} (pid {child.process.pid})")

    def check(self) -> int | None:
        """One look at the children: those due are started again, those that exited are
        given a time to be; returns None, or the exit code to stop everything with."""
        now = time.monotonic()
        for child in self.children:
            if child.due is not None:
                if now >= child.due:
                    self.start(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            if not child.restart:
                self.say(f"{child.name} exited with code {code}; stopping")
                return code or 1
            if now - child.started_at > RESTART_RESET_AFTER:
                child.wait = RESTART_FIRST_WAIT
            self.say(f"{child.name} exited with code {code}; restarting it in {child.wait:g} s")
            child.due = now + child.wait
            child.wait = min(child.wait * 2, RESTART_MAX_WAIT)
        return None

    def run(self, stopping: Callable[[], bool], *, interval: float = 0.3) -> int:
        """Start every child and watch them until `stopping()` or a child that is not to be
        restarted exits; then stop them all. Returns the exit code."""
        for child in self.children:
            self.start(child)
        code = None
        try:
            while code is None and not stopping():
                time.sleep(interval)
                code = self.check()
        finally:
            self.stop_all()
        return code or 0

    def stop_all(self, timeout: float = 10) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in reversed(running):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def worker_command(*, concurrency: int, extra: tuple[str, ...] = ()) -> list[str]:
    """The Celery worker as runall and docker-compose.yml start it: the threads pool, without
    mingle and gossip, which the app does not use and which need a broadcast the embedded
    broker lacks; remote control (`celery inspect ping`) stays on."""
    return [
        sys.executable,
        *("-m", "celery", "-A", "ltxweb", "worker", "--pool", "threads"),
        *("--concurrency", str(concurrency), "--loglevel", "INFO"),
        *("--without-mingle", "--without-gossip"),
        *extra,
    ]
