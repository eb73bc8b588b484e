"""Run the whole app for development: the simulator, a Celery worker and the web server."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the LTX-2 simulator, a Celery worker and the web server; Ctrl-C stops them."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-concurrency", type=int, default=8)
        parser.add_argument("--noreload", action="store_true")

    def handle(self, *args, **options):
        python = sys.executable
        manage = [python, str(settings.BASE_DIR / "manage.py")]
        commands = []
        if settings.LTX_USES_SIMULATOR:
            commands.append(("simulator", [*manage, "ltxsim", "--port", str(settings.LTXSIM_PORT)]))
        worker = [python, "-m", "celery", "-A", "ltxweb", "worker", "--pool", "threads"]
        concurrency = str(options["worker_concurrency"])
        commands.append(("worker", [*worker, "--concurrency", concurrency, "--loglevel", "INFO"]))
        web = [*manage, "runserver", f"127.0.0.1:{options['port']}"]
        if options["noreload"]:
            web.append("--noreload")
        commands.append(("web", web))

        processes = []
        for name, command in commands:
            # Own process groups: Ctrl-C reaches us once, and we stop the children in order.
            process = subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)
            processes.append((name, process))
            self.stdout.write(f"started {name} (pid {process.pid})")
        self.stdout.write(f"ltxweb at http://127.0.0.1:{options['port']}/ — Ctrl-C stops all")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes:
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.3)
        for _name, process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.stdout.write("stopped")
        if exit_code:
            sys.exit(exit_code)
