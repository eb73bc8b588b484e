"""Run the whole app for development: the simulator, a Celery worker, Celery beat (the periodic
sweep) and the web server. A worker or beat that exits is started again; Ctrl-C stops all."""

import os
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from ltxweb.supervisor import Child, Supervisor, worker_command


class Command(BaseCommand):
    help = (
        "Start the LTX-2 simulator, a Celery worker, Celery beat and the web server; a worker "
        "or beat that exits is started again; Ctrl-C stops them all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-concurrency", type=int, default=8)
        parser.add_argument("--noreload", action="store_true")

    def handle(self, *args, **options):
        # Links in emails (notifications sent by the worker) name the port the app runs on.
        os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{options['port']}")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = []
        if settings.LTX_USES_SIMULATOR:
            simulator = [*manage, "ltxsim", "--port", str(settings.LTXSIM_PORT)]
            children.append(Child("simulator", simulator))
        worker = worker_command(concurrency=options["worker_concurrency"])
        children.append(Child("worker", worker, restart=True))
        beat = [sys.executable, "-m", "celery", "-A", "ltxweb", "beat", "--loglevel", "INFO"]
        schedule = str(settings.VAR_DIR / "celerybeat-schedule")
        children.append(Child("beat", [*beat, "--schedule", schedule], restart=True))
        web = [*manage, "runserver", f"127.0.0.1:{options['port']}"]
        if options["noreload"]:
            web.append("--noreload")
        children.append(Child("web", web))

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"ltxweb at http://127.0.0.1:{options['port']}/ — Ctrl-C stops all")
        supervisor = Supervisor(children, cwd=settings.BASE_DIR, say=self.say)
        exit_code = supervisor.run(lambda: stopping)
        self.stdout.write("stopped")
        if exit_code:
            sys.exit(exit_code)

    def say(self, line: str) -> None:
        # Flushed at once: the children write to the same terminal or file, unbuffered.
        out = self.stderr if "exited" in line else self.stdout
        out.write(line)
        out.flush()
